// disk-cleanup configuration (`remediation.diskCleanup`; `enabled` is added by the stage). Which
// files may go is the node's own `agent.tasks.diskCleanup`; the plane only says how far to go.
import { z } from 'zod';

export const diskCleanupConfig = z.strictObject({
  /**
   * The cleanup stops once the filesystem is below this much used. Keep it under the low-disk
   * detector's `warnPercent` (85 by default), with room to spare, or the detector fires again soon.
   */
  targetUsedPercent: z.number().gt(0).lt(100).default(75),
  /** How long the node's agent may take to run its cleanup steps (its own `agent.tasks.taskTimeoutMs` also bounds it). */
  taskTimeoutMs: z.number().int().positive().default(150_000),
  /** After the cleanup, how long to wait for a sample newer than it showing the filesystem under the target. */
  verifyTimeoutMs: z.number().int().positive().default(60_000),
  /** Poll for that sample this often. */
  verifyIntervalMs: z.number().int().positive().default(500),
});

export type DiskCleanupRemediatorConfig = z.output<typeof diskCleanupConfig>;
