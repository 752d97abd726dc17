// cordon-drain end to end on a real control plane (kube-apiserver, controller-manager, scheduler)
// with kwok nodes, through the Whistle `whistle start` builds: two nodes played by kwok processes of
// their own lose their heartbeat, the node lifecycle controller marks them NotReady, the detector
// opens node-not-ready, and the default chain (cordon-drain, then a person) runs. A Deployment
// guarded by a PodDisruptionBudget and a DaemonSet run on every node; a second Deployment's budget
// allows no disruption at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORDONED_BY } from '../../bootstrap/nodes/index.ts';
import type { Action } from '../../core/types.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { FAKE_NODE_LABEL, fakePodToleration, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { createDaemonSet, createPdb, podsOf, waitPdbObserved, waitReadyPods } from '../harness/kube/workloads.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const SOLO = ['solo-a', 'solo-b'];
const MERGE_PATCH = 'application/merge-patch+json';
let cluster: KubeCluster;
let t: TestWhistle;
let nodeCount = 0;
const T0 = Date.now();
const tlog = (msg: string) => console.log(`[cordon-drain +${((Date.now() - T0) / 1000).toFixed(1)} s] ${msg}`);

interface NodeJson {
  metadata: { annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}
const getNode = (name: string) => cluster.api.get<NodeJson>(`/api/v1/nodes/${name}`);
const ready = (n: NodeJson) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** One pod per node, whatever happens: a required anti-affinity on the hostname. */
async function createOnePerNode(name: string, replicas: number): Promise<Record<string, string>> {
  const labels = { app: name };
  await cluster.api.json('POST', '/apis/apps/v1/namespaces/apps/deployments', {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: FAKE_NODE_LABEL,
          tolerations: fakePodToleration(),
          automountServiceAccountToken: false,
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{ name: 'main', image: 'registry.example/fake:1' }],
        },
      },
    },
  });
  return labels;
}

const manager = () => t.whistle.service(incidentServices.manager);
const actionsOf = (incidentId: string) => t.whistle.service(remediationServices.recorder).list({ incidentId, limit: 1000 });
const historyOf = async (incidentId: string) => (await manager().show(incidentId)).history.map((h) => `${h.kind}: ${h.reason}`);
/** The incident of the node's NotReady spell that began after `since`. */
const incidentOf = (node: string, since: number) =>
  eventually(async () => manager().current().find((i) => i.detector === 'node-not-ready' && i.subject === node && i.openedAt >= since && (i.evidence as { ready?: string }).ready !== 'True'), `a node-not-ready incident for ${node}`, 120_000, 250);
/** Forgotten by the manager (reopenWindowMs 0) means resolved. */
const stateOf = async (id: string) => manager().get(id)?.state ?? 'resolved';

beforeAll(async () => {
  // A silent node is NotReady 15 s after its last lease renewal (every 3 s).
  cluster = await startKubeCluster({ nodes: 3, nodeMonitorGracePeriod: '15s', nodeLeaseDurationSeconds: 12 });
  for (const n of SOLO) await cluster.createSoloNode(n);
  nodeCount = 3 + SOLO.length;
  await cluster.createNamespace('apps');
  const agent = await createDaemonSet(cluster.api, 'apps', 'agent');
  const web = await createOnePerNode('web', nodeCount);
  const db = await createOnePerNode('db', nodeCount);
  await waitReadyPods(cluster.api, 'apps', agent, nodeCount, { timeoutMs: 90_000 });
  await waitReadyPods(cluster.api, 'apps', web, nodeCount, { timeoutMs: 90_000 });
  await waitReadyPods(cluster.api, 'apps', db, nodeCount, { timeoutMs: 90_000 });
  // web may lose one pod at a time; db none.
  await createPdb(cluster.api, 'apps', 'web', { minAvailable: nodeCount - 1, selector: web });
  await createPdb(cluster.api, 'apps', 'db', { minAvailable: nodeCount, selector: db });
  await waitPdbObserved(cluster.api, 'apps', 'web', nodeCount);
  await waitPdbObserved(cluster.api, 'apps', 'db', nodeCount);
  tlog('cluster, workloads and budgets ready');
  t = await startTestWhistle({
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
    detectors: onlyDetectors({ nodeNotReady: { forMs: 0 } }, { tickMs: 500 }),
    incidents: { reopenWindowMs: 0, resolveWindowMs: 2_000, minOpenMs: 0, refreshMs: 1_000 },
    // The default chain for node-not-ready (cordon-drain, then a person); the default 40 % of 5 nodes is 2.
    remediation: { rateLimit: { maxActions: 20 }, cordonDrain: { drainTimeoutMs: 10_000, recoverTimeoutMs: 120_000, pollMs: 250, reconcileMs: 1_000 } },
  });
}, 600_000);

afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
});

describe('cordon-drain on a real control plane', () => {
  it('a node goes NotReady: incident, cordon and drain (budget kept, DaemonSet left), node back, uncordoned, resolved', { timeout: 300_000 }, async () => {
    const node = 'solo-a';
    const webBefore = (await podsOf(cluster.api, 'apps', { app: 'web' })).find((p) => p.node === node)!;
    const dsBefore = (await podsOf(cluster.api, 'apps', { app: 'agent' })).find((p) => p.node === node)!;
    const since = Date.now();
    await cluster.stopNodeHeartbeat(node);
    const inc = await incidentOf(node, since);
    tlog(`incident ${inc.id} after ${Date.now() - since} ms`);
    // Cordoned under Whistle's mark, web's pod evicted (its budget allows one), db's refused (it allows none).
    await eventually(async () => (await getNode(node)).metadata.annotations?.[CORDONED_BY] === `cordon-drain/${inc.id}`, 'the node cordoned by cordon-drain', 60_000, 250);
    expect((await getNode(node)).spec?.unschedulable).toBe(true);
    // db's budget blocks its pod: the drain waits (10 s) and hands over to a person.
    await eventually(async () => (await stateOf(inc.id)) === 'escalated', 'escalated after the drain timed out', 60_000, 250);
    const web = await podsOf(cluster.api, 'apps', { app: 'web' });
    expect(web.find((p) => p.uid === webBefore.uid)?.terminating ?? true).toBe(true);
    const ds = (await podsOf(cluster.api, 'apps', { app: 'agent' })).find((p) => p.uid === dsBefore.uid);
    expect(ds?.terminating).toBe(false);
    const db = await podsOf(cluster.api, 'apps', { app: 'db' });
    // No eviction broke db's budget: every db pod is there and none is being deleted.
    expect(db.length).toBe(nodeCount);
    expect(db.every((p) => !p.terminating)).toBe(true);
    const history = await historyOf(inc.id);
    expect(history.join('\n')).toMatch(/escalation: .*drain of solo-a timed-out .*apps\/db-\S+ \(disruption-budget db/);
    const acts = await actionsOf(inc.id);
    expect(acts.filter((a) => a.kind === 'kube.cordon-drain').map((a) => a.state).sort()).toEqual(['failed', 'started']);

    // The node comes back: the incident ends, and Whistle lifts its own cordon.
    await cluster.resumeNodeHeartbeat(node);
    await eventually(async () => (await stateOf(inc.id)) === 'resolved', 'the incident resolved once the node is Ready', 60_000, 250);
    await eventually(async () => !(await getNode(node)).spec?.unschedulable, 'the node uncordoned by the reconciler', 60_000, 250);
    expect((await getNode(node)).metadata.annotations?.[CORDONED_BY]).toBeUndefined();
    const uncordon = (await actionsOf(inc.id)).filter((a) => a.kind === 'kube.uncordon');
    expect(uncordon.map((a) => a.state).sort()).toEqual(['started', 'succeeded']);
  });

  it('a node whose budgets allow the drain: drained, verified when the node is back, uncordoned, resolved', { timeout: 300_000 }, async () => {
    const node = 'solo-b';
    // The kwok that plays solo-a again does not finish what began while it was dead (a real kubelet
    // would): the pod evicted then is still listed as terminating, and db's pod there stays marked
    // not Ready. Removed here, as the pod garbage collector would, so their controllers replace them.
    const stale = (await Promise.all(['web', 'db'].map((app) => podsOf(cluster.api, 'apps', { app })))).flat().filter((p) => p.node === 'solo-a' && (p.terminating || !p.ready));
    for (const p of stale) await cluster.api.send('DELETE', `/api/v1/namespaces/apps/pods/${p.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    await waitReadyPods(cluster.api, 'apps', { app: 'db' }, nodeCount, { timeoutMs: 90_000 });
    // db's budget now allows one pod away too.
    await cluster.api.json('PATCH', '/apis/policy/v1/namespaces/apps/poddisruptionbudgets/db', { spec: { minAvailable: nodeCount - 1 } }, MERGE_PATCH);
    await waitReadyPods(cluster.api, 'apps', { app: 'web' }, nodeCount, { timeoutMs: 90_000 });
    await waitPdbObserved(cluster.api, 'apps', 'web', nodeCount);
    await waitPdbObserved(cluster.api, 'apps', 'db', nodeCount);
    const webBefore = (await podsOf(cluster.api, 'apps', { app: 'web' })).find((p) => p.node === node)!;
    const dbBefore = (await podsOf(cluster.api, 'apps', { app: 'db' })).find((p) => p.node === node)!;

    const since = Date.now();
    await cluster.stopNodeHeartbeat(node);
    const inc = await incidentOf(node, since);
    // web's pod on the dead node is evicted (accepted: nothing there can confirm it), then Whistle waits for the node.
    await eventually(async () => (await podsOf(cluster.api, 'apps', { app: 'web' })).find((p) => p.uid === webBefore.uid)?.terminating, 'web evicted from solo-b', 60_000, 250);
    await eventually(async () => (await historyOf(inc.id)).some((h) => h.includes('kube.cordon-drain of solo-b') && h.includes('drained')), 'the drain in the history', 60_000, 250);
    expect(await stateOf(inc.id)).toBe('remediating');
    expect((await getNode(node)).metadata.annotations?.[CORDONED_BY]).toBe(`cordon-drain/${inc.id}`);

    await cluster.resumeNodeHeartbeat(node);
    await eventually(async () => !(await getNode(node)).spec?.unschedulable, 'solo-b uncordoned', 60_000, 250);
    await eventually(async () => (await stateOf(inc.id)) === 'resolved', 'the incident resolved', 60_000, 250);
    const acts = await actionsOf(inc.id);
    const drain = acts.filter((a) => a.kind === 'kube.cordon-drain');
    expect(drain.map((a) => a.state).sort()).toEqual(['started', 'succeeded']);
    const after = drain.find((a) => a.state === 'succeeded')!.detail.after as { outcome: string; evicted: { pod: string }[]; skipped: { reason: string }[] };
    expect(after.outcome).toBe('drained');
    expect(after.evicted.map((p) => p.pod).sort()).toEqual([`apps/${dbBefore.name}`, `apps/${webBefore.name}`].sort());
    expect(after.skipped.map((p) => p.reason)).toContain('daemonset');
    expect(acts.filter((a) => a.kind === 'kube.uncordon').map((a) => a.state).sort()).toEqual(['started', 'succeeded']);
    expect((await historyOf(inc.id)).join('\n')).toContain('kube.uncordon solo-b: solo-b is Ready again');
  });

  it('too many nodes out of service: nothing done, TooManyUnhealthy recorded', { timeout: 300_000 }, async () => {
    const node = 'solo-a';
    // An operator has two other nodes cordoned (no Whistle mark): with solo-a that is 3 of 5, over 40 %.
    for (const n of ['kwok-node-1', 'kwok-node-2']) await cluster.api.json('PATCH', `/api/v1/nodes/${n}`, { spec: { unschedulable: true } }, MERGE_PATCH);
    try {
      const since = Date.now();
      await cluster.stopNodeHeartbeat(node);
      const inc = await incidentOf(node, since);
      const skipped = await eventually(async () => (await actionsOf(inc.id)).find((a: Action) => a.reason === 'TooManyUnhealthy'), 'a TooManyUnhealthy record', 60_000, 250);
      expect(skipped).toMatchObject({ kind: 'kube.cordon-drain', state: 'skipped' });
      expect(skipped.detail).toMatchObject({ unhealthy: 3, total: nodeCount });
      expect((await actionsOf(inc.id)).filter((a) => a.state === 'started')).toEqual([]);
      const n = await getNode(node);
      expect(n.spec?.unschedulable).toBeFalsy();
      expect(n.metadata.annotations?.[CORDONED_BY]).toBeUndefined();
      expect(ready(n)).toBe(false);
      await cluster.resumeNodeHeartbeat(node);
    } finally {
      for (const n of ['kwok-node-1', 'kwok-node-2']) await cluster.api.json('PATCH', `/api/v1/nodes/${n}`, { spec: { unschedulable: null } }, MERGE_PATCH);
    }
  });
});
