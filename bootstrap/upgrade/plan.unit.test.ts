import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, SnapPod } from './cluster-snapshot.ts';
import type { Release } from './config.ts';
import { buildPlan, formatPlan, selects, type PlanInput } from './plan.ts';

const release: Release = { name: 'r2', description: '', components: { kubelet: '1.34.4', containerd: '2.1.4' } };
const node = (name: string, o: { cp?: boolean; ready?: boolean; pods?: number; cpu?: number } = {}) => ({
  name,
  ready: o.ready ?? true,
  controlPlane: o.cp ?? false,
  cordoned: false,
  cordonedBy: null,
  allocatable: { cpuMilli: o.cpu ?? 4000, memBytes: 8 * 2 ** 30, pods: o.pods ?? 110 },
});
const pod = (name: string, n: string, o: Partial<SnapPod> = {}): SnapPod => ({
  namespace: 'apps',
  name,
  node: n,
  labels: { app: name.split('-')[0]! },
  stays: null,
  requests: { cpuMilli: 100, memBytes: 2 ** 20, pods: 1 },
  owner: { kind: 'Deployment', name: name.split('-')[0]! },
  ...o,
});

function input(snapshot: Partial<ClusterSnapshot>, over: Partial<PlanInput> = {}): PlanInput {
  const snap: ClusterSnapshot = { nodes: [], pods: [], pdbs: [], workloads: [], ...snapshot };
  return {
    cluster: 'c1',
    release,
    fromRelease: 'r1',
    concurrency: 1,
    snapshot: snap,
    versions: snap.nodes.map((n) => ({ node: n.name, components: { kubelet: '1.33.5', containerd: '2.1.4' }, reportedAt: 0 })),
    etcd: null,
    openIncidents: [],
    ...over,
  };
}

describe('upgrade plan', () => {
  it('control-plane nodes first, one at a time, then workers in batches of the concurrency', () => {
    const p = buildPlan(input({ nodes: [node('w-b'), node('cp-b', { cp: true }), node('w-a'), node('cp-a', { cp: true }), node('w-c')] }, { concurrency: 2 }));
    expect(p.batches.map((b) => b.map((s) => s.node))).toEqual([['cp-a'], ['cp-b'], ['w-a', 'w-b'], ['w-c']]);
    expect(p.batches[0]![0]!.changes).toEqual([{ component: 'kubelet', from: '1.33.5', to: '1.34.4' }]);
    expect(p.refusals).toEqual([]);
  });

  it('leaves out nodes already at the release, and components a node does not manage', () => {
    const snap = { nodes: [node('a'), node('b')] };
    const p = buildPlan(input(snap, { versions: [{ node: 'a', components: { kubelet: '1.34.4', containerd: '2.1.4' }, reportedAt: 0 }, { node: 'b', components: { kubelet: '1.33.5' }, reportedAt: 0 }] }));
    expect(p.upToDate).toEqual(['a']);
    expect(p.batches.flat().map((s) => [s.node, s.changes])).toEqual([['b', [{ component: 'kubelet', from: '1.33.5', to: '1.34.4' }]]]);
  });

  it('names the PDBs and single-replica workloads the drains touch', () => {
    const p = buildPlan(
      input({
        nodes: [node('a'), node('b'), node('c')],
        pods: [pod('web-1', 'a'), pod('web-2', 'b'), pod('solo-1', 'c'), pod('ds-1', 'a', { stays: 'daemonset', owner: { kind: 'DaemonSet', name: 'ds' } })],
        pdbs: [{ namespace: 'apps', name: 'web', selector: { matchLabels: { app: 'web' } }, minAvailable: 2, maxUnavailable: null, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2 }],
        workloads: [
          { kind: 'Deployment', namespace: 'apps', name: 'web', replicas: 2 },
          { kind: 'Deployment', namespace: 'apps', name: 'solo', replicas: 1 },
        ],
      }),
    );
    expect(p.pdbs).toMatchObject([{ name: 'web', nodes: ['a', 'b'], disruptionsAllowed: 0, note: expect.stringContaining('waits') }]);
    expect(p.singleReplica).toEqual([{ kind: 'Deployment', namespace: 'apps', name: 'solo', node: 'c' }]);
    const a = p.batches.flat().find((s) => s.node === 'a')!;
    expect(a).toMatchObject({ evicts: 1, pdbs: ['apps/web'], singleReplica: [] });
    expect(formatPlan(p)).toContain('single replica: Deployment apps/solo on c');
  });

  it('refuses when a node is not Ready, etcd is unhealthy, incidents are open or an agent reports nothing', () => {
    const p = buildPlan(
      input(
        { nodes: [node('a'), node('b', { ready: false }), node('c')] },
        { etcd: { healthy: false, detail: 'no quorum' }, openIncidents: [{ id: 'inc-1', detector: 'low-disk', subject: 'a', severity: 'warning' }], versions: [{ node: 'a', components: { kubelet: '1' }, reportedAt: 0 }, { node: 'b', components: { kubelet: '1' }, reportedAt: 0 }] },
      ),
    );
    expect(p.refusals.map((r) => r.reason)).toEqual(['unhealthy', 'etcd-unhealthy', 'open-incidents', 'no-versions']);
    expect(p.refusals[0]!.message).toBe('node not Ready: b');
    expect(p.refusals[3]!.message).toContain('c');
  });

  it('refuses when the other nodes cannot hold the pods a batch evicts', () => {
    const pods = Array.from({ length: 5 }, (_, i) => pod(`web-${i}`, 'a', { requests: { cpuMilli: 700, memBytes: 0, pods: 1 } }));
    const p = buildPlan(input({ nodes: [node('a'), node('b', { cpu: 3000 })], pods }));
    expect(p.refusals).toEqual([{ reason: 'capacity', message: 'draining a moves 3500m CPU requested, 3000m free on the other schedulable Ready nodes' }]);
    const roomy = buildPlan(input({ nodes: [node('a'), node('b', { cpu: 4000 })], pods }));
    expect(roomy.refusals).toEqual([]);
  });

  it('matches selectors with labels and expressions; an empty selector selects nothing', () => {
    expect(selects({ matchLabels: { app: 'web' } }, { app: 'web', x: '1' })).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] }, { tier: 'fe' })).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] }, { tier: 'fe' })).toBe(false);
    expect(selects({}, { app: 'web' })).toBe(false);
  });
});
