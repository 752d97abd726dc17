// The default kubelet-down chain across a crash, with real parts: a real `whistle start` process
// (killed with SIGKILL mid-chain), a real control plane with kwok nodes, and a real agent on the
// node "kwok-node-0" probing an HTTP service that stands for its kubelet. The kubelet is down and
// the configured restart command does not bring it back: service-restart does not verify and hands
// over to cordon-drain, which cordons and drains the node and waits for it to be healthy again.
// Whistle is killed then; started again it continues at step 2 (a new drain of an already drained
// node, no second restart), and once the kubelet answers the node is uncordoned and the step verified.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import { CORDONED_BY } from '../../bootstrap/nodes/index.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { Action } from '../../core/types.ts';
import { FAKE_NODE_LABEL, fakePodToleration, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { podsOf, waitReadyPods } from '../harness/kube/workloads.ts';
import { freePort } from '../harness/ports.ts';
import { WhistleProcess } from '../harness/whistle-process.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually } from '../helpers/whistle.ts';

const NODE = 'kwok-node-0';
const JOIN = 'join-token-for-chain-resume-0123456789';
const OPERATOR = 'operator-token-for-chain-resume-0123';
const dir = mkdtempSync(join(tmpdir(), 'whistle-chain-resume-'));
let cluster: KubeCluster;
let whistle: WhistleProcess;
let agent: NodeAgent;
let kubeletPort = 0;
let kubelet: Server | null = null;

/** The stand-in kubelet: answers /healthz while it runs. */
async function startKubelet(): Promise<void> {
  kubelet = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => kubelet!.listen(kubeletPort, '127.0.0.1', resolve));
}
async function stopKubelet(): Promise<void> {
  const s = kubelet;
  kubelet = null;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${whistle.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const actions = async (id: string) => (await api<{ actions: Action[] }>('GET', `/v1/actions?incident=${id}&limit=1000`)).actions;
const show = (id: string) => api<{ incident: IncidentView; history: { kind: string; reason: string }[] }>('GET', `/v1/incidents/${id}`);
const getNode = (name: string) => cluster.api.get<{ metadata: { annotations?: Record<string, string> }; spec?: { unschedulable?: boolean } }>(`/api/v1/nodes/${name}`);
/** Each action's rows by id, oldest first. */
const byAction = (rows: Action[], kind: string) => {
  const m = new Map<string, string[]>();
  for (const a of [...rows].filter((r) => r.kind === kind).sort((x, y) => x.ts - y.ts)) m.set(a.id, [...(m.get(a.id) ?? []), `${a.state}:${a.reason}`]);
  return [...m.values()];
};

beforeAll(async () => {
  cluster = await startKubeCluster({ nodes: 3 });
  await cluster.createNamespace('apps');
  const labels = { app: 'web' };
  await cluster.api.json('POST', '/apis/apps/v1/namespaces/apps/deployments', {
    metadata: { name: 'web', labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: FAKE_NODE_LABEL,
          tolerations: fakePodToleration(),
          automountServiceAccountToken: false,
          // One per node, and one of them on kwok-node-0.
          affinity: {
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] },
            nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE] }] } }] },
          },
          containers: [{ name: 'main', image: 'registry.example/fake:1' }],
        },
      },
    },
  });
  await waitReadyPods(cluster.api, 'apps', labels, 2, { timeoutMs: 90_000 });

  kubeletPort = await freePort();
  await startKubelet();
  whistle = new WhistleProcess({
    dir,
    config: {
      server: { operatorTokens: [{ name: 'chain-test', token: OPERATOR }] },
      clusters: [{ name: 'c1', joinToken: JOIN, kubeconfig: cluster.kubeconfigPath }],
      agent: { enabled: false },
      writer: { flushIntervalMs: 100 },
      // Fresh for a minute: the agent's samples stay current across Whistle's restart (it resends them once it is back).
      detectors: onlyDetectors({ kubeletDown: { forMs: 1_000, freshMs: 60_000, lookbackMs: 120_000 } }, { tickMs: 500 }),
      incidents: { reopenWindowMs: 0, resolveWindowMs: 2_000, minOpenMs: 0, refreshMs: 1_000 },
      // No chains configured: the default kubelet-down chain (service-restart, cordon-drain, a person).
      // One node at a time: the agent's cluster has one node, the Kubernetes cluster three.
      remediation: {
        maxUnhealthy: 1,
        rateLimit: { maxActions: 20 },
        serviceRestart: { verifyTimeoutMs: 10_000, verifyIntervalMs: 200 },
        cordonDrain: { drainTimeoutMs: 60_000, recoverTimeoutMs: 240_000, pollMs: 250, reconcileMs: 1_000 },
      },
    },
  });
  await whistle.start();
  const healthz = `http://127.0.0.1:${kubeletPort}/healthz`;
  const cfg = parseConfig({
    agent: {
      server: whistle.url,
      cluster: 'c1',
      node: NODE,
      joinToken: JOIN,
      intervalMs: 500,
      stateDir: join(dir, 'agent'),
      excludeMountPoints: '.',
      probes: { http: [{ name: 'kubelet', url: healthz, timeoutMs: 500 }] },
      // The restart command runs and exits 0, and brings nothing back.
      tasks: { enabled: true, etcdMember: false, services: [{ unit: 'kubelet', restart: ['/bin/true'], timeoutMs: 5_000, probe: { url: healthz, waitMs: 1_000, intervalMs: 100 } }] },
    },
  }).agent;
  agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
  await agent.start();
  await eventually(async () => (await api<{ nodes: { node: string }[] }>('GET', '/v1/nodes')).nodes.some((n) => n.node === NODE), 'the agent registered', 30_000, 200);
  await api('POST', `/v1/nodes/c1/${NODE}/authorize`);
}, 600_000);

afterAll(async () => {
  await agent?.stop();
  await whistle?.kill();
  await stopKubelet();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('the kubelet-down chain across a SIGKILL', () => {
  it('restart does not verify -> cordon-drain; killed mid-step, it resumes at step 2 without a second restart', { timeout: 420_000 }, async () => {
    const webOnNode = (await podsOf(cluster.api, 'apps', { app: 'web' })).find((p) => p.node === NODE);
    expect(webOnNode).toBeDefined();
    await stopKubelet();
    const inc = await eventually(
      async () => (await api<{ incidents: IncidentView[] }>('GET', '/v1/incidents?detector=kubelet-down&active=true')).incidents.find((i) => i.subject === NODE),
      'a kubelet-down incident',
      60_000,
      250,
    );
    // Step 1 ran and did not verify; step 2 cordoned and drained the node and now waits for it.
    await eventually(async () => (await getNode(NODE)).metadata.annotations?.[CORDONED_BY] === `cordon-drain/${inc.id}`, 'the node cordoned by cordon-drain', 90_000, 250);
    await eventually(async () => !(await podsOf(cluster.api, 'apps', { app: 'web' })).some((p) => p.uid === webOnNode!.uid), 'web evicted from the node', 60_000, 250);
    await eventually(async () => (await show(inc.id)).history.some((h) => h.reason.includes('kube.cordon-drain of kwok-node-0') && h.reason.includes('drained')), 'the drain recorded', 30_000, 250);
    const before = await actions(inc.id);
    expect(byAction(before, 'node.service-restart')).toEqual([['started:remediating', 'failed:NotFixed']]);
    expect(byAction(before, 'kube.cordon-drain')).toEqual([['started:remediating']]);
    expect((await show(inc.id)).history.map((h) => h.kind)).toContain('handover');

    await whistle.kill();
    await whistle.start();
    // The interrupted drain is closed and done again; the restart is not.
    await eventually(async () => byAction(await actions(inc.id), 'kube.cordon-drain').length === 2, 'a second cordon-drain action after the restart', 60_000, 250);
    const resumed = await show(inc.id);
    expect(resumed.history.map((h) => h.reason).join('\n')).toContain('Whistle restarted; resuming the kubelet-down chain at step 2 (cordon-drain)');
    const after = await actions(inc.id);
    expect(byAction(after, 'node.service-restart')).toEqual([['started:remediating', 'failed:NotFixed']]);
    expect(byAction(after, 'kube.cordon-drain')[0]).toEqual(['started:remediating', 'failed:Interrupted']);
    expect((await getNode(NODE)).spec?.unschedulable).toBe(true);

    // The kubelet answers again: the detector clears the incident, cordon-drain verifies and lifts its cordon.
    await startKubelet();
    await eventually(async () => !(await getNode(NODE)).spec?.unschedulable, 'the node uncordoned', 90_000, 250);
    await eventually(async () => byAction(await actions(inc.id), 'kube.cordon-drain')[1]?.at(-1) === 'succeeded:verified', 'the resumed step verified', 60_000, 250);
    const final = await actions(inc.id);
    expect(byAction(final, 'node.service-restart')).toHaveLength(1);
    // The cordon held across the restart: the resumed drain found the node still cordoned (the
    // reconciler of the restarted plane once lifted it before the incidents were read back, and the
    // resumed drain cordoned it again: two uncordons). Lifted once, by the step's verification or by
    // the reconciler, whichever came first, recorded before and after.
    expect((await show(inc.id)).history.map((h) => h.reason).join('\n')).toContain(`${NODE}: already cordoned by cordon-drain/${inc.id}`);
    expect(byAction(final, 'kube.cordon-drain')).toHaveLength(2);
    const uncordons = byAction(final, 'kube.uncordon');
    expect(uncordons).toHaveLength(1);
    expect(uncordons[0]!.map((r) => r.split(':')[0])).toEqual(['started', 'succeeded']);
    expect(uncordons[0]![0]).toMatch(/^started:kwok-node-0 is Ready and (the incident is resolved|incident \S+ has ended)$/);
    expect((await getNode(NODE)).metadata.annotations?.[CORDONED_BY]).toBeUndefined();
  });
});
