// The `remediation` config section: the policy every remediator runs under.
import { z } from 'zod';

const maxUnhealthy = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d{1,3}%$/, 'must be a count or a percentage like "40%"'),
]);

export const remediationSchema = z
  .strictObject({
    /** Plan and record, change nothing. */
    dryRun: z.boolean().default(false),
    /** At most `maxActions` remediations per cluster per `windowS`. */
    rateLimit: z
      .strictObject({
        maxActions: z.number().int().positive().default(3),
        windowS: z.number().int().positive().default(600),
      })
      .prefault({}),
    /** Above this many broken subjects at once, do nothing and record TooManyUnhealthy. */
    maxUnhealthy: maxUnhealthy.default('40%'),
    etcdMemberReplace: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Prefer re-using the lost member's node (after a reset) when its agent is alive. */
        preferSameNode: z.boolean().default(true),
      })
      .prefault({}),
  })
  .prefault({});

export type RemediationConfig = z.infer<typeof remediationSchema>;

/** `maxUnhealthy` as an absolute count for `total` subjects. */
export function maxUnhealthyCount(v: RemediationConfig['maxUnhealthy'], total: number): number {
  if (typeof v === 'number') return v;
  return Math.floor((Number(v.slice(0, -1)) / 100) * total);
}
