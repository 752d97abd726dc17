// Agent-side etcd telemetry: through a real gRPC client over TLS (etcd3), the agent on an etcd node
// reads its member's view of the membership and every member's status, and reports the metrics in
// detectors/TELEMETRY.md (etcd_member_* with labels member, endpoint; etcd_cluster_members).
// Every agent reports every member it knows, so a member whose whole node died is still reported
// down by the others. When the local member cannot answer, the last known membership is used.
import type { Sample } from '../../core/types.ts';
import type { MemberInfo } from '../tasks/contract.ts';
import { endpointStatus, listMembers, sharedClient, type TlsFiles } from './client.ts';

export interface EtcdTelemetryOptions {
  cluster: string;
  node: string;
  /** The local member's client URL. */
  endpoint: string;
  tls: TlsFiles;
  quotaBackendBytes: number;
  timeoutMs?: number;
}

export const ETCD_METRICS = {
  up: 'etcd_member_up',
  isLeader: 'etcd_member_is_leader',
  hasLeader: 'etcd_member_has_leader',
  dbSize: 'etcd_member_db_size_bytes',
  dbQuota: 'etcd_member_db_quota_bytes',
  raftIndex: 'etcd_member_raft_index',
  members: 'etcd_cluster_members',
} as const;

export class EtcdTelemetry {
  private known: MemberInfo[] = [];

  constructor(private readonly opts: EtcdTelemetryOptions) {}

  async collect(now = Date.now()): Promise<Sample[]> {
    const { cluster, node, tls } = this.opts;
    const timeoutMs = this.opts.timeoutMs ?? 1_500;
    try {
      this.known = await listMembers(sharedClient(this.opts.endpoint, tls));
    } catch {
      // Keep the last known membership: the local member being down is itself what to report.
    }
    // Members not started yet have no name; they are reported once they run.
    const members = this.known.filter((m) => m.name !== '');
    if (members.length === 0) {
      return [{ cluster, node, name: ETCD_METRICS.up, value: 0, ts: now, labels: { member: node, endpoint: this.opts.endpoint } }];
    }
    const statuses = await Promise.all(members.map((m) => endpointStatus(m.clientURLs[0] ?? '', tls, timeoutMs)));
    const samples: Sample[] = [];
    const add = (name: string, value: number, labels: Record<string, string>) => samples.push({ cluster, node, name, value, ts: now, labels });
    add(ETCD_METRICS.members, this.known.filter((m) => !m.isLearner).length, { member: '', endpoint: '' });
    members.forEach((m, i) => {
      const s = statuses[i]!;
      const labels = { member: m.name, endpoint: m.clientURLs[0] ?? '', learner: m.isLearner ? 'true' : 'false' };
      add(ETCD_METRICS.up, s.ok ? 1 : 0, labels);
      if (!s.ok) return;
      add(ETCD_METRICS.isLeader, s.leader === s.memberId ? 1 : 0, labels);
      add(ETCD_METRICS.hasLeader, s.leader && s.leader !== '0' ? 1 : 0, labels);
      add(ETCD_METRICS.dbSize, s.dbSize ?? 0, labels);
      add(ETCD_METRICS.dbQuota, this.opts.quotaBackendBytes, labels);
      add(ETCD_METRICS.raftIndex, s.raftIndex ?? 0, labels);
    });
    return samples;
  }
}
