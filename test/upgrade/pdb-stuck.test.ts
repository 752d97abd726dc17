// A PodDisruptionBudget that never allows an eviction (minAvailable 1 over one replica), on a real
// control plane with kwok nodes and a real agent per node: the drain of the node holding that pod
// waits on the budget up to upgrades.drainTimeoutMs, never forces it, and the rollout stops with the
// node cordoned and an incident for it (the escalation), not a forced eviction and not a hang.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAgent } from '../../agent/node-agent.ts';
import type { UpgradePlan } from '../../bootstrap/upgrade/plan.ts';
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { createDeployment, createPdb, waitPdbObserved, waitReadyPods } from '../harness/kube/workloads.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { JiraStandin } from '../standins/jira.ts';
import { startReportingAgents } from './helpers.ts';

const NS = 'apps';
const NODES = ['worker-0', 'worker-1', 'worker-2'];

let dir: string;
let cluster: KubeCluster;
let t: TestWhistle;
const agents: NodeAgent[] = [];
const JIRA = { email: 'whistle@example.com', token: 'jira-test-token' };
const jira = new JiraStandin(JIRA.email, JIRA.token);

const json = async <T>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> => {
  const r = await res;
  return { status: r.status, body: (await r.json()) as T };
};
const waitRollout = (id: string, what: string, ok: (r: Rollout) => boolean, timeoutMs = 90_000) =>
  eventually(async () => {
    const r = (await json<{ rollout: Rollout }>(t.operator('GET', `/v1/upgrades/${id}`))).body.rollout;
    return ok(r) ? r : undefined;
  }, what, timeoutMs, 100);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whistle-upgrade-pdb-'));
  cluster = await startKubeCluster({ nodes: 0 });
  await cluster.createFakeNodes(3, { prefix: 'worker' });
  await cluster.createNamespace(NS);
  await jira.start();
  t = await startTestWhistle(
    {
      clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
      detectors: onlyDetectors({ agentSilent: {}, kubeletDown: {}, nodeNotReady: {} }, { tickMs: 1_000 }),
      notifications: { groupWaitMs: 0, tickMs: 200, retry: { initialMs: 100, maxMs: 1_000 }, channels: [{ type: 'jira', id: 'jira', url: jira.url, email: JIRA.email, apiToken: JIRA.token, project: 'OPS' }] },
      upgrades: { releases: [{ name: 'r2', components: { kubelet: '1.34.4' } }], soakMs: 500, tickMs: 200, drainTimeoutMs: 10_000, installTimeoutMs: 30_000, readyTimeoutMs: 30_000 },
    },
    { dir: join(dir, 'whistle') },
  );
  agents.push(...(await startReportingAgents(t, { dir, nodes: NODES, release: 'r2' })));
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await t?.stop();
  await cluster?.stop();
  await jira.stop().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upgrade engine and a PDB that never allows an eviction', () => {
  it('a PDB that never allows an eviction: the drain waits its timeout, forces nothing, and the rollout stops escalated with the node cordoned', async () => {
    const stuck = await createDeployment(cluster.api, NS, 'stuck', { replicas: 1 });
    await createPdb(cluster.api, NS, 'stuck', { minAvailable: 1, selector: stuck });
    const [pod] = await waitReadyPods(cluster.api, NS, stuck, 1, { timeoutMs: 60_000 });
    await waitPdbObserved(cluster.api, NS, 'stuck', 1, { timeoutMs: 30_000 });
    const plan = await json<{ plan: UpgradePlan }>(t.operator('POST', '/v1/upgrades/plan', { cluster: 'c1', release: 'r2' }));
    expect(plan.body.plan.pdbs.find((b) => b.name === 'stuck')).toMatchObject({ disruptionsAllowed: 0, note: expect.stringContaining('waits') });
    const started = await json<{ rollout: Rollout }>(t.operator('POST', '/v1/upgrades', { cluster: 'c1', release: 'r2' }));
    expect(started.status).toBe(201);
    const id = started.body.rollout.id;
    const failed = await waitRollout(id, 'the rollout stopped at the drain', (r) => r.state === 'failed', 150_000);
    const n = failed.nodes.find((x) => x.phase === 'failed')!;
    expect(n.node).toBe(pod!.node);
    expect(n.reached).toBe('cordoned');
    expect(n.reason).toMatch(new RegExp(`drain: timed-out after \\d+ ms, not forced; still on the node: ${NS}/${pod!.name} \\(disruption-budget stuck`));
    // Not forced: the same pod (same UID) is still there, on the cordoned node.
    const still = await cluster.api.get<{ metadata: { uid: string; deletionTimestamp?: string }; spec: { nodeName: string } }>(`/api/v1/namespaces/${NS}/pods/${pod!.name}`);
    expect(still.metadata.uid).toBe(pod!.uid);
    expect(still.metadata.deletionTimestamp).toBeUndefined();
    const node = await cluster.api.get<{ spec?: { unschedulable?: boolean } }>(`/api/v1/nodes/${n.node}`);
    expect(node.spec?.unschedulable).toBe(true);
    const manager = t.whistle.service(incidentServices.manager);
    const incident = await eventually(async () => manager.current().find((i) => i.detector === 'upgrade-rollout' && i.labels.rollout === id), 'an incident for the stuck drain');
    expect(incident).toMatchObject({ subject: n.node, severity: 'critical' });
    expect(incident.summary).toContain('disruption-budget');
    await eventually(async () => manager.get(incident.id)?.state === 'escalated', 'the incident escalated');
    const ticket = await eventually(async () => [...jira.issues.values()].find((i) => [i.fields.description, ...i.comments].some((d) => String(d).includes(`whistle upgrade resume ${id}`))), 'a ticket saying what to do', 30_000, 100);
    expect([ticket.fields.description, ...ticket.comments].join('\n')).toContain('disruption-budget stuck');
    const aborted = await json<{ rollout: Rollout }>(t.operator('POST', `/v1/upgrades/${id}/abort`, { reason: 'budget to be fixed by the owner' }));
    expect(aborted.body.rollout.state).toBe('aborted');
    expect((await t.operator('POST', `/v1/upgrades/${id}/resume`)).status).toBe(409);
  }, 200_000);
});
