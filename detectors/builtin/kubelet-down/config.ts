// kubelet-down configuration: the agent's HTTP probe of the kubelet's healthz, named by `probeName`.
import { z } from 'zod';

export const kubeletDownConfig = z
  .strictObject({
    metric: z.string().default('probe_http_up'),
    /** Value of the probe's `probe` label (agent.probes.http[].name). */
    probeName: z.string().min(1).default('kubelet'),
    /**
     * The probe must have been failing for at least this long: since its last success, or, with no
     * success in the lookback, since the probe was first reported in it.
     */
    forMs: z.number().int().nonnegative().default(30_000),
    /** Only probes reported within this window are judged (an agent gone quiet is agent-silent's finding). */
    freshMs: z.number().int().positive().default(60_000),
    lookbackMs: z.number().int().positive().default(5 * 60_000),
  })
  .refine((c) => c.lookbackMs >= c.freshMs, { message: 'must be at least freshMs', path: ['lookbackMs'] });

export type KubeletDownConfig = z.output<typeof kubeletDownConfig>;
