// The pipeline stages `whistle start` runs beyond ingest, in start order (downstream first).
import type { Extension } from './whistle.ts';

export function builtinExtensions(): Extension[] {
  return [];
}
