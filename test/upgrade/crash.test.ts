// A real `whistle start` process SIGKILLed in the middle of a rollout: while worker-1's install is
// running (the test holds its package command), the plane dies. The next process continues from the
// phase recorded in ClickHouse: worker-1 is not drained again, its install is asked again and finds
// the version there, and the rollout finishes. Real agents per kwok node, a real control plane.
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAgent } from '../../agent/node-agent.ts';
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { createDeployment, createPdb, waitPdbObserved, waitReadyPods, watchReady } from '../harness/kube/workloads.ts';
import { WhistleProcess } from '../harness/whistle-process.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN } from '../helpers/whistle.ts';
import { installScript, startAgent, versionFile } from './helpers.ts';

const OPERATOR = 'operator-token-for-upgrade-crash-0123';
const NS = 'apps';
const NODES = ['worker-0', 'worker-1', 'worker-2'];

let dir: string;
let cluster: KubeCluster;
let whistle: WhistleProcess;
const agents: NodeAgent[] = [];

const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${whistle.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
};
const rollout = async (id: string) => (await api<{ rollout: Rollout }>('GET', `/v1/upgrades/${id}`)).body.rollout;
const phaseOf = (r: Rollout, node: string) => r.nodes.find((n) => n.node === node)!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whistle-upgrade-crash-'));
  cluster = await startKubeCluster({ nodes: 0 });
  await cluster.createFakeNodes(3, { prefix: 'worker' });
  await cluster.createNamespace(NS);
  const web = await createDeployment(cluster.api, NS, 'web', { replicas: 2, spread: true });
  await createPdb(cluster.api, NS, 'web', { minAvailable: 1, selector: web });
  await waitReadyPods(cluster.api, NS, web, 2, { timeoutMs: 60_000 });
  await waitPdbObserved(cluster.api, NS, 'web', 2, { timeoutMs: 30_000 });
  whistle = new WhistleProcess({
    dir: join(dir, 'plane'),
    config: {
      server: { operatorTokens: [{ name: 'crash-test', token: OPERATOR }] },
      clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
      agent: { enabled: false },
      writer: { flushIntervalMs: 100 },
      detectors: onlyDetectors({ agentSilent: {}, kubeletDown: {}, nodeNotReady: {} }, { tickMs: 1_000 }),
      upgrades: {
        releases: [{ name: 'r2', components: { kubelet: '1.34.4' } }],
        soakMs: 500,
        tickMs: 200,
        drainTimeoutMs: 30_000,
        installTimeoutMs: 60_000,
        readyTimeoutMs: 30_000,
      },
    },
  });
  await mkdir(join(dir, 'plane'), { recursive: true });
  await whistle.start();
  const script = await installScript(dir);
  for (const node of NODES) agents.push(await startAgent({ dir, server: whistle.url, node, script, initial: '1.33.5' }));
  for (const node of NODES) {
    await eventually(async () => (await api('POST', `/v1/nodes/c1/${node}/authorize`)).status === 200, `${node} registered and authorized`, 30_000, 200);
  }
  await eventually(async () => (await api<{ nodes: unknown[] }>('GET', '/v1/releases/r2')).body.nodes.length === NODES.length, 'every agent reporting its version', 60_000, 200);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await whistle?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upgrade rollout across a SIGKILL of Whistle', () => {
  it('continues from the phase recorded: no second drain, the rollout finishes', async () => {
    const hold = `${versionFile(dir, 'worker-1')}.hold`;
    await writeFile(hold, '');
    const watch = watchReady(cluster.api, NS, 'web', { app: 'web' }, { everyMs: 100 });
    try {
      const started = await api<{ rollout: Rollout }>('POST', '/v1/upgrades', { cluster: 'c1', release: 'r2' });
      expect(started.status).toBe(201);
      const id = started.body.rollout.id;
      await eventually(async () => phaseOf(await rollout(id), 'worker-1').reached === 'drained', 'worker-1 drained', 90_000, 100);
      // The agent has the task and its package command is running (held): now the plane dies.
      await eventually(async () => stat(`${versionFile(dir, 'worker-1')}.running`).then(() => true), "worker-1's install running on the node", 30_000, 50);
      await whistle.kill();
      // The package command finishes while the plane is down; its report has nowhere to go.
      await rm(hold);
      await eventually(async () => (await readFile(versionFile(dir, 'worker-1'), 'utf8')).trim() === '1.34.4', 'the held install done on the node');
      await whistle.start();
      const done = await eventually(async () => {
        const r = await rollout(id);
        return r.state === 'succeeded' ? r : undefined;
      }, 'the rollout finished after the restart', 120_000, 200);
      expect(done.nodes.map((n) => n.phase)).toEqual(['done', 'done', 'done']);

      const rows = await api<{ actions: { subject: string; kind: string; state: string; reason: string }[] }>('GET', '/v1/actions?cluster=c1&limit=500');
      expect(rows.status).toBe(200);
      const of = (kind: string, state: string) => rows.body.actions.filter((a) => a.kind === kind && a.state === state).map((a) => a.subject).sort();
      expect(of('upgrade.drain', 'started')).toEqual(NODES);
      expect(of('upgrade.drain', 'succeeded')).toEqual(NODES);
      // worker-1's install was asked twice (once before the kill, once after), and its first record was closed at the restart.
      expect(of('upgrade.install', 'started')).toEqual(['worker-0', 'worker-1', 'worker-1', 'worker-2']);
      expect(rows.body.actions.some((a) => a.kind === 'upgrade.install' && a.subject === 'worker-1' && a.state === 'failed' && /interrupted/.test(a.reason))).toBe(true);
      const seen = await watch.stop();
      expect(seen.minReadyPods).toBeGreaterThanOrEqual(1);
    } finally {
      await watch.stop();
      await rm(hold, { force: true });
    }
  }, 300_000);
});
