// etcd-quorum configuration. Metric names are those in detectors/TELEMETRY.md (sent by agents that
// can reach the etcd members).
import { z } from 'zod';

export const etcdQuorumConfig = z
  .strictObject({
    /** Only reports newer than this count as current. */
    freshMs: z.number().int().positive().default(60_000),
    /** Members seen within this window are expected even when they stop being reported. */
    lookbackMs: z.number().int().positive().default(15 * 60_000),
    dbWarnRatio: z.number().gt(0).lt(1).default(0.8),
    dbCriticalRatio: z.number().gt(0).max(1).default(0.95),
    metrics: z
      .strictObject({
        up: z.string().default('etcd_member_up'),
        isLeader: z.string().default('etcd_member_is_leader'),
        hasLeader: z.string().default('etcd_member_has_leader'),
        dbSize: z.string().default('etcd_member_db_size_bytes'),
        dbQuota: z.string().default('etcd_member_db_quota_bytes'),
        raftIndex: z.string().default('etcd_member_raft_index'),
        members: z.string().default('etcd_cluster_members'),
      })
      .prefault({}),
  })
  .refine((c) => c.dbCriticalRatio >= c.dbWarnRatio, { message: 'must be at least dbWarnRatio', path: ['dbCriticalRatio'] })
  .refine((c) => c.lookbackMs >= c.freshMs, { message: 'must be at least freshMs', path: ['lookbackMs'] });

export type EtcdQuorumConfig = z.output<typeof etcdQuorumConfig>;
