// addon-restart configuration (`remediation.addonRestart`; `enabled` is added by the stage). Only
// the add-ons listed here are ever restarted: an incident about any other workload goes to people.
import { z } from 'zod';

/** A DNS-1123 label, as Kubernetes requires of a namespace (empty is left to min's message). */
const namespace = z
  .string()
  .min(1, 'must not be empty')
  .max(63)
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, 'must be a DNS-1123 label (lower-case letters, digits and "-")');
/** A DNS-1123 subdomain, as Kubernetes requires of a Deployment's or DaemonSet's name. */
const workloadName = z
  .string()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/, 'must be a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")');

export const addonSchema = z.strictObject({
  kind: z.enum(['Deployment', 'DaemonSet']),
  namespace,
  name: workloadName,
  /**
   * `rollout-restart`: the pod template's `kubectl.kubernetes.io/restartedAt` annotation is set (as
   * `kubectl rollout restart` does), so the controller replaces every pod at the pace its update
   * strategy allows; it also helps when the pods run but serve badly. `delete-crashlooping`: only the
   * pods stuck in CrashLoopBackOff are deleted and their controller makes new ones; quicker, touches
   * nothing healthy, and does nothing when no pod crash-loops.
   */
  method: z.enum(['rollout-restart', 'delete-crashlooping']).default('rollout-restart'),
  /** Serves the cluster's DNS: a `dns-probe:*` finding restarts it, and its verification also waits for the agents' DNS probes. */
  dns: z.boolean().default(false),
});

export type AddonConfig = z.output<typeof addonSchema>;

export const addonRestartConfig = z.strictObject({
  /** The add-ons that may be restarted, as `detectors.dnsAddonFailure.addons` names them (kind, namespace, name). */
  addons: z
    .array(addonSchema)
    .default([
      { kind: 'Deployment', namespace: 'kube-system', name: 'coredns', method: 'rollout-restart', dns: true },
      { kind: 'Deployment', namespace: 'kube-system', name: 'kube-dns', method: 'rollout-restart', dns: true },
    ])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((a, i) => {
        const key = `${a.namespace}/${a.kind}/${a.name}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${key} is listed twice` });
        seen.add(key);
      });
    }),
  /** After the action, how long the workload may take to be available again (every replica updated and available, none crash-looping) and, for DNS, the probes to answer. */
  verifyTimeoutMs: z.number().int().positive().default(180_000),
  /** The workload must stay available this long before it counts: a pod that crashes a few seconds after it started is not fixed. */
  stableForMs: z.number().int().nonnegative().default(30_000),
  verifyIntervalMs: z.number().int().positive().default(1_000),
  /** The agents' DNS probes (agent.probes.dns), as `detectors.dnsAddonFailure` reads them. */
  dnsProbe: z
    .strictObject({
      metric: z.string().min(1).default('probe_dns_up'),
      /** Only probes with these `probe` labels; empty: every DNS probe. */
      names: z.array(z.string().min(1)).default([]),
      /** Nodes that sent a DNS probe sample this long before the action are the ones that must answer again. */
      lookbackMs: z.number().int().positive().default(300_000),
    })
    .prefault({}),
});

export type AddonRestartConfig = z.output<typeof addonRestartConfig>;
