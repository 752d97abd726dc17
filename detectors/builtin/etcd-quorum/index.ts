// etcd-quorum: per-member etcd health from agent telemetry: degraded, quorum lost, no leader,
// database near its quota. For the etcd clusters Whistle manages, health is judged against the
// member count their config asks for, which the bootstrap stage records in `etcd_clusters`.
import { defineDetector } from '../../api.ts';
import { etcdQuorumConfig } from './config.ts';
import { etcdQuorumFindings, ID } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'etcd members from agent telemetry: degraded (members missing), quorum lost, no leader, database near its quota',
  configSchema: etcdQuorumConfig,
  async evaluate(ctx, cfg) {
    const names = Object.values(cfg.metrics);
    const [rows, desired] = await Promise.all([
      ctx.telemetry.latest({ names, windowMs: cfg.lookbackMs, labelKeys: ['member', 'endpoint', 'learner'] }),
      ctx.telemetry.sql<{ members: number }>('SELECT argMax(members, ts) AS members FROM etcd_clusters WHERE cluster = {cluster:String}'),
    ]);
    return etcdQuorumFindings(ctx.cluster, ctx.now, rows, cfg, Number(desired[0]?.members ?? 0) || undefined);
  },
});
