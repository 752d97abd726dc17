// cert-expiry configuration: the agents' certificate probes (agent.probes.certs).
import { z } from 'zod';

const DAY = 86_400_000;

export const certExpiryConfig = z
  .strictObject({
    warnWithinMs: z.number().int().positive().default(30 * DAY),
    criticalWithinMs: z.number().int().positive().default(7 * DAY),
    metric: z.string().default('cert_expiry_seconds'),
    /** "remaining": seconds until notAfter at the sample's time; "timestamp": notAfter as epoch seconds. */
    valueIs: z.enum(['remaining', 'timestamp']).default('remaining'),
    freshMs: z.number().int().positive().default(2 * 60_000),
  })
  .refine((c) => c.criticalWithinMs <= c.warnWithinMs, { message: 'must not exceed warnWithinMs', path: ['criticalWithinMs'] });

export type CertExpiryConfig = z.output<typeof certExpiryConfig>;
