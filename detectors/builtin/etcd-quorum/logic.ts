// etcd-quorum from rows: per member, the newest report of each etcd metric (several agents may report
// the same member; the most favourable current report wins, since one agent's network trouble
// should not take a member down). Quorum is a majority of the expected voting members.
//
// Expected: when Whistle manages the cluster, the member count its config asks for
// (`etcd.clusters[].members`), so a member removed and replaced by a spare is not missed and a
// cluster shrunk by a removal is degraded until the replacement has joined. Otherwise: every member
// name reported within `lookbackMs`, and at least the reported membership size.
import type { Finding } from '../../../core/types.ts';
import { makeFinding, type LatestRow } from '../../api.ts';
import type { EtcdQuorumConfig } from './config.ts';

export const ID = 'etcd-quorum';

interface Member {
  name: string;
  endpoint: string;
  up: number | null;
  isLeader: number | null;
  hasLeader: number | null;
  dbSize: number | null;
  dbQuota: number | null;
  raftIndex: number | null;
  /** From its newest `up` report: a learner replicates but does not vote. */
  learner: boolean;
  upTs: number;
  reporters: Set<string>;
}

export function etcdQuorumFindings(cluster: string, now: number, rows: readonly LatestRow[], cfg: EtcdQuorumConfig, desiredMembers?: number): Finding[] {
  const m = cfg.metrics;
  const fields: Record<string, 'up' | 'isLeader' | 'hasLeader' | 'dbSize' | 'dbQuota' | 'raftIndex'> = {
    [m.up]: 'up',
    [m.isLeader]: 'isLeader',
    [m.hasLeader]: 'hasLeader',
    [m.dbSize]: 'dbSize',
    [m.dbQuota]: 'dbQuota',
    [m.raftIndex]: 'raftIndex',
  };
  const members = new Map<string, Member>();
  let reportedSize = 0;
  let anyFresh = false;
  for (const r of rows) {
    const fresh = now - r.ts <= cfg.freshMs;
    if (r.name === m.members) {
      if (fresh) reportedSize = Math.max(reportedSize, r.value);
      continue;
    }
    const f = fields[r.name];
    const name = r.labels.member;
    if (!f || !name) continue;
    let mem = members.get(name);
    if (!mem) {
      mem = { name, endpoint: r.labels.endpoint ?? '', up: null, isLeader: null, hasLeader: null, dbSize: null, dbQuota: null, raftIndex: null, learner: false, upTs: 0, reporters: new Set() };
      members.set(name, mem);
    }
    if (!mem.endpoint && r.labels.endpoint) mem.endpoint = r.labels.endpoint;
    if (!fresh) continue;
    anyFresh = true;
    mem.reporters.add(r.node);
    mem[f] = mem[f] === null ? r.value : Math.max(mem[f], r.value);
    if (f === 'up' && r.ts >= mem.upTs) {
      mem.upTs = r.ts;
      mem.learner = r.labels.learner === 'true';
    }
  }
  // Nothing current: no etcd telemetry here, or its reporters are silent (agent-silent reports those).
  if (!anyFresh || members.size === 0) return [];
  const list = [...members.values()].sort((a, b) => a.name.localeCompare(b.name));
  const voters = list.filter((x) => !x.learner);
  const expected = desiredMembers && desiredMembers > 0 ? desiredMembers : Math.max(reportedSize, voters.length);
  const up = voters.filter((x) => x.up !== null && x.up > 0);
  const down = voters.filter((x) => x.up !== null && x.up <= 0).map((x) => x.name);
  const unreported = voters.filter((x) => x.up === null).map((x) => x.name);
  const learners = list.filter((x) => x.learner).map((x) => x.name);
  const quorum = Math.floor(expected / 2) + 1;
  const memberEvidence = list.map((x) => ({
    member: x.name,
    endpoint: x.endpoint,
    up: x.up,
    learner: x.learner,
    leader: x.isLeader,
    hasLeader: x.hasLeader,
    dbSizeBytes: x.dbSize,
    dbQuotaBytes: x.dbQuota,
    raftIndex: x.raftIndex,
    reportedBy: [...x.reporters].sort(),
  }));
  const out: Finding[] = [];
  if (up.length < expected) {
    const lost = up.length < quorum;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: 'quorum',
        severity: lost ? 'critical' : 'warning',
        summary: lost
          ? `etcd quorum lost: ${up.length} of ${expected} members healthy (quorum needs ${quorum})`
          : `etcd degraded: ${up.length} of ${expected} members healthy (quorum ${quorum} held${down.length ? `; down: ${down.join(', ')}` : ''})`,
        labels: { state: lost ? 'lost' : 'degraded' },
        evidence: { state: lost ? 'lost' : 'degraded', expectedMembers: expected, desiredMembers: desiredMembers ?? null, healthyMembers: up.length, quorum, down, unreported, learners, members: memberEvidence },
      }),
    );
  }
  // Leadership: only judged when members report it, and only among healthy members.
  const leaderKnown = up.some((x) => x.isLeader !== null || x.hasLeader !== null);
  if (leaderKnown && up.length > 0) {
    const leaders = up.filter((x) => (x.isLeader ?? 0) > 0).map((x) => x.name);
    const withoutLeader = up.filter((x) => x.hasLeader !== null && x.hasLeader <= 0).map((x) => x.name);
    if (leaders.length === 0 || withoutLeader.length === up.length) {
      out.push(
        makeFinding(ID, cluster, now, {
          subject: 'leader',
          severity: 'critical',
          summary: `etcd has no leader (${up.length} healthy members report none)`,
          labels: { state: 'no-leader' },
          evidence: { state: 'no-leader', healthyMembers: up.length, membersWithoutLeader: withoutLeader, members: memberEvidence },
        }),
      );
    }
  }
  for (const x of list) {
    if (x.dbSize === null || x.dbQuota === null || x.dbQuota <= 0) continue;
    const ratio = x.dbSize / x.dbQuota;
    if (ratio < cfg.dbWarnRatio) continue;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: `db:${x.name}`,
        severity: ratio >= cfg.dbCriticalRatio ? 'critical' : 'warning',
        summary: `etcd member ${x.name} database at ${(ratio * 100).toFixed(1)}% of its quota (${(x.dbSize / 1024 ** 2).toFixed(0)} of ${(x.dbQuota / 1024 ** 2).toFixed(0)} MiB)`,
        labels: { member: x.name, state: 'db-near-quota' },
        evidence: { member: x.name, endpoint: x.endpoint, dbSizeBytes: x.dbSize, dbQuotaBytes: x.dbQuota, ratio: Math.round(ratio * 1000) / 1000 },
      }),
    );
  }
  return out;
}
