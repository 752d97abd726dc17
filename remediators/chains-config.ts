// `remediation.chains`: per detector id, the remediators that take its incidents in turn. The last
// step is always a person (the escalation ticket); it is not written.
import { z } from 'zod';

export const chainStep = z.strictObject({
  /** A built-in remediator's id (service-restart, disk-cleanup, ...). */
  remediator: z.string().min(1),
  /** The step must verify within this long after it acted, or the next step takes over. */
  timeoutMs: z.number().int().positive().optional(),
});

export type ChainStep = z.output<typeof chainStep>;

export const chainsSchema = z.record(z.string().min(1), z.array(chainStep).min(1, 'needs at least one step')).default({});
