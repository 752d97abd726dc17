import { describe, expect, it } from 'vitest';
import type { EtcdInfo, MemberSummary } from '../../bootstrap/etcd/cluster-view.ts';
import { etcdClusterSchema } from '../../bootstrap/etcd/config.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { planReplacement, quorumState, stillUnhealthy } from './logic.ts';

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

  it('re-uses the lost node when its agent is alive', () => {
    const live = info(member('n1'), member('n2', false), member('n3'));
    const r = planReplacement({ cluster, info: live, lost: live.members[1]!, preferSameNode: true, agentAlive: () => true });
    expect(r).toMatchObject({ lostNode: 'n2', replacement: 'n2', expected: ['n1', 'n3', 'n2'] });
    expect(r.plan).toContain('2. etcd reset n2');
  });

  it('takes a spare with a live agent when the lost node is gone (or same-node is off)', () => {
    const live = info(member('n1'), member('n2', false), member('n3'));
    const gone = planReplacement({ cluster, info: live, lost: live.members[1]!, preferSameNode: true, agentAlive: (n) => n !== 'n2' && n !== 'n4' });
    expect(gone).toMatchObject({ replacement: 'n5', expected: ['n1', 'n3', 'n5'] });
    expect(gone.plan).toContain('2. use spare node n5');
    const off = planReplacement({ cluster, info: live, lost: live.members[1]!, preferSameNode: false, agentAlive: () => true });
    expect(off.replacement).toBe('n4');
  });

  it('no live agent to take the member: no replacement, and the plan says so', () => {
    const live = info(member('n1'), member('n2', false), member('n3'));
    const r = planReplacement({ cluster, info: live, lost: live.members[1]!, preferSameNode: true, agentAlive: (n) => n === 'n1' || n === 'n3' });
    expect(r.replacement).toBeNull();
    expect(r.plan).toContain('(none available)');
  });
});
