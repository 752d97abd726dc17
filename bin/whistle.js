#!/usr/bin/env node
// The `whistle` executable. Runs the bundle `npm install` builds (dist/whistle.mjs, see scripts/build.mjs)
// when it is newer than every source file; otherwise the TypeScript sources through tsx's loader,
// so an edit is never hidden behind a stale bundle and a fresh clone needs nothing but `npm install`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'whistle.mjs');
const SOURCE_DIRS = ['app', 'core', 'store', 'ingest', 'agent', 'detectors', 'remediators', 'bootstrap', 'dashboards', 'console', 'cli'];

function newestSource(dir, newest = 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(path, newest);
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  if (process.env.WHISTLE_FROM_SOURCE || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  return SOURCE_DIRS.every((d) => !existsSync(join(root, d)) || newestSource(join(root, d)) <= built);
}

let main;
if (bundleIsFresh()) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
await main(process.argv);
