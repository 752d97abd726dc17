// Where the console's static files are: its own (console/static/, found the same way from the
// sources and from the bundle in dist/) and uPlot's, from its package.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STATIC_DIR = fileURLToPath(new URL('../console/static/', import.meta.url));
export const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
