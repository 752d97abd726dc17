// Kubernetes ingestion against a real control plane (kube-apiserver, controller-manager, scheduler
// built from Go modules, Debian's etcd, kwok fake nodes): what Whistle has in ClickHouse (embedded
// chDB) must match what the API says, through restarts, crashes, unready add-ons and dead nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import { KubeIngest, clustersFromKubeconfig } from '../../ingest/kube/kube-ingest.ts';
import { KubeStateReader, latestObjects } from '../../ingest/kube/state-reader.ts';
import { pino } from 'pino';
import { createRegistry } from '../../core/metrics.ts';
import { detectorsSchema } from '../../detectors/config.ts';
import { DetectorEngine } from '../../detectors/engine.ts';
import { resolveDetectors } from '../../detectors/loader.ts';
import { incidentsSchema } from '../../remediators/incidents/config.ts';
import { IncidentManager } from '../../remediators/incidents/manager.ts';
import { fakePod, fakePodToleration, FAKE_NODE_LABEL, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { eventually } from '../helpers/whistle.ts';

const NODES = 100;
const PODS = 1000;

let cluster: KubeCluster;
let store: ChdbStore;
let ingest: KubeIngest;
let reader: KubeStateReader;
let dir: string;

interface Obj {
  metadata: { uid: string; name: string; namespace?: string; resourceVersion: string };
  status?: Record<string, unknown>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whistle-kube-test-'));
  // kwok renews leases every 10 s; 30 s of silence marks a node NotReady (kubelet's defaults are 10 s and 50 s).
  cluster = await startKubeCluster({ nodes: NODES, nodeMonitorGracePeriod: '30s' });
  store = new ChdbStore(join(dir, 'chdb'));
  await migrate(store, { retentionDays: 7 });
  reader = new KubeStateReader(store);
  // The cluster is named by its kubeconfig context, as in production (one context per cluster).
  ingest = new KubeIngest({ store, clusters: clustersFromKubeconfig(cluster.kubeconfigPath), watchTimeoutSeconds: 30 });
  ingest.start();
}, 600_000);

afterAll(async () => {
  await ingest?.stop();
  await store?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

async function apiList(path: string): Promise<Obj[]> {
  return (await cluster.api.get<{ items: Obj[] }>(path)).items;
}

/** Whistle's view equals the API's: same live uids, and for each at least the API's version. */
async function viewMatches(kind: string, path: string, namespace?: string): Promise<string | true> {
  const api = await apiList(path);
  const ours = await latestObjects<Obj>(store, cluster.name, kind, namespace);
  const mine = new Map(ours.map((o) => [o.metadata.uid, BigInt(o.metadata.resourceVersion)]));
  const theirs = new Set(api.map((o) => o.metadata.uid));
  for (const o of api) {
    const rv = mine.get(o.metadata.uid);
    if (rv === undefined) return `${kind} ${o.metadata.name} missing`;
    if (rv < BigInt(o.metadata.resourceVersion)) return `${kind} ${o.metadata.name} at ${rv}, API at ${o.metadata.resourceVersion}`;
  }
  for (const o of ours) if (!theirs.has(o.metadata.uid)) return `${kind} ${o.metadata.name} gone from the API but live in Whistle`;
  return true;
}

async function waitMatch(kind: string, path: string, timeoutMs: number, namespace?: string): Promise<void> {
  let last: string | true = '';
  await eventually(async () => (last = await viewMatches(kind, path, namespace)) === true, `Whistle's ${kind} view to match the API (${String(last)})`, timeoutMs, 250).catch(
    (err: Error) => {
      throw new Error(`${err.message}; last difference: ${String(last)}`);
    },
  );
}

function podsRunning(ns: string, n: number) {
  return eventually(async () => {
    const pods = await apiList(`/api/v1/namespaces/${ns}/pods`);
    return pods.length === n && pods.every((p) => p.status?.phase === 'Running');
  }, `${n} pods Running in ${ns}`, 240_000, 500);
}

describe('Kubernetes ingestion against a real API server', { timeout: 300_000 }, () => {
  it('lists and watches 100 fake nodes and 1,000 pods into ClickHouse, matching the API', async () => {
    await ingest.waitSynced();
    await cluster.createNamespace('load');
    const nodes = Array.from({ length: NODES }, (_, i) => `kwok-node-${i}`);
    await cluster.createPods('load', PODS, nodes, { prefix: 'load' });
    // kwok moves every pod to Running; once the API is settled Whistle must agree within 10 s.
    await podsRunning('load', PODS);
    await waitMatch('Pod', '/api/v1/pods', 10_000);
    await waitMatch('Node', '/api/v1/nodes', 10_000);
    const ours = await reader.nodes(cluster.name);
    expect(ours.length).toBe(NODES);
    expect(ours.filter((n) => n.ready === 'True').length).toBe(NODES);
    expect((await reader.pods(cluster.name, { restartWindowMs: 60_000 })).filter((p) => p.namespace === 'load' && p.phase === 'Running' && p.ready).length).toBe(PODS);
    const st = ingest.status()[0];
    expect(st?.reachable).toBe(true);
    expect(st?.synced).toBe(true);
  });

  it('shows a crash-looping pod with rising restart counts and its last termination reason', async () => {
    await cluster.createNamespace('crash');
    await cluster.api.json('POST', '/api/v1/namespaces/crash/pods', fakePod('crasher', 'kwok-node-1'));
    await podsRunning('crash', 1);
    // kwok plays a healthy kubelet; a crashing container is what a kubelet would report: patch the status.
    for (let restarts = 1; restarts <= 5; restarts++) {
      const finishedAt = new Date().toISOString();
      await cluster.api.json(
        'PATCH',
        '/api/v1/namespaces/crash/pods/crasher/status',
        {
          status: {
            conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: finishedAt }],
            containerStatuses: [
              {
                name: 'main',
                image: 'registry.example/fake:1',
                imageID: '',
                ready: false,
                restartCount: restarts,
                state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } },
                lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: finishedAt, finishedAt } },
              },
            ],
          },
        },
        'application/merge-patch+json',
      );
      const seen = await eventually(async () => {
        const pods = await reader.pods(cluster.name, { restartWindowMs: 600_000 });
        const p = pods.find((x) => x.namespace === 'crash' && x.name === 'crasher');
        return p && p.containers[0]?.restartCount === restarts ? p : null;
      }, `restart count ${restarts} in Whistle`, 20_000);
      expect(seen.ready).toBe(false);
      expect(seen.containers[0]).toMatchObject({
        name: 'main',
        restartCount: restarts,
        restartsInWindow: restarts,
        state: 'waiting',
        waitingReason: 'CrashLoopBackOff',
        lastTermination: { reason: 'OOMKilled', exitCode: 137 },
      });
    }
  });

  it('shows the cluster DNS deployment losing its ready pods', async () => {
    const labels = { 'k8s-app': 'kube-dns' };
    await cluster.api.json('POST', '/apis/apps/v1/namespaces/kube-system/deployments', {
      metadata: { name: 'coredns', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { nodeSelector: FAKE_NODE_LABEL, tolerations: fakePodToleration(), automountServiceAccountToken: false, containers: [{ name: 'coredns', image: 'registry.example/coredns:1.11' }] },
        },
      },
    });
    // Scheduled by kube-scheduler, started by kwok, counted available by the deployment controller.
    const healthy = await eventually(async () => {
      const d = (await reader.workloads(cluster.name)).find((x) => x.kind === 'Deployment' && x.namespace === 'kube-system' && x.name === 'coredns');
      return d?.available === 2 && d.desired === 2 ? d : null;
    }, 'coredns available 2/2 in Whistle', 120_000, 250);
    expect(healthy.ready).toBe(2);

    const pods = await apiList('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns');
    expect(pods.length).toBe(2);
    const now = new Date().toISOString();
    for (const p of pods) {
      await cluster.api.json(
        'PATCH',
        `/api/v1/namespaces/kube-system/pods/${p.metadata.name}/status`,
        {
          status: {
            conditions: [
              { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
            ],
            containerStatuses: [{ name: 'coredns', image: 'registry.example/coredns:1.11', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: now } } }],
          },
        },
        'application/merge-patch+json',
      );
    }
    const broken = await eventually(async () => {
      const d = (await reader.workloads(cluster.name)).find((x) => x.kind === 'Deployment' && x.namespace === 'kube-system' && x.name === 'coredns');
      return d && d.ready === 0 && d.available === 0 ? d : null;
    }, 'coredns 0 ready in Whistle', 60_000, 250);
    expect(broken.desired).toBe(2);
    const dnsPods = (await reader.pods(cluster.name, { restartWindowMs: 60_000 })).filter((p) => p.workload?.kind === 'Deployment' && p.workload.name === 'coredns');
    expect(dnsPods.map((p) => p.ready)).toEqual([false, false]);
  });

  it('sees a node go NotReady when its kwok heartbeat stops', async () => {
    await cluster.createSoloNode('solo-node');
    await eventually(async () => (await reader.nodes(cluster.name)).find((n) => n.name === 'solo-node' && n.ready === 'True'), 'solo-node Ready in Whistle', 30_000);
    await cluster.stopNodeHeartbeat('solo-node');
    // The node lifecycle controller marks it Unknown once the lease is older than the grace period.
    const node = await eventually(async () => {
      const n = (await reader.nodes(cluster.name)).find((x) => x.name === 'solo-node');
      return n && n.ready !== 'True' ? n : null;
    }, 'solo-node NotReady in Whistle', 120_000, 500);
    expect(node.ready).toBe('Unknown');
    expect(node.conditions.find((c) => c.type === 'Ready')?.reason).toBe('NodeStatusUnknown');
    const api = await cluster.api.get<Obj & { status: { conditions: { type: string; status: string }[] } }>('/api/v1/nodes/solo-node');
    expect(api.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
    expect((await reader.nodes(cluster.name)).find((x) => x.name === 'kwok-node-8')?.ready).toBe('True');
  });

  it('opens pod-restart-storm, dns-addon-failure and node-not-ready incidents through the detector engine', async () => {
    const log = pino({ level: 'silent' });
    const manager = new IncidentManager({ store, config: incidentsSchema.parse({}), log });
    // NotReady for a minute is the default bar; the node has been silent for less in this test.
    const config = detectorsSchema.parse({ nodeNotReady: { forMs: 0 }, timeoutMs: 30_000 });
    const engine = new DetectorEngine({
      store,
      config,
      detectors: resolveDetectors(config, []),
      sink: manager,
      registry: createRegistry(false),
      log,
      clusters: () => [cluster.name],
      nodes: { list: () => [] },
      clusterState: reader,
    });
    const tick = await engine.tick();
    expect(tick.runs.filter((r) => r.outcome !== 'ok'), JSON.stringify(tick.runs.filter((r) => r.error))).toEqual([]);
    const open = (await manager.list({ active: true, cluster: cluster.name })).map((i) => `${i.detector} ${i.subject}`);
    expect(open).toEqual(
      expect.arrayContaining(['pod-restart-storm crash/crasher', 'dns-addon-failure addon:kube-system/Deployment/coredns', 'node-not-ready solo-node']),
    );
    // Healthy fake nodes and the 1,000 running pods open nothing.
    expect(open.filter((o) => o.startsWith('node-not-ready'))).toEqual(['node-not-ready solo-node']);
    expect(open.filter((o) => o.startsWith('pod-restart-storm'))).toEqual(['pod-restart-storm crash/crasher']);
  });

  it('misses nothing when the API server restarts in the middle of a watch', async () => {
    await cluster.createNamespace('restart');
    const nodes = ['kwok-node-2', 'kwok-node-3'];
    await cluster.createPods('restart', 20, nodes, { prefix: 'before' });
    await podsRunning('restart', 20);
    await waitMatch('Pod', '/api/v1/namespaces/restart/pods', 20_000, 'restart');
    const before = ingest.status()[0]?.resources.find((r) => r.kind === 'Pod');

    // While it is down, etcd also forgets its history (compaction), as a long outage would.
    await cluster.restartApiServer({ downMs: 2000, whileDown: async () => void (await cluster.compactEtcd()) });
    // Change things before the watchers are back (they are in backoff): new pods, deleted pods.
    await cluster.createPods('restart', 10, nodes, { prefix: 'after' });
    for (let i = 0; i < 5; i++) {
      await cluster.api.json('DELETE', `/api/v1/namespaces/restart/pods/before-${i}?gracePeriodSeconds=0`);
    }
    await eventually(async () => (await apiList('/api/v1/namespaces/restart/pods')).length === 25, 'API settles at 25 pods', 60_000, 250);
    await podsRunning('restart', 25);

    await waitMatch('Pod', '/api/v1/namespaces/restart/pods', 60_000, 'restart');
    await waitMatch('Pod', '/api/v1/pods', 30_000);
    await waitMatch('Node', '/api/v1/nodes', 30_000);
    const ours = await latestObjects<Obj>(store, cluster.name, 'Pod', 'restart');
    expect(ours.map((o) => o.metadata.name).sort()).toEqual((await apiList('/api/v1/namespaces/restart/pods')).map((o) => o.metadata.name).sort());
    const after = ingest.status()[0]?.resources.find((r) => r.kind === 'Pod');
    // The watch really was cut and reopened. (Whether it came back through a 410 relist depends on
    // the new API server's watch cache; both paths must end equal. 410 alone: resource-watcher.unit.test.ts.)
    expect((after?.watches ?? 0) + (after?.lists ?? 0)).toBeGreaterThan((before?.watches ?? 0) + (before?.lists ?? 0));
    expect(after?.failures ?? 0).toBeGreaterThan(before?.failures ?? 0);
    expect(ingest.status()[0]?.reachable).toBe(true);
  });

  it('records the node controller NodeNotReady Event in kube_events', async () => {
    const event = await eventually(async () => {
      const events = await reader.forCluster(cluster.name).events({ sinceMs: Date.now() - 600_000 });
      return events.find((e) => e.involvedKind === 'Node' && e.involvedName === 'solo-node' && e.reason === 'NodeNotReady') ?? null;
    }, 'the NodeNotReady Event about solo-node', 30_000, 250);
    expect(event.count).toBeGreaterThan(0);
  });

  it('reports an unreachable cluster without disturbing the others', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const dead = new KubeConfig();
    dead.loadFromOptions({
      clusters: [{ name: 'dead', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'dead', cluster: 'dead', user: 'u' }],
      currentContext: 'dead',
    });
    const multi = new KubeIngest({
      store,
      clusters: [
        { name: 'second-view', kubeconfig: kc },
        { name: 'dead', kubeconfig: dead },
      ],
    });
    multi.start();
    try {
      await eventually(async () => multi.status().find((s) => s.cluster === 'second-view')?.synced, 'second-view synced', 60_000);
      const dead1 = await eventually(async () => {
        const s = multi.status().find((x) => x.cluster === 'dead');
        return s && s.failures >= 2 ? s : null;
      }, 'dead cluster reported', 30_000);
      expect(dead1.reachable).toBe(false);
      expect(dead1.lastError).toMatch(/ECONNREFUSED|connect/);
      await multi.waitSynced('second-view');
      expect((await reader.nodes('second-view')).length).toBe((await apiList('/api/v1/nodes')).length);
      expect((await reader.pods('second-view', { restartWindowMs: 60_000 })).length).toBe((await apiList('/api/v1/pods')).length);
    } finally {
      await multi.stop();
    }
  });
});
