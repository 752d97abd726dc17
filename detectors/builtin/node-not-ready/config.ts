// node-not-ready configuration: from the Kubernetes node conditions the watchers ingest.
import { z } from 'zod';

export const nodeNotReadyConfig = z.strictObject({
  /** Ready must have been False/Unknown for at least this long (since its lastTransitionTime). */
  forMs: z.number().int().nonnegative().default(60_000),
  /** Conditions that raise a warning while True. */
  pressureConditions: z.array(z.string().min(1)).default(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable']),
  /** Kubernetes data older than this is not judged (the watcher may be down; nothing is known). */
  staleMs: z.number().int().positive().default(15 * 60_000),
});

export type NodeNotReadyConfig = z.output<typeof nodeNotReadyConfig>;
