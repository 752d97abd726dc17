// pod-restart-storm configuration: a container restarting `crashLoopRestarts` times within
// `windowMs` is crash-looping (like kubelet's CrashLoopBackOff); `stormMinPods` pods restarting in
// the same window are one storm, reported as one finding.
import { z } from 'zod';

export const podRestartStormConfig = z.strictObject({
  windowMs: z.number().int().positive().default(10 * 60_000),
  crashLoopRestarts: z.number().int().min(1).default(3),
  /** A pod with at least this many restarts in the window counts towards a storm. */
  stormPodRestarts: z.number().int().min(1).default(1),
  stormMinPods: z.number().int().min(2).default(5),
  /** How many pods / values an evidence list names at most. */
  maxListed: z.number().int().min(1).default(20),
  /** Kubernetes data older than this is not judged. */
  staleMs: z.number().int().positive().default(15 * 60_000),
});

export type PodRestartStormConfig = z.output<typeof podRestartStormConfig>;
