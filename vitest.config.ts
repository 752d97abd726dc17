import { defineConfig } from 'vitest/config';

// Each test file runs in its own forked process: chDB allows one session per data directory per
// process, and the harness-started servers are per file.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '**/*.unit.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
