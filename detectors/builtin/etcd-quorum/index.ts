// etcd-quorum: per-member etcd health from agent telemetry: degraded, quorum lost, no leader,
// database near its quota.
import { defineDetector } from '../../api.ts';
import { etcdQuorumConfig } from './config.ts';
import { etcdQuorumFindings, ID } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'etcd members from agent telemetry: degraded (members missing), quorum lost, no leader, database near its quota',
  configSchema: etcdQuorumConfig,
  async evaluate(ctx, cfg) {
    const names = Object.values(cfg.metrics);
    const rows = await ctx.telemetry.latest({ names, windowMs: cfg.lookbackMs, labelKeys: ['member', 'endpoint'] });
    return etcdQuorumFindings(ctx.cluster, ctx.now, rows, cfg);
  },
});
