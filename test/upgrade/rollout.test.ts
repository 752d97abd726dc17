// The upgrade engine end to end on a real control plane (kube-apiserver, controller-manager,
// scheduler, kwok nodes: two control-plane nodes and four workers), with a real agent per node
// running the install task (a script the test controls) and reporting the version it reads back.
// A Deployment of 3 with a PDB of minAvailable 2, a DaemonSet and a single-replica Deployment run
// on them; a watcher records the Deployment's Ready replicas for the whole rollout.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAgent } from '../../agent/node-agent.ts';
import { CONTROL_PLANE_LABEL } from '../../bootstrap/nodes/index.ts';
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import type { UpgradePlan } from '../../bootstrap/upgrade/plan.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { createDaemonSet, createDeployment, createPdb, waitPdbObserved, waitReadyPods, watchReady } from '../harness/kube/workloads.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { hms, KUBELET_RELEASES, middayZone, startReportingAgents, versionFile } from './helpers.ts';

const NS = 'apps';
const CP = ['cp-0', 'cp-1'];
const WORKERS = ['worker-0', 'worker-1', 'worker-2', 'worker-3'];
const NODES = [...CP, ...WORKERS];

let dir: string;
let cluster: KubeCluster;
let t: TestWhistle;
const agents: NodeAgent[] = [];
let web: Record<string, string>;

/** The real `whistle` executable against this plane. */
const cli = (...args: string[]) => promisify(execFile)(process.execPath, [resolve('bin/whistle.js'), ...args, '--server', t.url, '--token', OPERATOR_TOKEN], { timeout: 60_000 });

const json = async <T>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> => {
  const r = await res;
  return { status: r.status, body: (await r.json()) as T };
};
const rollout = async (id: string) => (await json<{ rollout: Rollout }>(t.operator('GET', `/v1/upgrades/${id}`))).body.rollout;
const waitRollout = (id: string, what: string, ok: (r: Rollout) => boolean, timeoutMs = 90_000) =>
  eventually(async () => {
    const r = await rollout(id);
    return ok(r) ? r : undefined;
  }, what, timeoutMs, 100);
const actions = (kind: string, state: string) =>
  t.whistle.store.query<{ subject: string; ts: number }>(`SELECT subject, toUnixTimestamp64Milli(ts) AS ts FROM actions WHERE kind = {kind:String} AND state = {state:String} ORDER BY ts`, { kind, state });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whistle-upgrade-'));
  cluster = await startKubeCluster({ nodes: 0 });
  await cluster.createFakeNodes(2, { prefix: 'cp', labels: { [CONTROL_PLANE_LABEL]: '' } });
  await cluster.createFakeNodes(4, { prefix: 'worker' });
  await cluster.createNamespace(NS);
  web = await createDeployment(cluster.api, NS, 'web', { replicas: 3, spread: true });
  await createPdb(cluster.api, NS, 'web', { minAvailable: 2, selector: web });
  await createDaemonSet(cluster.api, NS, 'node-exporter');
  await createDeployment(cluster.api, NS, 'solo', { replicas: 1 });
  await waitReadyPods(cluster.api, NS, web, 3, { timeoutMs: 60_000 });
  await waitPdbObserved(cluster.api, NS, 'web', 3, { timeoutMs: 30_000 });
  t = await startTestWhistle(
    {
      clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
      // What a node upgrade can set off stays on (tied to the rollout); what this machine's own disks and the test's pods could say is off.
      detectors: onlyDetectors({ agentSilent: {}, kubeletDown: {}, nodeNotReady: {} }, { tickMs: 1_000 }),
      upgrades: {
        ...KUBELET_RELEASES,
        soakMs: 1_500,
        tickMs: 200,
        drainTimeoutMs: 30_000,
        installTimeoutMs: 30_000,
        readyTimeoutMs: 30_000,
      },
    },
    { dir: join(dir, 'whistle') },
  );
  agents.push(...(await startReportingAgents(t, { dir, nodes: NODES, release: '2026.12' })));
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await t?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upgrade engine', () => {
  it('lists releases and which cluster runs which; shows each node against one', async () => {
    const list = await json<{ releases: { name: string }[]; clusters: { cluster: string; release: string }[] }>(t.operator('GET', '/v1/releases'));
    expect(list.body.releases.map((r) => r.name)).toEqual(['2026.11', '2026.12']);
    expect(list.body.clusters).toEqual([{ cluster: 'c1', release: '2026.11', rolloutId: null }]);
    const show = await json<{ nodes: { node: string; components: Record<string, string>; atRelease: boolean }[] }>(t.operator('GET', '/v1/releases/2026.12'));
    expect(show.body.nodes.map((n) => [n.node, n.components.kubelet, n.atRelease]).sort()).toEqual(NODES.map((n) => [n, '1.33.5', false]).sort());
  });

  it('refuses bad input with a 4xx naming the field', async () => {
    const unknownRelease = await json<{ error: string }>(t.operator('POST', '/v1/upgrades/plan', { cluster: 'c1', release: 'nope' }));
    expect(unknownRelease.status).toBe(404);
    expect(unknownRelease.body.error).toMatch(/^release: no release "nope"/);
    const unknownCluster = await json<{ error: string }>(t.operator('POST', '/v1/upgrades', { cluster: 'c9', release: '2026.12' }));
    expect(unknownCluster.status).toBe(404);
    expect(unknownCluster.body.error).toMatch(/^cluster: no cluster "c9"/);
    const backwards = await json<{ error: string }>(t.operator('POST', '/v1/upgrades/windows', { cluster: 'c1', start: '04:00', end: '02:00', timeZone: 'Europe/Berlin' }));
    expect(backwards.status).toBe(400);
    expect(backwards.body.error).toMatch(/^end: must be after start/);
    const badZone = await json<{ error: string }>(t.operator('POST', '/v1/upgrades/windows', { cluster: 'c1', start: '01:00', end: '02:00', timeZone: 'Mars/Olympus' }));
    expect(badZone.status).toBe(400);
    expect(badZone.body.error).toMatch(/^timeZone: /);
    const missing = await json<{ error: string }>(t.operator('POST', '/v1/upgrades', { cluster: 'c1' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/^release: /);
    expect((await t.operator('GET', '/v1/upgrades/upg-nope')).status).toBe(404);
  });

  it('plans control-plane nodes first, then workers one at a time; names the PDB and the single-replica workload', async () => {
    const { status, body } = await json<{ plan: UpgradePlan; text: string }>(t.operator('POST', '/v1/upgrades/plan', { cluster: 'c1', release: '2026.12' }));
    expect(status).toBe(200);
    expect(body.plan.refusals).toEqual([]);
    expect(body.plan.batches.map((b) => b.map((s) => s.node))).toEqual(NODES.map((n) => [n]));
    expect(body.plan.batches.flat().map((s) => s.role)).toEqual(['control-plane', 'control-plane', 'worker', 'worker', 'worker', 'worker']);
    expect(body.plan.batches.flat().every((s) => s.changes.length === 1 && s.changes[0]!.from === '1.33.5' && s.changes[0]!.to === '1.34.4')).toBe(true);
    expect(body.plan.pdbs.map((p) => `${p.namespace}/${p.name}`)).toEqual([`${NS}/web`]);
    expect(body.plan.singleReplica.map((w) => `${w.kind} ${w.namespace}/${w.name}`)).toEqual([`Deployment ${NS}/solo`]);
    expect(body.text).toContain('cp-0 (control-plane): kubelet 1.33.5 -> 1.34.4');
    const printed = await cli('upgrade', 'plan', 'c1', '--to', '2026.12');
    expect(printed.stdout).toContain('Upgrade c1 from 2026.11 to 2026.12');
    expect(printed.stdout).toMatch(/ 1\. cp-0 \(control-plane\)[\s\S]* 3\. worker-0 \(worker\)/);
    const unknown = await cli('upgrade', 'plan', 'c1', '--to', 'nope').catch((err: { stderr: string; code: number }) => err);
    expect(unknown).toMatchObject({ code: expect.any(Number), stderr: expect.stringContaining('release: no release "nope"') });
  }, 200_000);

  it('rolls out inside the window: waits for it to open, stops when it closes, a failed node stops it, resume finishes without a second drain; minAvailable held throughout', async () => {
    const tz = middayZone();
    const opensAt = Math.ceil((Date.now() + 6_000) / 1000) * 1000;
    const win = await json<{ window: { id: string }; state: { open: boolean; nextOpening: number } }>(
      t.operator('POST', '/v1/upgrades/windows', { cluster: 'c1', start: hms(opensAt, tz), end: hms(opensAt + 600_000, tz), timeZone: tz, comment: 'test window' }),
    );
    expect(win.status).toBe(201);
    expect(win.body.state).toMatchObject({ open: false, nextOpening: opensAt });
    const open: [number, number][] = [[opensAt, Infinity]];
    const watch = watchReady(cluster.api, NS, 'web', web, { everyMs: 100 });
    try {
      const started = await json<{ rollout: Rollout }>(t.operator('POST', '/v1/upgrades', { cluster: 'c1', release: '2026.12' }));
      expect(started.status).toBe(201);
      const id = started.body.rollout.id;
      const second = await json<{ error: string }>(t.operator('POST', '/v1/upgrades', { cluster: 'c1', release: '2026.12' }));
      expect(second.status).toBe(409);
      expect(second.body.error).toMatch(/^cluster: rollout upg-\S+ \(\w+\) of 2026.12 is in progress on c1/);

      const waiting = await waitRollout(id, 'the rollout waiting for the window', (r) => r.state === 'waiting');
      expect(waiting.nodes.every((n) => n.phase === 'pending')).toBe(true);

      // The window closes while worker-0 is being upgraded: it finishes, worker-1 does not start.
      await waitRollout(id, 'worker-0 started', (r) => r.nodes.find((n) => n.node === 'worker-0')!.reached !== 'pending');
      const closeAt = Math.ceil(Date.now() / 1000) * 1000;
      open[0]![1] = closeAt;
      expect((await t.operator('PUT', `/v1/upgrades/windows/${win.body.window.id}`, { cluster: 'c1', start: hms(opensAt, tz), end: hms(closeAt, tz), timeZone: tz })).status).toBe(200);
      const held = await waitRollout(id, 'the rollout waiting after the window closed', (r) => r.state === 'waiting' && r.nodes.find((n) => n.node === 'worker-0')!.phase === 'done');
      expect(held.nodes.map((n) => n.phase)).toEqual(['done', 'done', 'done', 'pending', 'pending', 'pending']);

      // worker-1's package mirror is down: its install fails when the next window opens.
      await writeFile(`${versionFile(dir, 'worker-1')}.fail`, '');
      const reopensAt = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
      open.push([reopensAt, Infinity]);
      // Paused meanwhile: the window opening does not start the next node until it is resumed.
      const paused = await json<{ rollout: Rollout }>(t.operator('POST', `/v1/upgrades/${id}/pause`, { reason: 'change freeze' }));
      expect(paused.body.rollout).toMatchObject({ state: 'paused', reason: expect.stringContaining('change freeze') });
      expect((await t.operator('PUT', `/v1/upgrades/windows/${win.body.window.id}`, { cluster: 'c1', start: hms(reopensAt, tz), end: hms(reopensAt + 600_000, tz), timeZone: tz })).status).toBe(200);
      await eventually(async () => (await json<{ state: { open: boolean }[] }>(t.operator('GET', '/v1/upgrades/windows?cluster=c1'))).body.state[0]?.open, 'the window open again', 30_000, 100);
      // Ten of the engine's ticks (200 ms) with the window open: a paused rollout starts nothing.
      await new Promise((r) => setTimeout(r, 2_000));
      const stillPaused = await rollout(id);
      expect(stillPaused.state).toBe('paused');
      expect(stillPaused.nodes.slice(3).map((n) => n.phase)).toEqual(['pending', 'pending', 'pending']);
      expect((await t.operator('POST', `/v1/upgrades/${id}/resume`)).status).toBe(200);
      const failed = await waitRollout(id, 'the rollout failed on worker-1', (r) => r.state === 'failed');
      const w1 = failed.nodes.find((n) => n.node === 'worker-1')!;
      expect(w1).toMatchObject({ phase: 'failed', reached: 'drained' });
      expect(w1.reason).toMatch(/install.*exited with code 100.*503 Service Unavailable/);
      expect(failed.nodes.slice(4).map((n) => n.phase)).toEqual(['pending', 'pending']);
      const node = await cluster.api.get<{ spec?: { unschedulable?: boolean }; metadata: { annotations?: Record<string, string> } }>('/api/v1/nodes/worker-1');
      expect(node.spec?.unschedulable).toBe(true);
      expect(node.metadata.annotations?.['whistle.io/cordoned-by']).toBe(`upgrade/${id}`);
      const manager = t.whistle.service(incidentServices.manager);
      const incident = await eventually(async () => manager.current().find((i) => i.detector === 'upgrade-rollout' && i.labels.rollout === id), 'an incident for the failed rollout');
      expect(incident).toMatchObject({ subject: 'worker-1', severity: 'critical' });

      await rm(`${versionFile(dir, 'worker-1')}.fail`);
      expect((await t.operator('POST', `/v1/upgrades/${id}/resume`, { reason: 'mirror back' })).status).toBe(200);
      const done = await waitRollout(id, 'the rollout finished', (r) => r.state === 'succeeded');
      expect(done.nodes.every((n) => n.phase === 'done')).toBe(true);

      const seen = await watch.stop();
      expect(seen.polls).toBeGreaterThan(10);
      expect(seen.minReadyPods).toBeGreaterThanOrEqual(2);

      // Every node drained exactly once (worker-1 resumed after its drain), and started only while a window was open.
      const drains = await actions('upgrade.drain', 'succeeded');
      expect(drains.map((a) => a.subject).sort()).toEqual([...NODES].sort());
      const preflights = await actions('upgrade.preflight', 'started');
      expect(preflights.map((a) => a.subject)).toEqual(NODES);
      for (const p of preflights) expect(open.some(([a, b]) => p.ts >= a && p.ts < b)).toBe(true);

      const releases = await json<{ clusters: { cluster: string; release: string }[] }>(t.operator('GET', '/v1/releases'));
      expect(releases.body.clusters[0]).toMatchObject({ cluster: 'c1', release: '2026.12', rolloutId: id });
      const show = await json<{ nodes: { atRelease: boolean }[] }>(t.operator('GET', '/v1/releases/2026.12'));
      expect(show.body.nodes.every((n) => n.atRelease)).toBe(true);
    } finally {
      await watch.stop();
    }
  }, 240_000);
});
