import { describe, expect, it } from 'vitest';
import type { DrainResult } from '../../bootstrap/nodes/index.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { cordonDrainConfig } from './config.ts';
import { cordonMark, describeDrain, drainFailure, drainPlan, drainTarget, healthyAgain, incidentOfMark, outOfService, uncordonDue } from './logic.ts';

function incident(detector: string, evidence: Record<string, unknown>, o: Partial<IncidentView> = {}): IncidentView {
  return { id: 'inc-1', fingerprint: 'f', cluster: 'c1', detector, subject: 'n1', severity: 'critical', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels: {}, evidence, ...o };
}

const drained: DrainResult = {
  node: 'n1',
  outcome: 'drained',
  cordon: { node: 'n1', changed: true, cordonedBy: 'cordon-drain/inc-1' },
  evicted: [{ namespace: 'apps', name: 'web-1', uid: 'u1', evictionCalls: 1, goneAfterMs: 900 }],
  wouldEvict: [],
  skipped: [{ namespace: 'apps', name: 'agent-x', uid: 'u2', reason: 'daemonset' }],
  blocked: [],
  durationMs: 1234,
};

describe('cordon-drain logic', () => {
  it('drains a NotReady node, a node whose kubelet stays down, and a storm confined to one node; not pressure alone or a workload storm', () => {
    expect(drainTarget(incident('node-not-ready', { node: 'n1', ready: 'Unknown' }))).toEqual({ node: 'n1' });
    expect(drainTarget(incident('node-not-ready', { node: 'n1', ready: 'True', pressure: [{ type: 'DiskPressure' }] }))).toBeNull();
    expect(drainTarget(incident('kubelet-down', { node: 'n2' }))).toEqual({ node: 'n2' });
    expect(drainTarget(incident('kubelet-down', {}, { subject: 'n3' }))).toEqual({ node: 'n3' });
    expect(drainTarget(incident('pod-restart-storm', { scope: 'node', node: 'n4' }))).toEqual({ node: 'n4' });
    expect(drainTarget(incident('pod-restart-storm', { scope: 'workload', workload: 'Deployment/web' }))).toBeNull();
    // Evidence from before the storm said its scope: one shared node and nothing else.
    expect(drainTarget(incident('pod-restart-storm', { shared: { node: 'n5' } }))).toEqual({ node: 'n5' });
    expect(drainTarget(incident('pod-restart-storm', { shared: { node: 'n5', namespace: 'shop' } }))).toBeNull();
    expect(drainTarget(incident('low-disk', { node: 'n1' }))).toBeNull();
  });

  it('marks the cordon with the incident, and reads back only its own marks', () => {
    expect(cordonMark('inc-1')).toBe('cordon-drain/inc-1');
    expect(incidentOfMark('cordon-drain/inc-1')).toBe('inc-1');
    expect(incidentOfMark('upgrade/r-1')).toBeNull();
    expect(incidentOfMark(null)).toBeNull();
    expect(incidentOfMark('cordon-drain/')).toBeNull();
  });

  it('the plan names the node, the budgets, the skipped pods and the verification', () => {
    const plan = drainPlan('n1', { detector: 'node-not-ready' }, cordonDrainConfig.parse({ drainTimeoutMs: 60_000 }));
    expect(plan.split('\n')[0]).toBe('take n1 out of service (it is NotReady)');
    expect(plan).toContain('within 60 s: disruption budgets respected (a 429 is waited on, never forced); DaemonSet and mirror pods skipped');
    expect(plan).toContain('verify: n1 Ready again within 600 s, then uncordon it');
    expect(drainPlan('n1', { detector: 'kubelet-down' }, cordonDrainConfig.parse({}))).toContain('Ready again and the incident cleared by its detector');
  });

  it('a drain is done only when nothing it meant to move is left; the failure names the pods and the budget', () => {
    expect(drainFailure(drained)).toBeNull();
    const held: DrainResult = { ...drained, outcome: 'timed-out', durationMs: 8000, evicted: [], blocked: [{ namespace: 'apps', name: 'web-1', uid: 'u1', reason: 'disruption-budget', pdb: 'web', message: 'Cannot evict pod as it would violate the pod\'s disruption budget.', evictionCalls: 7 }] };
    expect(drainFailure(held)).toBe("drain of n1 timed-out after 8 s with 1 pod(s) still there: apps/web-1 (disruption-budget web: Cannot evict pod as it would violate the pod's disruption budget.)");
    expect(describeDrain(drained)).toBe('  - n1: cordoned, drained in 1.2 s: evicted 1, left 1 (daemonset)');
    expect(describeDrain(held)).toContain('1 still there (disruption-budget web)');
  });

  it('healthy again: Ready, and for a kubelet or a storm the incident resolved by its detector', () => {
    expect(healthyAgain('node-not-ready', { ready: true }, 'remediating')).toBe(true);
    expect(healthyAgain('node-not-ready', { ready: false }, 'resolved')).toBe(false);
    expect(healthyAgain('kubelet-down', { ready: true }, 'remediating')).toBe(false);
    expect(healthyAgain('kubelet-down', { ready: true }, 'resolved')).toBe(true);
  });

  it('uncordons only its own cordon, of a Ready node, whose incident is over', () => {
    const mine = { ready: true, cordoned: true, cordonedBy: 'cordon-drain/inc-1' };
    expect(uncordonDue(mine, 'resolved')).toBe('inc-1');
    expect(uncordonDue(mine, undefined)).toBe('inc-1');
    expect(uncordonDue(mine, 'escalated')).toBeNull();
    expect(uncordonDue({ ...mine, ready: false }, 'resolved')).toBeNull();
    expect(uncordonDue({ ...mine, cordonedBy: null }, 'resolved')).toBeNull();
    expect(uncordonDue({ ...mine, cordonedBy: 'upgrade/r-1' }, 'resolved')).toBeNull();
    expect(uncordonDue({ ...mine, cordoned: false }, 'resolved')).toBeNull();
  });

  it('counts the nodes out of service with this one gone too', () => {
    const nodes = [
      { name: 'a', ready: true, cordoned: false },
      { name: 'b', ready: false, cordoned: false },
      { name: 'c', ready: true, cordoned: true },
      { name: 'd', ready: true, cordoned: false },
    ];
    expect(outOfService(nodes, 'b')).toEqual({ unhealthy: 2, total: 4 });
    expect(outOfService(nodes, 'a')).toEqual({ unhealthy: 3, total: 4 });
    expect(outOfService([], 'x')).toEqual({ unhealthy: 1, total: 1 });
  });
});
