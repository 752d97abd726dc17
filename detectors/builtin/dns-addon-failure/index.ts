// dns-addon-failure: cluster DNS (CoreDNS/kube-dns) or another configured add-on unavailable, or
// the agents' DNS probes failing on a share of the nodes.
import type { Finding } from '../../../core/types.ts';
import { defineDetector } from '../../api.ts';
import { dnsAddonFailureConfig } from './config.ts';
import { addonFindings, dnsProbeFindings, ID } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'Cluster DNS or a configured add-on unavailable (Deployment/DaemonSet availability), or DNS probes failing on a share of nodes',
  configSchema: dnsAddonFailureConfig,
  async evaluate(ctx, cfg) {
    const probes = await ctx.telemetry.latest({
      names: [cfg.probeMetric],
      windowMs: cfg.freshMs,
      labelKeys: ['probe'],
      ...(cfg.probeNames.length > 0 ? { match: { probe: cfg.probeNames } } : {}),
    });
    const out: Finding[] = dnsProbeFindings(ctx.cluster, ctx.now, probes, cfg);
    const observedAt = await ctx.kube.observedAt();
    if (observedAt !== null && ctx.now - observedAt <= cfg.staleMs) out.push(...addonFindings(ctx.cluster, ctx.now, await ctx.kube.workloads(), cfg));
    return out;
  },
});
