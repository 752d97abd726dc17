// Node operations (bootstrap/nodes) on a real control plane: kube-apiserver, controller-manager and
// scheduler with kwok nodes. Cordon marks, drains through the Eviction API with the scheduler really
// moving the evicted pods and the disruption controller really keeping the budgets, dry runs that
// change nothing, and the guard that keeps the last control-plane node in service.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadavg } from 'node:os';
import { CONTROL_PLANE_LABEL, CORDONED_AT, CORDONED_BY, NodeOperationRefused, NodeOps, type DrainResult } from '../../bootstrap/nodes/index.ts';
import { fakePod, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { createDaemonSet, createDeployment, createPdb, deletePdb, deletePods, deleteWorkload, podsOf, waitPdbObserved, waitReadyPods, watchReady, type ReadyWatch } from '../harness/kube/workloads.ts';

const WORKERS = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2', 'kwok-node-3'];
const MERGE_PATCH = 'application/merge-patch+json';

// Bounds of the harness's waits, sized for a loaded 2-core machine (each is a ceiling: on a quiet one
// they take well under a second), and each test's timeout is the sum of the waits it makes plus
// SLACK_MS for its plain API calls, so that a wait that runs out fails with its own message (what it
// waited for, what it last saw) before vitest's timeout, and the test's finally still runs inside it.
const READY_MS = 60_000;
const PDB_MS = 30_000;
const GONE_MS = 60_000;
/** What a drain may take past its timeoutMs: the listing at the deadline (bootstrap/nodes/drain.ts). */
const DRAIN_END_MS = 10_000;
const SLACK_MS = 30_000;

let cluster: KubeCluster;
let ops: NodeOps;
const T0 = Date.now();
const tlog = (msg: string) => console.log(`[node-ops +${((Date.now() - T0) / 1000).toFixed(1)} s] ${msg}`);

/** Runs `fn`, logging how long it took: on a loaded machine the log says which wait was the slow one. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    const v = await fn();
    tlog(`${what}: ${Date.now() - t} ms`);
    return v;
  } catch (err) {
    tlog(`${what}: FAILED after ${Date.now() - t} ms: ${(err as Error).message}`);
    throw err;
  }
}

interface NodeJson {
  metadata: { annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
}

const getNode = (name: string) => cluster.api.get<NodeJson>(`/api/v1/nodes/${name}`);
const names = (pods: { name: string }[]) => pods.map((p) => p.name).sort();

/**
 * Creates a workload while every other worker is cordoned, so all its pods start on `node`. Only
 * the cordons it made itself are undone (a node someone else cordoned stays as it was), each one
 * even when another fails.
 */
async function placeAllOn(node: string, create: () => Promise<void>, signal?: AbortSignal): Promise<void> {
  const mine: string[] = [];
  let passed = false;
  try {
    for (const w of WORKERS.filter((x) => x !== node)) {
      if ((await ops.cordon(w, { by: 'test/setup', signal })).changed) mine.push(w);
    }
    await create();
    passed = true;
  } finally {
    await cleanUp(
      passed,
      mine.map((w) => [`uncordon ${w} as test/setup`, () => ops.uncordon(w, { by: 'test/setup' })]),
    );
  }
}

/**
 * A test's finally: runs every step even when one fails, so one failure does not leave the next test
 * a cordoned node or a stray workload. The steps' errors fail a test that passed; after a failed
 * test they are logged, and the test's own error is the one reported.
 */
async function cleanUp(testPassed: boolean, steps: [string, () => Promise<unknown>][]): Promise<void> {
  const errors: string[] = [];
  for (const [what, fn] of steps) {
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  }
  if (errors.length === 0) return;
  if (testPassed) throw new Error(`cleanup failed: ${errors.join('; ')}`);
  console.error(`cleanup after the failed test: ${errors.join('; ')}`);
}

const uncordonStep = (node: string, by: string): [string, () => Promise<unknown>] => [`uncordon ${node} as ${by}`, () => ops.uncordon(node, { by })];
const deploymentStep = (name: string): [string, () => Promise<unknown>] => [
  `delete deployment apps/${name}`,
  () => deleteWorkload(cluster.api, 'apps', 'deployments', name, { app: name }, { timeoutMs: GONE_MS }),
];

function describeDrain(r: DrainResult): string {
  return `${r.outcome} in ${r.durationMs} ms: evicted ${r.evicted.length} (${r.evicted.map((p) => `${p.name} ${p.evictionCalls} call(s), gone at ${p.goneAfterMs} ms`).join('; ')}), skipped ${r.skipped.map((p) => `${p.name}:${p.reason}`).join(', ')}, blocked ${r.blocked.map((p) => `${p.name}:${p.reason}:${p.pdb ?? ''}:${p.evictionCalls}`).join(', ')}`;
}

beforeAll(async () => {
  tlog(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  cluster = await step('start cluster', () => startKubeCluster({ nodes: WORKERS.length }));
  // Slow API calls are logged: on a loaded machine they say where the time went.
  const request = cluster.api.request.bind(cluster.api);
  cluster.api.request = async (method, path, o) => {
    const t = Date.now();
    const res = await request(method, path, o);
    if (Date.now() - t > 2000) tlog(`slow: ${method} ${path} -> ${res.status} in ${Date.now() - t} ms`);
    return res;
  };
  await cluster.createFakeNodes(2, { prefix: 'cp', labels: { [CONTROL_PLANE_LABEL]: '' }, taints: [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }] });
  ops = new NodeOps(cluster.api);
  await cluster.createNamespace('apps');
  // One DaemonSet pod on every worker (not on the control-plane nodes: it does not tolerate their taint).
  const agent = await createDaemonSet(cluster.api, 'apps', 'agent');
  await step('DaemonSet agent Ready', () => waitReadyPods(cluster.api, 'apps', agent, WORKERS.length, { timeoutMs: READY_MS }));
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
});

let testStart = 0;
beforeEach((ctx) => {
  testStart = Date.now();
  tlog(`start: ${ctx.task.name} (load average ${loadavg()[0]!.toFixed(1)})`);
});
afterEach((ctx) => tlog(`end (${ctx.task.result?.state ?? '?'}) after ${Date.now() - testStart} ms: ${ctx.task.name}`));

describe('node operations on a real control plane', () => {
  it('cordons and uncordons under Whistle\'s mark, idempotently, and never uncordons a cordon that is not its own', { timeout: 2 * SLACK_MS }, async () => {
    const node = 'kwok-node-3';
    let operatorCordon = false;
    let passed = false;
    try {
      const first = await ops.cordon(node, { by: 'remediation/inc-1' });
      expect(first).toEqual({ node, changed: true, cordonedBy: 'remediation/inc-1' });
      const obj = await getNode(node);
      expect(obj.spec?.unschedulable).toBe(true);
      expect(obj.metadata.annotations?.[CORDONED_BY]).toBe('remediation/inc-1');
      expect(Date.now() - Date.parse(obj.metadata.annotations?.[CORDONED_AT] ?? '')).toBeLessThan(60_000);
      expect(await ops.cordon(node, { by: 'remediation/inc-1' })).toEqual({ node, changed: false, cordonedBy: 'remediation/inc-1' });
      // Another Whistle actor finds the cordon and does not take it over.
      expect(await ops.cordon(node, { by: 'upgrade/r-1' })).toEqual({ node, changed: false, cordonedBy: 'remediation/inc-1' });
      const other = await ops.uncordon(node, { by: 'upgrade/r-1' }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(NodeOperationRefused);
      expect((other as NodeOperationRefused).reason).toBe('cordoned-by-other');
      expect((other as Error).message).toContain('cordoned by "remediation/inc-1"');
      expect((await getNode(node)).spec?.unschedulable).toBe(true);
      expect(await ops.status(node)).toMatchObject({ node, ready: true, controlPlane: false, cordoned: true, cordonedBy: 'remediation/inc-1' });

      expect(await ops.uncordon(node, { by: 'remediation/inc-1' })).toEqual({ node, changed: true, cordonedBy: null });
      const after = await getNode(node);
      expect(after.spec?.unschedulable).toBeFalsy();
      expect(after.metadata.annotations?.[CORDONED_BY]).toBeUndefined();
      expect(after.metadata.annotations?.[CORDONED_AT]).toBeUndefined();
      expect(await ops.uncordon(node, { by: 'remediation/inc-1' })).toEqual({ node, changed: false, cordonedBy: null });

      // An operator's cordon (kubectl cordon: no mark): Whistle reports it as nobody's of its own and leaves it.
      operatorCordon = true;
      await cluster.api.json('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable: true } }, MERGE_PATCH);
      expect(await ops.cordon(node, { by: 'remediation/inc-2' })).toEqual({ node, changed: false, cordonedBy: null });
      await expect(ops.uncordon(node, { by: 'remediation/inc-2' })).rejects.toThrow(/cordoned outside Whistle \(no whistle\.io\/cordoned-by annotation\)/);
      const operators = await getNode(node);
      expect(operators.spec?.unschedulable).toBe(true);
      expect(operators.metadata.annotations?.[CORDONED_BY]).toBeUndefined();
      passed = true;
    } finally {
      await cleanUp(passed, [
        [
          `undo the cordons of ${node}`,
          async () => {
            const n = await getNode(node);
            if (n.metadata.annotations?.[CORDONED_BY] === 'remediation/inc-1') await ops.uncordon(node, { by: 'remediation/inc-1' });
            else if (operatorCordon && n.spec?.unschedulable && !n.metadata.annotations?.[CORDONED_BY]) {
              await cluster.api.json('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable: null } }, MERGE_PATCH);
            }
          },
        ],
      ]);
    }
  });

  it('drains a node: the Deployment\'s pods are evicted and rescheduled elsewhere; DaemonSet, mirror and unmanaged pods stay', { timeout: 2 * READY_MS + 60_000 + DRAIN_END_MS + GONE_MS + SLACK_MS }, async ({ signal }) => {
    const node = 'kwok-node-0';
    let passed = false;
    try {
      let web: Record<string, string> = {};
      await step('place web on kwok-node-0', () =>
        placeAllOn(
          node,
          async () => {
            web = await createDeployment(cluster.api, 'apps', 'web', { replicas: 3, spread: true });
            await waitReadyPods(cluster.api, 'apps', web, 3, { timeoutMs: READY_MS, signal });
          },
          signal,
        ),
      );
      const before = await podsOf(cluster.api, 'apps', web);
      expect(before.map((p) => p.node)).toEqual([node, node, node]);
      const mirror = { ...fakePod('static-web', node), metadata: { name: 'static-web', labels: { app: 'static' }, annotations: { 'kubernetes.io/config.mirror': 'f00d' } } };
      await cluster.api.json('POST', '/api/v1/namespaces/apps/pods', mirror);
      await cluster.api.json('POST', '/api/v1/namespaces/apps/pods', fakePod('bare', node, { app: 'bare' }));

      const result = await step('drain', () => ops.drain(node, { by: 'remediation/inc-3', timeoutMs: 60_000, signal }));
      console.log(`drain of ${node} (3 Deployment pods): ${describeDrain(result)}`);
      expect(result.outcome).toBe('drained');
      expect(result.cordon).toEqual({ node, changed: true, cordonedBy: 'remediation/inc-3' });
      expect(names(result.evicted)).toEqual(names(before));
      expect(result.evicted.every((p) => p.evictionCalls === 1)).toBe(true);
      expect(result.blocked).toEqual([]);
      const skipped = Object.fromEntries(result.skipped.map((p) => [p.name, p.reason]));
      const dsPod = (await podsOf(cluster.api, 'apps', { app: 'agent' })).find((p) => p.node === node);
      expect(skipped).toEqual({ [dsPod!.name]: 'daemonset', 'static-web': 'mirror', bare: 'unmanaged' });

      const moved = await step('web Ready elsewhere', () => waitReadyPods(cluster.api, 'apps', web, 3, { timeoutMs: READY_MS, signal }));
      console.log(`web rescheduled onto ${moved.map((p) => p.node).sort().join(', ')}`);
      expect(moved.every((p) => p.node !== node)).toBe(true);
      const left = (await cluster.api.get<{ items: { metadata: { name: string } }[] }>(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)).items.map((p) => p.metadata.name);
      expect(left.sort()).toEqual(['bare', dsPod!.name, 'static-web'].sort());
      expect((await getNode(node)).metadata.annotations?.[CORDONED_BY]).toBe('remediation/inc-3');
      expect((await ops.uncordon(node, { by: 'remediation/inc-3' })).changed).toBe(true);
      passed = true;
    } finally {
      await cleanUp(passed, [uncordonStep(node, 'remediation/inc-3'), ['delete pods bare, static-web', () => deletePods(cluster.api, 'apps', ['bare', 'static-web'])], deploymentStep('web')]);
    }
  });

  it('a dry run answers the plan and changes nothing: no cordon, no eviction call, the same pods', { timeout: READY_MS + GONE_MS + SLACK_MS }, async ({ signal }) => {
    const node = 'kwok-node-2';
    let passed = false;
    try {
      let plan: Record<string, string> = {};
      await step('place plan on kwok-node-2', () =>
        placeAllOn(
          node,
          async () => {
            plan = await createDeployment(cluster.api, 'apps', 'plan', { replicas: 2 });
            await waitReadyPods(cluster.api, 'apps', plan, 2, { timeoutMs: READY_MS, signal });
          },
          signal,
        ),
      );
      const here = (await podsOf(cluster.api, 'apps', plan)).filter((p) => p.node === node);
      expect(here.length).toBe(2);
      const podsBefore = (await cluster.api.get<{ items: { metadata: { uid: string; resourceVersion: string } }[] }>(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)).items;
      const nodeBefore = await getNode(node);
      const send = vi.spyOn(cluster.api, 'send');
      try {
        const result = await ops.drain(node, { by: 'remediation/inc-4', dryRun: true, signal });
        console.log(`dry run of ${node}: would evict ${result.wouldEvict.map((p) => p.name).join(', ')}; skip ${result.skipped.map((p) => `${p.name}:${p.reason}`).join(', ')}`);
        expect(result.outcome).toBe('dry-run');
        expect(result.cordon).toBeNull();
        expect(names(result.wouldEvict)).toEqual(names(here));
        expect(result.evicted).toEqual([]);
        expect(result.skipped.map((p) => p.reason)).toEqual(['daemonset']);
        const writes = send.mock.calls.filter(([method]) => method !== 'GET');
        expect(writes).toEqual([]);
      } finally {
        send.mockRestore();
      }
      const podsAfter = (await cluster.api.get<{ items: { metadata: { uid: string; resourceVersion: string } }[] }>(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)).items;
      expect(podsAfter.map((p) => p.metadata.uid).sort()).toEqual(podsBefore.map((p) => p.metadata.uid).sort());
      const nodeAfter = await getNode(node);
      expect(nodeAfter.spec?.unschedulable).toBe(nodeBefore.spec?.unschedulable);
      expect(nodeAfter.metadata.annotations?.[CORDONED_BY]).toBeUndefined();
      passed = true;
    } finally {
      await cleanUp(passed, [deploymentStep('plan')]);
    }
  });

  it(
    'a budget that allows no disruption holds the drain: it waits, retries, and ends timed out naming the PDB, nothing evicted',
    { timeout: READY_MS + PDB_MS + (15_000 + DRAIN_END_MS) + PDB_MS + (90_000 + DRAIN_END_MS) + READY_MS + GONE_MS + SLACK_MS },
    async ({ signal }) => {
      const node = 'kwok-node-0';
      const watches: ReadyWatch[] = [];
      let passed = false;
      try {
        let guarded: Record<string, string> = {};
        await step('place guarded on kwok-node-0', () =>
          placeAllOn(
            node,
            async () => {
              guarded = await createDeployment(cluster.api, 'apps', 'guarded', { replicas: 3, spread: true });
              await waitReadyPods(cluster.api, 'apps', guarded, 3, { timeoutMs: READY_MS, signal });
            },
            signal,
          ),
        );
        await createPdb(cluster.api, 'apps', 'guarded-pdb', { minAvailable: 3, selector: guarded });
        await step('guarded-pdb observed', () => waitPdbObserved(cluster.api, 'apps', 'guarded-pdb', 3, { timeoutMs: PDB_MS, signal }));
        const before = await podsOf(cluster.api, 'apps', guarded);

        const watch = watchReady(cluster.api, 'apps', 'guarded', guarded, { signal });
        watches.push(watch);
        const result = await step('drain under minAvailable 3 of 3', () => ops.drain(node, { by: 'upgrade/r-2', timeoutMs: 15_000, signal }));
        const seen = await watch.stop();
        console.log(`drain of ${node} under minAvailable 3 of 3: ${describeDrain(result)}; fewest Ready pods ${seen.minReadyPods}, readyReplicas ${seen.minReadyReplicas} over ${seen.polls} polls (${seen.failedPolls} failed)`);
        expect(result.outcome).toBe('timed-out');
        expect(result.durationMs).toBeGreaterThanOrEqual(15_000);
        expect(result.durationMs).toBeLessThan(15_000 + DRAIN_END_MS);
        expect(result.evicted).toEqual([]);
        expect(names(result.blocked)).toEqual(names(before));
        for (const b of result.blocked) {
          expect(b).toMatchObject({ reason: 'disruption-budget', pdb: 'guarded-pdb' });
          expect(b.message).toMatch(/^The disruption budget guarded-pdb needs 3 healthy pods and has 3 currently/);
          // Waited on and asked again with backoff (0.5 s doubling to 5 s) over 15 s: several calls, not a tight loop.
          expect(b.evictionCalls).toBeGreaterThanOrEqual(3);
          expect(b.evictionCalls).toBeLessThanOrEqual(12);
        }
        expect(seen.polls).toBeGreaterThan(0);
        expect(seen.minReadyPods).toBeGreaterThanOrEqual(3);
        expect(seen.minReadyReplicas).toBeGreaterThanOrEqual(3);
        const after = await podsOf(cluster.api, 'apps', guarded);
        expect(after.map((p) => p.uid).sort()).toEqual(before.map((p) => p.uid).sort());
        expect(after.every((p) => p.ready && !p.terminating)).toBe(true);

        // Once the budget allows one disruption at a time, the same drain completes, one pod at a time.
        await cluster.api.json('PATCH', '/apis/policy/v1/namespaces/apps/poddisruptionbudgets/guarded-pdb', { spec: { minAvailable: 2 } }, MERGE_PATCH);
        await step('guarded-pdb observed at minAvailable 2', () => waitPdbObserved(cluster.api, 'apps', 'guarded-pdb', 3, { timeoutMs: PDB_MS, signal }));
        const watch2 = watchReady(cluster.api, 'apps', 'guarded', guarded, { signal });
        watches.push(watch2);
        const second = await step('drain under minAvailable 2 of 3', () => ops.drain(node, { by: 'upgrade/r-2', timeoutMs: 90_000, signal }));
        const seen2 = await watch2.stop();
        console.log(`drain of ${node} under minAvailable 2 of 3: ${describeDrain(second)}; fewest Ready pods ${seen2.minReadyPods}, readyReplicas ${seen2.minReadyReplicas} over ${seen2.polls} polls (${seen2.failedPolls} failed)`);
        expect(second.outcome).toBe('drained');
        expect(second.cordon).toEqual({ node, changed: false, cordonedBy: 'upgrade/r-2' });
        expect(names(second.evicted)).toEqual(names(before));
        // How many calls the later pods take is the server's business: kube-apiserver retries a budget
        // update that conflicted every 500 ms for up to 10 s inside one eviction call, so a pod evicted
        // together with another may get a late 201 once the first one's replacement is Ready, where
        // otherwise it gets a 429 and Whistle asks again. What holds either way is the budget, polled below.
        expect(seen2.polls).toBeGreaterThan(0);
        expect(seen2.minReadyPods).toBeGreaterThanOrEqual(2);
        expect(seen2.minReadyReplicas).toBeGreaterThanOrEqual(2);
        await step('guarded Ready elsewhere', () => waitReadyPods(cluster.api, 'apps', guarded, 3, { timeoutMs: READY_MS, signal }));
        await ops.uncordon(node, { by: 'upgrade/r-2' });
        passed = true;
      } finally {
        // The watches first: no poll of this test outlives it.
        await cleanUp(passed, [
          ['stop the Ready watches', () => Promise.all(watches.map((w) => w.stop()))],
          uncordonStep(node, 'upgrade/r-2'),
          ['delete PodDisruptionBudget guarded-pdb', () => deletePdb(cluster.api, 'apps', 'guarded-pdb')],
          deploymentStep('guarded'),
        ]);
      }
    },
  );

  it('drains 10 pods of a Deployment within a minute', { timeout: READY_MS + (60_000 + DRAIN_END_MS) + READY_MS + GONE_MS + SLACK_MS }, async ({ signal }) => {
    const node = 'kwok-node-3';
    let passed = false;
    try {
      let ten: Record<string, string> = {};
      await step('place ten on kwok-node-3', () =>
        placeAllOn(
          node,
          async () => {
            ten = await createDeployment(cluster.api, 'apps', 'ten', { replicas: 10, spread: true });
            await waitReadyPods(cluster.api, 'apps', ten, 10, { timeoutMs: READY_MS, signal });
          },
          signal,
        ),
      );
      // Whatever else is on the node and not a DaemonSet's moves too (earlier tests clean up after themselves, so normally nothing).
      const movable = (await cluster.api.get<{ items: { metadata: { name: string; ownerReferences?: { kind: string }[] } }[] }>(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)).items
        .filter((p) => p.metadata.ownerReferences?.[0]?.kind !== 'DaemonSet')
        .map((p) => p.metadata.name);
      expect(movable.filter((n) => n.startsWith('ten-')).length).toBe(10);
      const result = await step('drain of 10', () => ops.drain(node, { by: 'remediation/inc-5', timeoutMs: 60_000, signal }));
      console.log(`drain of ${node} (${movable.length} pods, 10 of them one Deployment's): ${describeDrain(result)}`);
      expect(result.outcome).toBe('drained');
      expect(names(result.evicted)).toEqual(movable.sort());
      expect(result.durationMs).toBeLessThan(60_000);
      const moved = await step('ten Ready elsewhere', () => waitReadyPods(cluster.api, 'apps', ten, 10, { timeoutMs: READY_MS, signal }));
      expect(moved.every((p) => p.node !== node)).toBe(true);
      await ops.uncordon(node, { by: 'remediation/inc-5' });
      passed = true;
    } finally {
      await cleanUp(passed, [uncordonStep(node, 'remediation/inc-5'), deploymentStep('ten')]);
    }
  });

  it('never cordons or drains the last Ready, schedulable control-plane node', { timeout: 2 * SLACK_MS }, async () => {
    let passed = false;
    try {
      expect(await ops.status('cp-0')).toMatchObject({ ready: true, controlPlane: true, cordoned: false, cordonedBy: null, cordonedAt: null });
      expect((await ops.cordon('cp-0', { by: 'upgrade/r-3' })).changed).toBe(true);
      const status = await ops.status('cp-0');
      expect(status).toMatchObject({ cordoned: true, cordonedBy: 'upgrade/r-3' });
      expect(Date.now() - status.cordonedAt!).toBeLessThan(60_000);

      const refused = await ops.cordon('cp-1', { by: 'upgrade/r-3' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(NodeOperationRefused);
      expect((refused as NodeOperationRefused).reason).toBe('last-control-plane');
      expect((refused as Error).message).toBe('refusing to cordon cp-1: it is a control-plane node and no other control-plane node is Ready and schedulable (2 control-plane nodes in the cluster)');
      expect((await getNode('cp-1')).spec?.unschedulable).toBeFalsy();
      await expect(ops.drain('cp-1', { by: 'upgrade/r-3' })).rejects.toThrow(/^refusing to drain cp-1: it is a control-plane node/);
      await expect(ops.drain('cp-1', { by: 'upgrade/r-3', dryRun: true })).rejects.toThrow(/^refusing to drain cp-1/);
      expect((await getNode('cp-1')).spec?.unschedulable).toBeFalsy();
      // A worker is not held by the guard.
      expect((await ops.cordon('kwok-node-1', { by: 'upgrade/r-3' })).changed).toBe(true);
      await ops.uncordon('kwok-node-1', { by: 'upgrade/r-3' });

      await ops.uncordon('cp-0', { by: 'upgrade/r-3' });
      expect((await ops.cordon('cp-1', { by: 'upgrade/r-3' })).changed).toBe(true);
      await expect(ops.cordon('cp-0', { by: 'upgrade/r-3' })).rejects.toThrow(/^refusing to cordon cp-0/);
      await ops.uncordon('cp-1', { by: 'upgrade/r-3' });
      passed = true;
    } finally {
      await cleanUp(passed, [uncordonStep('kwok-node-1', 'upgrade/r-3'), uncordonStep('cp-0', 'upgrade/r-3'), uncordonStep('cp-1', 'upgrade/r-3')]);
    }
  });
});
