import { describe, expect, it } from 'vitest';
import type { NodeObject } from './objects.ts';
import { CONTROL_PLANE_LABEL, LEGACY_MASTER_LABEL, isControlPlane, servingControlPlanes } from './readiness.ts';

function node(name: string, o: { ready?: boolean; cordoned?: boolean; label?: string } = {}): NodeObject {
  return {
    metadata: { name, uid: name, labels: { [o.label ?? CONTROL_PLANE_LABEL]: '' } },
    spec: { unschedulable: o.cordoned ?? false },
    status: { conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }] },
  };
}

describe('the last control-plane guard', () => {
  it('knows a control-plane node by either role label', () => {
    expect(isControlPlane(node('a'))).toBe(true);
    expect(isControlPlane(node('a', { label: LEGACY_MASTER_LABEL }))).toBe(true);
    expect(isControlPlane(node('a', { label: 'node-role.kubernetes.io/worker' }))).toBe(false);
  });

  it('counts the other control-plane nodes that are Ready and not cordoned', () => {
    const cps = [node('cp-0'), node('cp-1', { ready: false }), node('cp-2', { cordoned: true })];
    expect(servingControlPlanes('cp-0', cps)).toEqual([]);
    expect(servingControlPlanes('cp-1', cps)).toEqual(['cp-0']);
    expect(servingControlPlanes('cp-2', cps)).toEqual(['cp-0']);
  });
});
