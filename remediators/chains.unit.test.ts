import { describe, expect, it } from 'vitest';
import type { Action } from '../core/types.ts';
import { chainPosition, effectiveChains, policyActions } from './chains.ts';
import { DEFAULT_CHAINS } from './chains-config.ts';

const chain = [{ remediator: 'service-restart', timeoutMs: 1000 }, { remediator: 'cordon-drain' }];
const row = (id: string, ts: number, state: Action['state'], reason: string, actor: string): Action => ({ id, incidentId: 'i', cluster: 'c1', subject: 'n1', kind: 'k', state, reason, dryRun: false, ts, detail: {}, actor });

describe('escalation chains', () => {
  it('defaults: kubelet restart then drain, drain for a NotReady node, cleanup for a full disk; configured chains win; disabled steps dropped', () => {
    expect(effectiveChains({}, () => true)).toEqual(DEFAULT_CHAINS);
    expect(Object.values(DEFAULT_CHAINS).every((c) => c.every((s) => (s.timeoutMs ?? 0) > 0))).toBe(true);
    expect(effectiveChains({}, (id) => id !== 'service-restart')['kubelet-down']).toEqual([{ remediator: 'cordon-drain', timeoutMs: 600_000 }]);
    expect(effectiveChains({}, (id) => id !== 'cordon-drain')['node-not-ready']).toBeUndefined();
    expect(effectiveChains({ 'kubelet-down': [{ remediator: 'service-restart' }] }, () => true)['kubelet-down']).toEqual([{ remediator: 'service-restart' }]);
  });

  it('the position is the count of failed steps in order; a success starts the next episode at the first step', () => {
    expect(chainPosition(chain, [])).toEqual({ index: 0, tried: [] });
    const failed = { actor: 'service-restart', kind: 'node.service-restart', state: 'failed' as const, reason: 'NotFixed' };
    const p = chainPosition(chain, [failed]);
    expect(p.index).toBe(1);
    expect(p.tried).toEqual(['step 1 (service-restart, node.service-restart): the action ran but the problem is still there']);
    expect(chainPosition(chain, [failed, { actor: 'cordon-drain', kind: 'kube.cordon-drain', state: 'failed', reason: 'drain timed out' }]).index).toBe(2);
    expect(chainPosition(chain, [failed, { actor: 'cordon-drain', kind: 'kube.cordon-drain', state: 'succeeded', reason: 'verified' }]).index).toBe(0);
    // Another remediator's actions on the incident (none of the chain's at that position) do not move it.
    expect(chainPosition(chain, [{ ...failed, actor: 'cordon-drain' }]).index).toBe(0);
  });

  it('reads the policy actions out of an incident\'s rows: started by the policy, the last state winning a tie', () => {
    const rows = [
      row('a1', 10, 'started', 'remediating', 'service-restart'),
      row('a1', 20, 'failed', 'NotFixed', 'service-restart'),
      row('u1', 25, 'started', 'n1 is Ready again', 'cordon-drain'),
      row('u1', 26, 'succeeded', 'n1 is Ready again', 'cordon-drain'),
      row('a2', 30, 'started', 'remediating', 'cordon-drain'),
      row('s1', 5, 'skipped', 'Paused', 'service-restart'),
    ].reverse();
    const acts = policyActions(rows);
    expect(acts.map((a) => [a.started.id, a.last.state])).toEqual([
      ['a1', 'failed'],
      ['a2', 'started'],
    ]);
  });
});
