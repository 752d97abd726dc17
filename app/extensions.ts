// The pipeline stages `whistle start` runs beyond ingest, in start order (downstream first).
import { kafkaExtension } from '../ingest/kafka/extension.ts';
import type { Extension } from './whistle.ts';

export function builtinExtensions(): Extension[] {
  // Adds nothing unless `kafka.enabled` (scale-out transport).
  return [kafkaExtension()];
}
