#!/usr/bin/env node
// The `whistle` executable. Whistle is written in TypeScript and run through tsx's loader, so a fresh
// clone needs `npm ci` and nothing else: no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
