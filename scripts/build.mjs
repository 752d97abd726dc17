// Bundles Whistle's own TypeScript into dist/whistle.mjs (npm packages stay external), run by
// `npm install` through the `prepare` script. The bundle starts faster and uses about
// 90 MB less memory than loading the sources through tsx; bin/whistle.js uses it only while it is
// newer than every source file, so a stale bundle is never run.
import { build } from 'esbuild';

await build({
  entryPoints: ['cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: 'dist/whistle.mjs',
  sourcemap: true,
  logLevel: 'warning',
});
