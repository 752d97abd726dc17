// The samples writer's section (`writer:`): batching, the queue bound, the disk spool.
import { z } from 'zod';

export const writerSchema = z.strictObject({
  /** Rows per insert. Larger batches barely raise chDB's insert rate but raise its peak memory. */
  batchSize: z.number().int().positive().default(25_000),
  flushIntervalMs: z.number().int().positive().default(500),
  /** Queue bound in samples; beyond it ingest answers 429 with Retry-After. */
  maxQueueSamples: z.number().int().positive().default(200_000),
  /** Where batches go while the store is down; replayed in order when it returns. */
  spoolDir: z.string().default('./data/spool'),
  /** Beyond this much on disk, the writer stops spooling and ingest answers 429. */
  maxSpoolBytes: z.number().int().positive().default(4 * 1024 * 1024 * 1024),
  retryInitialMs: z.number().int().positive().default(200),
  retryMaxMs: z.number().int().positive().default(10_000),
});

export type WriterConfig = z.infer<typeof writerSchema>;
