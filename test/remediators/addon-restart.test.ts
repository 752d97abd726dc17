// addon-restart end to end, on a real control plane (kube-apiserver, controller-manager, scheduler,
// kwok nodes): a CoreDNS Deployment and a kube-proxy DaemonSet in kube-system, their pods made to
// crash-loop by kwok (test/harness/kube/stages/pod-crash-loop.yaml), a real DNS server answering
// only while CoreDNS has an available replica (test/harness/kube/dns-front.ts) and a real agent
// probing it. Whistle is built from config (startTestWhistle) and watches the cluster through its
// kubeconfig; the remediator acts through the cluster's API and is judged by the API's state and
// the agent's next DNS samples.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import type { Action } from '../../core/types.ts';
import { ingestServices } from '../../ingest/services.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { fakeNode, KWOK_ANNOTATION, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { startDnsFront, type DnsFront } from '../harness/kube/dns-front.ts';
import { createDaemonSet, createDeployment, deletePods, podsOf, waitReadyPods } from '../harness/kube/workloads.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const NS = 'kube-system';
const NODE = 'dns-agent';
const CRASH = 'whistle.test/crash-loop';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const STRATEGIC = 'application/strategic-merge-patch+json';

let cluster: KubeCluster;
let dns: DnsFront;
let dir: string;
let t: TestWhistle;
let agent: NodeAgent;
let coredns: Record<string, string>;
let kubeProxy: Record<string, string>;
const states = new Map<string, string[]>();

const detectors = onlyDetectors(
  {
    dnsAddonFailure: {
      addons: [
        { kind: 'Deployment', namespace: NS, name: 'coredns' },
        { kind: 'DaemonSet', namespace: NS, name: 'kube-proxy' },
      ],
      minFailingNodes: 1,
      freshMs: 5_000,
    },
  },
  { tickMs: 500 },
);

const addonRestart = {
  addons: [
    { kind: 'Deployment', namespace: NS, name: 'coredns', dns: true },
    { kind: 'DaemonSet', namespace: NS, name: 'kube-proxy', method: 'delete-crashlooping' },
  ],
  stableForMs: 4_000,
  verifyTimeoutMs: 40_000,
  verifyIntervalMs: 300,
};

async function startWhistle(remediation: Record<string, unknown>): Promise<TestWhistle> {
  const w = await startTestWhistle({
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
    detectors,
    // Resolved by the detector 15 s after it stops reporting (so that each test's fault opens new
    // incidents), later than the remediator's own verification (stableForMs 4 s, then DNS samples).
    incidents: { reopenWindowMs: 0, refreshMs: 1_000, resolveWindowMs: 15_000, minOpenMs: 0 },
    remediation: { rateLimit: { maxActions: 20, windowS: 600 }, addonRestart, ...remediation },
  });
  w.whistle.service(incidentServices.manager).subscribe({ onIncidentEvent: async (e) => void states.set(e.incident.id, [...(states.get(e.incident.id) ?? []), e.incident.state]) });
  return w;
}

async function startAgent(w: TestWhistle): Promise<NodeAgent> {
  const cfg = parseConfig({
    agent: {
      server: w.url,
      cluster: 'c1',
      node: NODE,
      joinToken: JOIN_TOKEN,
      intervalMs: 500,
      stateDir: join(dir, `agent-${Date.now()}`),
      excludeMountPoints: '.',
      probes: { dns: [{ name: 'cluster-dns', query: 'kubernetes.default.svc.cluster.local', resolver: dns.resolver, timeoutMs: 500 }] },
    },
  }).agent;
  const a = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
  await a.start();
  await eventually(async () => w.whistle.service(ingestServices.nodes).get('c1', NODE), 'agent registration');
  expect((await w.operator('POST', `/v1/nodes/c1/${NODE}/authorize`)).status).toBe(200);
  return a;
}

const reached = (id: string, state: string, what: string, timeoutMs = 90_000) => eventually(async () => states.get(id)?.includes(state), what, timeoutMs, 100);
const manager = () => t.whistle.service(incidentServices.manager);
const actionsOf = (id: string): Promise<Action[]> => t.whistle.service(remediationServices.recorder).list({ incidentId: id });
const known = new Set<string>();

/** The next incident of this subject that the test has not seen before. */
async function newIncident(subject: string, timeoutMs = 60_000) {
  const inc = await eventually(async () => manager().current().find((i) => i.detector === 'dns-addon-failure' && i.subject === subject && !known.has(i.id)), `a new incident ${subject}`, timeoutMs, 100);
  known.add(inc.id);
  return inc;
}

/** Every dns-addon-failure incident resolved (the detector saw the fix), so the next fault opens new ones. */
async function allQuiet(): Promise<void> {
  await eventually(async () => !manager().current().some((i) => i.detector === 'dns-addon-failure' && i.state !== 'resolved'), 'no open dns-addon-failure incident', 90_000, 200);
  for (const i of manager().current()) known.add(i.id);
}

async function labelPods(names: string[], value: string | null): Promise<void> {
  for (const name of names) {
    const res = await cluster.api.send('PATCH', `/api/v1/namespaces/${NS}/pods/${name}`, { metadata: { labels: { [CRASH]: value } } }, { contentType: 'application/merge-patch+json' });
    if (!res.ok) throw new Error(`label pod ${name}: ${res.status} ${res.error.message}`);
  }
}

async function crashLooping(labels: Record<string, string>, n: number): Promise<void> {
  await eventually(async () => {
    const list = await cluster.api.get<{ items: { status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } }[] }>(
      `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')},${CRASH}=true`)}`,
    );
    return list.items.filter((p) => p.status?.containerStatuses?.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff')).length >= n;
  }, `${n} pods of ${JSON.stringify(labels)} in CrashLoopBackOff`, 30_000, 200);
}

const templateAnnotations = async () =>
  (await cluster.api.get<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(`/apis/apps/v1/namespaces/${NS}/deployments/coredns`)).spec.template.metadata.annotations ?? {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-heal-addon-'));
  cluster = await startKubeCluster({ nodes: 3 });
  await cluster.createNamespace(NS);
  coredns = await createDeployment(cluster.api, NS, 'coredns', { replicas: 2 });
  kubeProxy = await createDaemonSet(cluster.api, NS, 'kube-proxy');
  await waitReadyPods(cluster.api, NS, coredns, 2);
  await waitReadyPods(cluster.api, NS, kubeProxy, 3);
  dns = await startDnsFront(cluster.api, NS, 'coredns');
  t = await startWhistle({});
  agent = await startAgent(t);
  await eventually(
    async () => (await t.whistle.store.query<{ v: number }>("SELECT argMax(value, ts) AS v FROM samples WHERE node = {node:String} AND name = 'probe_dns_up'", { node: NODE }))[0]?.v === 1,
    'the DNS probe up in telemetry',
    30_000,
    200,
  );
}, 600_000);

afterAll(async () => {
  await agent?.stop();
  await t?.stop();
  await dns?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('addon-restart remediator', () => {
  it('CoreDNS crash-loops and DNS fails: incidents, one rollout restart, the new pods available and the DNS probes up, resolved', async () => {
    const pods = await podsOf(cluster.api, NS, coredns);
    const before = new Set(states.keys());
    const faultAt = Date.now();
    await labelPods(
      pods.map((p) => p.name),
      'true',
    );
    // The add-on's unavailability and the failing DNS probes are one or two incidents about the one
    // add-on (whichever the detector sees first may be healed before the other shows).
    const first = await eventually(async () => manager().current().find((i) => i.detector === 'dns-addon-failure' && !known.has(i.id)), 'a dns-addon-failure incident', 60_000, 100);
    const detectedAt = Date.now();
    await reached(first.id, 'resolved', `the first incident (${first.subject}) resolved`);
    const healedAt = Date.now();
    await allQuiet();
    console.log(JSON.stringify({ kind: 'addon-restart', detect_s: (detectedAt - faultAt) / 1000, heal_s: (healedAt - faultAt) / 1000 }));
    const opened = [...states.keys()].filter((id) => !before.has(id));
    expect(opened.length).toBeGreaterThanOrEqual(1);

    const after = await podsOf(cluster.api, NS, coredns);
    expect(after.map((p) => p.uid)).not.toContain(pods[0]!.uid);
    expect(Date.parse((await templateAnnotations())[RESTARTED_AT] ?? '')).toBeGreaterThan(faultAt);
    expect(dns.answering()).toBe(true);
    // One restart for both: whichever incident came first acted, the other found it fixed by then.
    const both = async () => (await Promise.all(opened.map(actionsOf))).flat().filter((a) => a.kind === 'kube.addon-restart');
    // The after-record follows the resolve.
    const done = await eventually(async () => (await both()).find((a) => a.state === 'succeeded'), 'the restart recorded as succeeded', 10_000);
    const actions = await both();
    const started = actions.filter((a) => a.state === 'started');
    expect(started, JSON.stringify(actions)).toHaveLength(1);
    expect(done.id).toBe(started[0]!.id);
    expect(done.detail.after).toMatchObject({ addon: `${NS}/Deployment/coredns`, method: 'rollout-restart' });
    const shown = JSON.stringify(await (await t.operator('GET', `/v1/incidents/${done.incidentId}`)).json());
    expect(shown).toContain("the agents' DNS probes answer again");
    await allQuiet();
  }, 180_000);

  it('one kube-proxy pod crash-loops: the DaemonSet degraded, its crash-looping pod deleted, a new one available, resolved', async () => {
    const pods = await podsOf(cluster.api, NS, kubeProxy);
    const victim = pods[0]!;
    await labelPods([victim.name], 'true');
    await crashLooping(kubeProxy, 1);
    const inc = await newIncident(`addon:${NS}/DaemonSet/kube-proxy`);
    await reached(inc.id, 'resolved', 'the kube-proxy incident resolved');
    const shown = JSON.stringify(await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json());
    expect(shown).toContain('kube-system/DaemonSet/kube-proxy restarted: 3 of 3 available');
    const now = await podsOf(cluster.api, NS, kubeProxy);
    expect(now.map((p) => p.uid)).not.toContain(victim.uid);
    // Only the crash-looping pod was deleted.
    expect(now.map((p) => p.uid).sort()).toEqual(expect.arrayContaining(pods.slice(1).map((p) => p.uid)));
    const done = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.kind === 'kube.addon-restart' && a.state === 'succeeded'), 'the deletion recorded as succeeded', 10_000);
    expect(done.detail.after).toMatchObject({ method: 'delete-crashlooping', deletedPods: [{ name: victim.name, uid: victim.uid }] });
    await allQuiet();
  }, 180_000);

  it('too many nodes not Ready: nothing is done and TooManyUnhealthy is recorded', async () => {
    // Three nodes no kubelet plays: never Ready. 3 of 6 is more than the default 40 %.
    const dead = ['gone-0', 'gone-1', 'gone-2'];
    for (const n of dead) {
      const node = fakeNode(n);
      node.metadata.annotations[KWOK_ANNOTATION] = 'unmanaged';
      // Not a fake-node label: the DaemonSet must not place pods there.
      node.metadata.labels.type = 'dead';
      await cluster.api.json('POST', '/api/v1/nodes', node);
    }
    const pods = await podsOf(cluster.api, NS, coredns);
    try {
      const before = await templateAnnotations();
      await labelPods(
        pods.map((p) => p.name),
        'true',
      );
      const inc = await newIncident(`addon:${NS}/Deployment/coredns`);
      const skipped = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.kind === 'kube.addon-restart' && a.reason === 'TooManyUnhealthy'), 'a TooManyUnhealthy record', 30_000, 200);
      expect(skipped).toMatchObject({ state: 'skipped', detail: { unhealthy: 3, total: 6 } });
      expect((await actionsOf(inc.id)).filter((a) => a.state === 'started')).toEqual([]);
      expect(await templateAnnotations()).toEqual(before);
      expect((await podsOf(cluster.api, NS, coredns)).map((p) => p.uid).sort()).toEqual(pods.map((p) => p.uid).sort());
    } finally {
      for (const n of dead) await cluster.api.send('DELETE', `/api/v1/nodes/${n}`);
      // The test's own repair: new pods without the crash label.
      await deletePods(cluster.api, NS, pods.map((p) => p.name));
    }
    await waitReadyPods(cluster.api, NS, coredns, 2);
    await allQuiet();
  }, 180_000);

  it('a fault the restart cannot fix (every new pod crashes too): not verified within the timeout, escalated with what was tried', async () => {
    // The crash is in the pod template: the rollout's new pods crash as well.
    await cluster.api.json('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/coredns`, { spec: { template: { metadata: { labels: { [CRASH]: 'true' } } } } }, STRATEGIC);
    try {
      const inc = await newIncident(`addon:${NS}/Deployment/coredns`);
      await reached(inc.id, 'escalated', 'the incident escalated', 120_000);
      const actions = await actionsOf(inc.id);
      expect(actions.find((a) => a.kind === 'kube.addon-restart' && a.state === 'failed'), JSON.stringify(actions)).toMatchObject({ reason: 'NotFixed', detail: { after: { method: 'rollout-restart' } } });
      const escalation = await eventually(async () => {
        const shown = (await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json()) as { history: { kind: string; reason: string; detail: { tried?: string } }[] };
        return shown.history.find((h) => h.kind === 'escalation');
      }, 'the escalation in the incident history', 10_000);
      expect(escalation.reason).toBe('the action ran but the problem is still there');
      expect(escalation.detail.tried).toMatch(/rollout restart of kube-system\/Deployment\/coredns: kubectl\.kubernetes\.io\/restartedAt=/);
      expect(escalation.detail.tried).toMatch(/last seen: .*crash-looping: coredns-/);
    } finally {
      await cluster.api.json('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/coredns`, { spec: { template: { metadata: { labels: { [CRASH]: null } } } } }, STRATEGIC);
    }
    await waitReadyPods(cluster.api, NS, coredns, 2, { timeoutMs: 90_000 });
    await allQuiet();
  }, 300_000);

  it('dry run: the plan is recorded, nothing in the cluster changes', async () => {
    await agent.stop();
    await t.stop();
    t = await startWhistle({ dryRun: true });
    agent = await startAgent(t);
    const pods = await podsOf(cluster.api, NS, coredns);
    const before = await templateAnnotations();
    try {
      await labelPods(
        pods.map((p) => p.name),
        'true',
      );
      const inc = await eventually(async () => manager().current().find((i) => i.subject === `addon:${NS}/Deployment/coredns` && i.state === 'open'), 'the CoreDNS incident', 60_000, 100);
      const dry = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.kind === 'kube.addon-restart' && a.reason === 'DryRun'), 'a DryRun record', 30_000, 200);
      expect(dry).toMatchObject({ state: 'skipped', dryRun: true });
      expect(String(dry.detail.plan)).toContain('rollout restart of Deployment kube-system/coredns');
      expect(await templateAnnotations()).toEqual(before);
      expect((await podsOf(cluster.api, NS, coredns)).map((p) => p.uid).sort()).toEqual(pods.map((p) => p.uid).sort());
    } finally {
      await deletePods(cluster.api, NS, pods.map((p) => p.name));
    }
  }, 180_000);
});
