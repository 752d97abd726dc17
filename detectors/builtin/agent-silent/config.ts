// agent-silent configuration: a registered, authorized node that has sent nothing for `intervals`
// agent intervals is silent; after `criticalAfterMs` the finding becomes critical.
import { z } from 'zod';

export const agentSilentConfig = z
  .strictObject({
    /** The agents' upload interval (agent.intervalMs on the nodes). */
    intervalMs: z.number().int().positive().default(10_000),
    intervals: z.number().int().min(1).default(3),
    criticalAfterMs: z.number().int().positive().default(5 * 60_000),
    /** How far back the last sample of a silent node is looked up for the evidence. */
    lookbackMs: z.number().int().positive().default(24 * 3_600_000),
  })
  .refine((c) => c.criticalAfterMs >= c.intervalMs * c.intervals, { message: 'must be at least intervalMs * intervals', path: ['criticalAfterMs'] });

export type AgentSilentConfig = z.output<typeof agentSilentConfig>;
