// The `remediation` config section: the policy (remediators/policy/config.ts) and, under each
// built-in remediator's id in camelCase (etcd-member-replace -> etcdMemberReplace), that
// remediator's own settings plus `enabled`.
import { z } from 'zod';
import type { Remediator } from './api.ts';
import { BUILTIN_REMEDIATORS } from './builtin.ts';
import { chainsSchema } from './chains-config.ts';
import { policyFields } from './policy/config.ts';

/** camelCase config key of a remediator id: "etcd-member-replace" -> "etcdMemberReplace". */
export function configKey(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function section(r: Remediator) {
  return r.configSchema.safeExtend({ enabled: z.boolean().default(true) }).prefault({});
}

export const remediationSchema = z
  .strictObject({
    ...policyFields,
    ...Object.fromEntries(BUILTIN_REMEDIATORS.map((r) => [configKey(r.id), section(r)])),
    /** Per detector id, the remediators that take its incidents in turn (remediators/chains.ts). */
    chains: chainsSchema,
  })
  .superRefine((cfg, ctx) => {
    const ids = BUILTIN_REMEDIATORS.map((r) => r.id);
    for (const [detector, steps] of Object.entries(cfg.chains)) {
      steps.forEach((s, i) => {
        if (!ids.includes(s.remediator)) ctx.addIssue({ code: 'custom', path: ['chains', detector, i, 'remediator'], message: `must be one of ${ids.join(', ')}` });
        // A disabled step would hold the incident with nobody acting and nobody told.
        else if (((cfg as Record<string, unknown>)[configKey(s.remediator)] as { enabled?: boolean } | undefined)?.enabled === false) {
          ctx.addIssue({ code: 'custom', path: ['chains', detector, i, 'remediator'], message: `${s.remediator} is disabled (remediation.${configKey(s.remediator)}.enabled: false)` });
        }
      });
    }
  })
  .prefault({});

export type RemediationConfig = z.output<typeof remediationSchema>;

/** One remediator's settings out of the section, `enabled` included. */
export function remediatorConfig(cfg: RemediationConfig, r: Remediator): { enabled: boolean } & Record<string, unknown> {
  return (cfg as Record<string, unknown>)[configKey(r.id)] as { enabled: boolean } & Record<string, unknown>;
}
