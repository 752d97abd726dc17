import { describe, expect, it } from 'vitest';
import type { LatestRow } from '../../api.ts';
import { latest, MIN, NOW } from '../../testing/rows.ts';
import { etcdQuorumConfig } from './config.ts';
import { etcdQuorumFindings } from './logic.ts';

const cfg = etcdQuorumConfig.parse({});
const MiB = 1024 ** 2;

function member(name: string, up: number, opts: { leader?: number; hasLeader?: number; db?: number; quota?: number; reporter?: string; ts?: number; learner?: boolean } = {}): LatestRow[] {
  const labels = { member: name, endpoint: `https://${name}:2379`, learner: opts.learner ? 'true' : 'false' };
  const node = opts.reporter ?? `cp-${name}`;
  const extra = opts.ts !== undefined ? { ts: opts.ts } : {};
  const rows = [latest(node, 'etcd_member_up', up, labels, extra)];
  if (up > 0) {
    rows.push(latest(node, 'etcd_member_is_leader', opts.leader ?? 0, labels, extra));
    rows.push(latest(node, 'etcd_member_has_leader', opts.hasLeader ?? 1, labels, extra));
    rows.push(latest(node, 'etcd_member_db_size_bytes', (opts.db ?? 100) * MiB, labels, extra));
    rows.push(latest(node, 'etcd_member_db_quota_bytes', (opts.quota ?? 2048) * MiB, labels, extra));
  }
  return rows;
}
const members = (n: number) => latest('cp-a', 'etcd_cluster_members', n);

describe('etcd-quorum', () => {
  it('is quiet for a healthy cluster with a leader', () => {
    expect(etcdQuorumFindings('c1', NOW, [members(3), ...member('a', 1, { leader: 1 }), ...member('b', 1), ...member('c', 1)], cfg)).toEqual([]);
  });

  it('degraded when a member is down but quorum holds; lost when a majority is down', () => {
    const degraded = etcdQuorumFindings('c1', NOW, [members(3), ...member('a', 1, { leader: 1 }), ...member('b', 1), ...member('c', 0)], cfg);
    expect(degraded).toHaveLength(1);
    expect(degraded[0]).toMatchObject({ subject: 'quorum', severity: 'warning', labels: { state: 'degraded' } });
    expect(degraded[0]!.evidence).toMatchObject({ expectedMembers: 3, healthyMembers: 2, quorum: 2, down: ['c'] });
    const lost = etcdQuorumFindings('c1', NOW, [members(3), ...member('a', 1, { leader: 0, hasLeader: 0 }), ...member('b', 0), ...member('c', 0)], cfg);
    const q = lost.find((f) => f.subject === 'quorum')!;
    expect(q).toMatchObject({ severity: 'critical', labels: { state: 'lost' } });
    expect(q.fingerprint).toBe(degraded[0]!.fingerprint);
    expect(lost.find((f) => f.subject === 'leader')).toMatchObject({ severity: 'critical' });
  });

  it('a member that stopped being reported counts as missing; another reporter can vouch for a member', () => {
    const rows = [members(3), ...member('a', 1, { leader: 1 }), ...member('b', 1), ...member('c', 1, { ts: NOW - 10 * MIN })];
    expect(etcdQuorumFindings('c1', NOW, rows, cfg)[0]!.evidence).toMatchObject({ healthyMembers: 2, unreported: ['c'] });
    const vouched = [...rows, ...member('c', 0, { reporter: 'cp-a' }), ...member('c', 1, { reporter: 'cp-b' })];
    expect(etcdQuorumFindings('c1', NOW, vouched, cfg)).toEqual([]);
  });

  it('a managed cluster is judged against its desired member count, not the names seen lately', () => {
    // n2 was removed and the spare n4 took its place: n2's old reports are still in the window.
    const replaced = [members(3), ...member('a', 1, { leader: 1 }), ...member('b', 1, { ts: NOW - 10 * MIN }), ...member('c', 1), ...member('d', 1)];
    expect(etcdQuorumFindings('c1', NOW, replaced, cfg, 3)).toEqual([]);
    // Removed, the spare not joined yet: etcd itself counts 2 of 2, the config asks for 3.
    const between = [members(2), ...member('a', 1, { leader: 1 }), ...member('b', 1, { ts: NOW - 10 * MIN }), ...member('c', 1)];
    const f = etcdQuorumFindings('c1', NOW, between, cfg, 3);
    expect(f).toHaveLength(1);
    expect(f[0]!.evidence).toMatchObject({ state: 'degraded', expectedMembers: 3, desiredMembers: 3, healthyMembers: 2, unreported: ['b'] });
    // A learner replicates but does not vote: still degraded until it is promoted.
    const learning = [...between, ...member('d', 1, { learner: true })];
    expect(etcdQuorumFindings('c1', NOW, learning, cfg, 3)[0]!.evidence).toMatchObject({ healthyMembers: 2, learners: ['d'] });
  });

  it('no leader among healthy members', () => {
    const f = etcdQuorumFindings('c1', NOW, [members(3), ...member('a', 1), ...member('b', 1), ...member('c', 1)], cfg);
    expect(f.map((x) => x.subject)).toEqual(['leader']);
  });

  it('database near its quota: warning at 80 %, critical at 95 %', () => {
    const f = etcdQuorumFindings('c1', NOW, [members(3), ...member('a', 1, { leader: 1, db: 1700 }), ...member('b', 1, { db: 1980 }), ...member('c', 1)], cfg);
    expect(f.map((x) => [x.subject, x.severity])).toEqual([
      ['db:a', 'warning'],
      ['db:b', 'critical'],
    ]);
  });

  it('says nothing without current etcd telemetry', () => {
    expect(etcdQuorumFindings('c1', NOW, [], cfg)).toEqual([]);
    expect(etcdQuorumFindings('c1', NOW, member('a', 1, { ts: NOW - 10 * MIN }), cfg)).toEqual([]);
  });
});
