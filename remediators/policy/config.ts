// The policy part of the `remediation` config section: the rules every remediator runs under.
// Each remediator's own settings sit beside these, under its id (remediators/config.ts).
import { z } from 'zod';

const maxUnhealthy = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d{1,3}%$/, 'must be a count or a percentage like "40%"'),
]);

export const policyFields = {
  /** Plan and record, change nothing. */
  dryRun: z.boolean().default(false),
  /** At most `maxActions` remediations per cluster per `windowS`. */
  rateLimit: z
    .strictObject({
      maxActions: z.number().int().positive().default(3),
      windowS: z.number().int().positive().default(600),
    })
    .prefault({}),
  /**
   * How long a claim on a target (an action's `started` row) holds it without a row after it, on top
   * of the chain step's timeout: a worker that died mid-action and was never restarted frees its
   * targets after this. Longer than any action takes (a drain waits up to 300 s by default).
   */
  leaseS: z.number().int().positive().default(1800),
  /** Above this many broken subjects at once, do nothing and record TooManyUnhealthy. */
  maxUnhealthy: maxUnhealthy.default('40%'),
};

export const policySchema = z.strictObject(policyFields).prefault({});

export type PolicyConfig = z.output<typeof policySchema>;

/** `maxUnhealthy` as an absolute count for `total` subjects. */
export function maxUnhealthyCount(v: PolicyConfig['maxUnhealthy'], total: number): number {
  if (typeof v === 'number') return v;
  return Math.floor((Number(v.slice(0, -1)) / 100) * total);
}
