// dns-addon-failure configuration: cluster DNS and other add-ons watched through their Deployment /
// DaemonSet availability, and the agents' DNS probes across nodes.
import { z } from 'zod';

const addon = z.strictObject({
  kind: z.enum(['Deployment', 'DaemonSet']).default('Deployment'),
  namespace: z.string().min(1).default('kube-system'),
  name: z.string().min(1),
  /** Fewer available replicas than this is "unavailable" (critical). */
  minAvailable: z.number().int().min(1).default(1),
  /** A missing add-on is a finding only when required (coredns and kube-dns are alternatives). */
  required: z.boolean().default(false),
});

export const dnsAddonFailureConfig = z.strictObject({
  addons: z.array(addon).default([
    { kind: 'Deployment', namespace: 'kube-system', name: 'coredns', minAvailable: 1, required: false },
    { kind: 'Deployment', namespace: 'kube-system', name: 'kube-dns', minAvailable: 1, required: false },
  ]),
  /** Also report add-ons with some but not all replicas available (warning). */
  warnDegraded: z.boolean().default(true),
  probeMetric: z.string().default('probe_dns_up'),
  /** Only DNS probes with these `probe` labels (agent.probes.dns[].name); empty: every DNS probe. */
  probeNames: z.array(z.string().min(1)).default([]),
  /** Share of reporting nodes whose probe fails that makes a finding. */
  failShare: z.number().gt(0).max(1).default(0.3),
  /** ...and at least this many failing nodes (one node's resolver trouble is that node's problem). */
  minFailingNodes: z.number().int().min(1).default(2),
  freshMs: z.number().int().positive().default(60_000),
  staleMs: z.number().int().positive().default(15 * 60_000),
  maxListed: z.number().int().min(1).default(20),
});

export type DnsAddonFailureConfig = z.output<typeof dnsAddonFailureConfig>;
