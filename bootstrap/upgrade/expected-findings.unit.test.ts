import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { explainedBy } from './expected-findings.ts';
import type { NodeRecord } from './rollout-store.ts';

const node = (name: string, startedAt: number | null, backAt: number | null): NodeRecord => ({ node: name, phase: 'drained', reached: 'drained', reason: '', startedAt, backAt, updatedAt: 0 });
const rollouts = [{ id: 'upg-1', cluster: 'c1', release: 'r2', nodes: [node('n1', 1_000, 5_000), node('n2', 6_000, null), node('n3', null, null)] }];
const incident = (o: Partial<IncidentView>): IncidentView => ({
  id: 'inc-1', fingerprint: 'f', cluster: 'c1', detector: 'node-not-ready', subject: 'n1', severity: 'critical', state: 'open', summary: '', openedAt: 2_000, updatedAt: 0, labels: {}, evidence: {}, ...o,
});
const expected = ['node-not-ready', 'kubelet-down', 'agent-silent'];

describe('findings a rollout explains', () => {
  it('an expected detector on the node while it is upgraded: tied to the rollout', () => {
    expect(explainedBy(rollouts, expected, incident({}))).toEqual({ kind: 'rollout', id: 'upg-1', comment: 'expected while n1 is upgraded to r2' });
    expect(explainedBy(rollouts, expected, incident({ subject: 'n2', detector: 'agent-silent', openedAt: 99_000 }))).toMatchObject({ id: 'upg-1' });
  });

  it('not before the node started, not after it came back, not another node, detector or cluster', () => {
    expect(explainedBy(rollouts, expected, incident({ openedAt: 500 }))).toBeNull();
    expect(explainedBy(rollouts, expected, incident({ openedAt: 5_001 }))).toBeNull();
    expect(explainedBy(rollouts, expected, incident({ subject: 'n3' }))).toBeNull();
    expect(explainedBy(rollouts, expected, incident({ detector: 'low-disk' }))).toBeNull();
    expect(explainedBy(rollouts, expected, incident({ cluster: 'c2' }))).toBeNull();
  });
});
