// rollout-rollback configuration (`remediation.rolloutRollback`; `enabled` is added by the stage).
// Nothing here makes it act alone: a rollback always waits for a person's approval.
import { z } from 'zod';

export const rolloutRollbackConfig = z.strictObject({
  /** After the rollback, how long the Deployment may take to be available again with its restarts stopped. */
  verifyTimeoutMs: z.number().int().positive().default(300_000),
  /** No container of the rolled-back pods may restart for this long, every replica available, before it counts. */
  quietForMs: z.number().int().positive().default(60_000),
  verifyIntervalMs: z.number().int().positive().default(1_000),
});

export type RolloutRollbackConfig = z.output<typeof rolloutRollbackConfig>;
