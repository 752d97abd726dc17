// Lint rules: the recommended sets, plus "no floating promises" because a dropped promise in a
// writer or notifier is exactly how accepted data gets lost silently.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', '.cache/**', 'test/harness/kube/go/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  // The console's script runs in the browser (served as a static file: the CSP allows no inline script).
  {
    files: ['console/static/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly', EventSource: 'readonly', DOMParser: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', uPlot: 'readonly', URL: 'readonly' },
    },
  },
);
