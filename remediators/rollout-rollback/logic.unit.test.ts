import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { canonical, describeRollback, previousRevision, quietStart, rollbackPatch, rollbackPlan, rolledBack, stormDeployment, type DeploymentLike, type ReplicaSetLike } from './logic.ts';

const incident = (evidence: Record<string, unknown>): IncidentView => ({ id: 'i', fingerprint: 'f', cluster: 'c1', detector: 'pod-restart-storm', subject: 'storm', severity: 'critical', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels: {}, evidence });
const template = (image: string, hash?: string) => ({ metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } }, spec: { containers: [{ name: 'main', image }] } });
const dep: DeploymentLike = {
  metadata: { name: 'web', uid: 'd-uid', generation: 5, resourceVersion: '77', annotations: { 'deployment.kubernetes.io/revision': '3' } },
  spec: { replicas: 2, template: template('web:3'), selector: { matchLabels: { app: 'web' } } },
};
const rs = (name: string, revision: number, image: string, owner = 'd-uid'): ReplicaSetLike => ({
  metadata: { name, uid: `${name}-uid`, creationTimestamp: `2026-12-01T0${revision}:00:00Z`, labels: { 'pod-template-hash': name.slice(4) }, annotations: { 'deployment.kubernetes.io/revision': String(revision) }, ownerReferences: [{ uid: owner, controller: true }] },
  spec: { template: template(image, name.slice(4)) },
});

describe('rollout-rollback logic', () => {
  it('acts only on a storm whose common factor is one Deployment', () => {
    expect(stormDeployment(incident({ scope: 'workload', workload: { namespace: 'shop', kind: 'Deployment', name: 'web' } }))).toEqual({ namespace: 'shop', name: 'web' });
    expect(stormDeployment(incident({ scope: 'workload', workload: { namespace: 'shop', kind: 'DaemonSet', name: 'agent' } }))).toBeNull();
    expect(stormDeployment(incident({ scope: 'node', node: 'n1' }))).toBeNull();
    expect(stormDeployment(incident({ scope: null }))).toBeNull();
  });

  it('picks the highest revision below the current one among the ReplicaSets the Deployment controls, its template without the hash label', () => {
    const sets = [rs('web-aaaa1', 1, 'web:1'), rs('web-bbbb2', 2, 'web:2'), rs('web-cccc3', 3, 'web:3'), rs('web-other', 2, 'x', 'someone-else')];
    const c = previousRevision(dep, sets);
    expect(c).toMatchObject({ fromRevision: 3, toRevision: 2, toReplicaSet: 'web-bbbb2', fromImages: ['web:3'], toImages: ['web:2'], toHash: 'bbbb2', toCreated: '2026-12-01T02:00:00Z' });
    expect((c as { template: unknown }).template).toEqual(template('web:2'));
    expect(previousRevision(dep, [rs('web-cccc3', 3, 'web:3')])).toMatch(/no revision before 3/);
    expect(previousRevision({ ...dep, metadata: { ...dep.metadata, annotations: {} } }, [])).toMatch(/no deployment.kubernetes.io\/revision annotation/);
  });

  it('the patch is conditional on the resourceVersion read', () => {
    expect(rollbackPatch('77', template('web:2'))).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '77' },
      { op: 'replace', path: '/spec/template', value: template('web:2') },
    ]);
  });

  it('the plan names both revisions, the ReplicaSet and the images', () => {
    const plan = rollbackPlan({ namespace: 'shop', name: 'web' }, { fromRevision: 3, toRevision: 2, toReplicaSet: 'web-bbbb2', fromImages: ['web:3'], toImages: ['web:2'], toCreated: null }, 60_000);
    expect(plan.split('\n')[0]).toBe('roll back Deployment shop/web from revision 3 to revision 2 (ReplicaSet web-bbbb2): images web:3 -> web:2');
    expect(plan).toContain('no container of the new pods restarting for 60 s');
  });

  it('rolled back once every replica runs the old template, available, none crash-looping', () => {
    const status = (s: DeploymentLike['status']): DeploymentLike => ({ ...dep, status: { observedGeneration: 5, ...s } });
    const pod = (name: string, hash: string, restarts: number, waiting?: string) => ({ metadata: { name, labels: { 'pod-template-hash': hash } }, status: { containerStatuses: [{ restartCount: restarts, state: waiting ? { waiting: { reason: waiting } } : {} }] } });
    expect(rolledBack(status({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), [pod('a', 'h', 0), pod('b', 'h', 1), pod('old', 'x', 9)], 'h')).toEqual({ done: true, restarts: 1, why: '2 of 2 available, 2 updated, 2 in all' });
    expect(rolledBack(status({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), [], 'h').done).toBe(false);
    expect(rolledBack(status({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), [pod('a', 'h', 3, 'CrashLoopBackOff')], 'h').why).toMatch(/crash-looping: a$/);
    expect(rolledBack({ ...dep, status: { observedGeneration: 4 } }, [], 'h').why).toMatch(/^the controller has not seen the rollback yet/);
  });

  it('compares templates whatever their key order', () => {
    expect(canonical({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(canonical({ a: { d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(describeRollback({ deployment: 'shop/web', fromRevision: 3, toRevision: 2, toReplicaSet: 'web-bbbb2', patched: true, generation: 6 })).toBe('  - rolled back shop/web: revision 3 -> ReplicaSet web-bbbb2 (revision 2), generation 6');
  });

  it('the quiet time starts once the rollout is done, and over at each restart', () => {
    expect(quietStart(null, -1, { done: false, restarts: 0 }, 1)).toBeNull();
    // Done with the same count as while it was not: the quiet time starts now.
    expect(quietStart(null, 0, { done: true, restarts: 0 }, 2)).toBe(2);
    expect(quietStart(2, 0, { done: true, restarts: 0 }, 3)).toBe(2);
    expect(quietStart(2, 0, { done: true, restarts: 1 }, 4)).toBe(4);
    expect(quietStart(4, 1, { done: false, restarts: 1 }, 5)).toBeNull();
  });
});
