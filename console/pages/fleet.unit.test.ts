import { describe, expect, it } from 'vitest';
import type { ReleaseState } from '../release-state.ts';
import type { ClusterSummary } from '../view-data.ts';
import { filterFleet, releaseCell } from './fleet.ts';

const summary = (name: string, release: ReleaseState): ClusterSummary => ({
  name,
  incidents: { critical: 0, warning: 0, info: 0 },
  silenced: 0,
  worst: [],
  nodes: { reporting: 3, total: 3, pending: 0 },
  etcd: { healthy: 3, total: 3 },
  pause: { cluster: name, paused: false, actor: '', reason: '', since: 0 },
  release,
  score: 0,
});

const steady: ReleaseState = { release: 'r1.30', rollout: null };
const rolling: ReleaseState = { release: 'r1.30', rollout: { id: 'ro-1', release: 'r1.31', state: 'running', reason: 'node 2 of 5' } };
const failed: ReleaseState = { release: 'r1.30', rollout: { id: 'ro-2', release: 'r1.31', state: 'failed', reason: 'stopped: n3 not Ready' } };

describe('the fleet page', () => {
  it('shows the release a cluster runs, and the rollout under way with its state', () => {
    expect(releaseCell(steady).html).toBe('r1.30');
    expect(releaseCell({ release: null, rollout: null }).html).toBe('<span class="muted">–</span>');
    expect(releaseCell(rolling).html).toBe('r1.30 → r1.31 <span class="badge b-running">rollout running</span>');
  });

  it('"with a rollout under way" keeps the rolling clusters; "anything wrong" counts a failed rollout', () => {
    const all = [summary('a', steady), summary('b', rolling), summary('c', failed)];
    expect(filterFleet(all, { q: '', show: 'upgrading' }).map((c) => c.name)).toEqual(['b', 'c']);
    expect(filterFleet(all, { q: '', show: 'degraded' }).map((c) => c.name)).toEqual(['c']);
  });
});
