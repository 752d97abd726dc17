import { describe, expect, it } from 'vitest';
import type { EtcdInfo, MemberSummary } from '../../bootstrap/etcd/cluster-view.ts';
import { etcdClusterSchema } from '../../bootstrap/etcd/config.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { quorumState, readPlan, replacementCandidates, replacementPlan, stillUnhealthy } from './logic.ts';

const cluster = etcdClusterSchema.parse({
  cluster: 'c1',
  nodes: [
    { node: 'n1', address: '10.0.0.1' },
    { node: 'n2', address: '10.0.0.2' },
    { node: 'n3', address: '10.0.0.3' },
    { node: 'n4', address: '10.0.0.4', role: 'spare' },
    { node: 'n5', address: '10.0.0.5', role: 'spare' },
  ],
});

function member(node: string, healthy = true): MemberSummary {
  return {
    id: `id-${node}`,
    name: node,
    node,
    peerURL: `https://${node}:2380`,
    clientURL: `https://${node}:2379`,
    isLearner: false,
    started: true,
    healthy,
    up: healthy,
    isLeader: node === 'n1',
    dbSize: 1,
    raftIndex: 1,
    version: '3.5',
    error: healthy ? null : 'connection refused',
  };
}

function info(...members: MemberSummary[]): EtcdInfo {
  return { cluster: 'c1', quorum: true, leader: 'n1', revision: 1, via: 'n1', members, nodes: [] };
}

function incident(evidence: Record<string, unknown>, labels: Record<string, string> = {}): IncidentView {
  return { id: 'i', fingerprint: 'f', cluster: 'c1', detector: 'etcd-quorum', subject: 'quorum', severity: 'warning', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels, evidence };
}

describe('etcd-member-replace logic', () => {
  it('reads the incident: degraded, lost, or nothing to do', () => {
    expect(quorumState(incident({ state: 'degraded' }))).toBe('degraded');
    expect(quorumState(incident({}, { state: 'lost' }))).toBe('lost');
    expect(quorumState(incident({ state: 'no-leader' }))).toBeNull();
  });

  it('a member that recovered between the two live checks is not lost', () => {
    const first = info(member('n1'), member('n2', false), member('n3', false));
    const again = info(member('n1'), member('n2', false), member('n3'));
    expect(stillUnhealthy(first, again).map((m) => m.name)).toEqual(['n2']);
    expect(stillUnhealthy(info(member('n1'), member('n2'), member('n3')), again)).toEqual([]);
  });

  it('candidates: the lost node first (when preferred), then spares, then other free nodes', () => {
    const live = info(member('n1'), member('n2', false), member('n3'));
    expect(replacementCandidates(cluster, live, live.members[1]!, true)).toEqual(['n2', 'n4', 'n5']);
    expect(replacementCandidates(cluster, live, live.members[1]!, false)).toEqual(['n4', 'n5']);
    const spareHolds = info(member('n1'), member('n2', false), member('n4'));
    expect(replacementCandidates(cluster, spareHolds, spareHolds.members[1]!, false)).toEqual(['n5', 'n3']);
  });

  it('the plan resets the lost node when it takes its member back, else names the spare', () => {
    const live = info(member('n1'), member('n2', false), member('n3'));
    const same = replacementPlan(cluster, live, live.members[1]!, 'n2');
    expect(same).toMatchObject({ lostNode: 'n2', replacement: 'n2', expected: ['n1', 'n3', 'n2'] });
    expect(same.plan).toContain('2. etcd reset n2');
    const spare = replacementPlan(cluster, live, live.members[1]!, 'n4');
    expect(spare).toMatchObject({ replacement: 'n4', expected: ['n1', 'n3', 'n4'] });
    expect(spare.plan).toContain('2. use spare node n4');
    const none = replacementPlan(cluster, live, live.members[1]!, null);
    expect(none.replacement).toBeNull();
    expect(none.plan).toContain('(none available)');
  });

  it('reads back the nodes of a recorded plan, for a restart to carry it on', () => {
    const now = info(member('n1'), member('n2', false), member('n3'));
    const same = replacementPlan(cluster, now, now.members[1]!, 'n2');
    expect(readPlan(same.plan)).toEqual({ lostNode: 'n2', replacement: 'n2', sameNode: true, expected: ['n1', 'n3', 'n2'] });
    const spare = replacementPlan(cluster, now, now.members[1]!, 'n4');
    expect(readPlan(spare.plan)).toEqual({ lostNode: 'n2', replacement: 'n4', sameNode: false, expected: ['n1', 'n3', 'n4'] });
    expect(readPlan(replacementPlan(cluster, now, now.members[1]!, null).plan)).toBeNull();
    expect(readPlan('something else')).toBeNull();
  });
});
