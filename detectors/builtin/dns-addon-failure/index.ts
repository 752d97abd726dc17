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
    // Per probe: how many nodes report it now and which fail, aggregated in ClickHouse.
    const probes = await ctx.telemetry.sql<{ probe: string; reporting: number; failing: number; failing_nodes: string[] }>(
      `SELECT probe, toUInt32(count()) AS reporting, toUInt32(countIf(v <= 0)) AS failing, groupArrayIf(100)(node, v <= 0) AS failing_nodes
       FROM (
         SELECT node, labels['probe'] AS probe, argMax(value, ts) AS v
         FROM samples
         WHERE cluster = {cluster:String} AND name = {metric:String}
           AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})
         GROUP BY node, probe
       )
       GROUP BY probe`,
      { metric: cfg.probeMetric, from: ctx.now - cfg.freshMs, to: ctx.now },
    );
    const out: Finding[] = dnsProbeFindings(
      ctx.cluster,
      ctx.now,
      probes.map((p) => ({ probe: p.probe, reporting: Number(p.reporting), failing: Number(p.failing), failingNodes: p.failing_nodes })),
      cfg,
    );
    const observedAt = await ctx.kube.observedAt();
    if (observedAt !== null && ctx.now - observedAt <= cfg.staleMs) out.push(...addonFindings(ctx.cluster, ctx.now, await ctx.kube.workloads(), cfg));
    return out;
  },
});
