import { describe, expect, it } from 'vitest';
import type { PodObject } from './objects.ts';
import { MIRROR_ANNOTATION, planPods, skipReason } from './pod-plan.ts';

function pod(name: string, o: { owner?: string; annotations?: Record<string, string>; deleting?: boolean; phase?: string } = {}): PodObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      ...(o.owner ? { ownerReferences: [{ kind: o.owner, name: 'x', controller: true }] } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    status: { phase: o.phase ?? 'Running' },
  };
}

describe('which pods a drain evicts', () => {
  it('evicts pods a controller recreates elsewhere', () => {
    expect(skipReason(pod('a', { owner: 'ReplicaSet' }))).toBeNull();
    expect(skipReason(pod('b', { owner: 'StatefulSet' }))).toBeNull();
  });

  it('leaves DaemonSet, mirror, terminating, completed and (by default) unmanaged pods, saying why', () => {
    expect(skipReason(pod('ds', { owner: 'DaemonSet' }))).toBe('daemonset');
    expect(skipReason(pod('static', { annotations: { [MIRROR_ANNOTATION]: 'hash' } }))).toBe('mirror');
    expect(skipReason(pod('going', { owner: 'ReplicaSet', deleting: true }))).toBe('terminating');
    expect(skipReason(pod('done', { owner: 'Job', phase: 'Succeeded' }))).toBe('completed');
    expect(skipReason(pod('failed', { owner: 'Job', phase: 'Failed' }))).toBe('completed');
    expect(skipReason(pod('bare'))).toBe('unmanaged');
    expect(skipReason(pod('bare'), { unmanagedPods: 'evict' })).toBeNull();
  });

  it('a mirror pod stays even when the kubelet made the Node its owner', () => {
    expect(skipReason(pod('static', { owner: 'Node', annotations: { [MIRROR_ANNOTATION]: 'hash' } }))).toBe('mirror');
  });

  it('a non-controller owner does not make a pod managed', () => {
    const p = pod('bare');
    p.metadata.ownerReferences = [{ kind: 'ReplicaSet', name: 'x', controller: false }];
    expect(skipReason(p)).toBe('unmanaged');
  });

  it('plans a node: evict and skip lists with references', () => {
    const plan = planPods([pod('a', { owner: 'ReplicaSet' }), pod('ds', { owner: 'DaemonSet' })]);
    expect(plan.evict).toEqual([{ namespace: 'ns', name: 'a', uid: 'uid-a' }]);
    expect(plan.skip).toEqual([{ namespace: 'ns', name: 'ds', uid: 'uid-ds', reason: 'daemonset' }]);
  });
});
