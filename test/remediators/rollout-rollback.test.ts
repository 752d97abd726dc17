// A restart storm of one workload across nodes, end to end on a real control plane (kube-apiserver,
// controller-manager, scheduler, kwok nodes): a Deployment rolled out to a template whose pods
// crash-loop (kwok, test/harness/kube/stages/pod-crash-loop.yaml), watched by Whistle built from
// config. The storm's evidence names the workload with its images, exit codes and last rollout; no
// action without a person; the rollback plan is approved through the real `whistle approve`; the
// previous ReplicaSet's template goes back and the incident resolves once the restarts stopped. A
// rollback whose pods crash too is escalated with what was tried; too many nodes down and a dry run
// change nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../core/types.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { FAKE_NODE_LABEL, fakeNode, fakePodToleration, KWOK_ANNOTATION, startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { deletePods, podsOf, waitReadyPods } from '../harness/kube/workloads.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const run = promisify(execFile);
const NS = 'shop';
const CRASH = 'whistle.test/crash-loop';
const LABELS = { app: 'web' };
const DEP = `/apis/apps/v1/namespaces/${NS}/deployments/web`;

let cluster: KubeCluster;
let t: TestWhistle;
const states = new Map<string, string[]>();
const known = new Set<string>();

/** Waits for the incident to reach the state; when it does not, says what the record shows (actions, plans, history). */
const reached = (id: string, state: string, what: string, timeoutMs = 90_000) => explained(id, eventually(async () => states.get(id)?.includes(state), what, timeoutMs, 100));

/** `wait`, or when it fails, what the record shows of the incident (states, actions, plans, history). */
async function explained<T>(id: string, wait: Promise<T>): Promise<T> {
  return wait.catch(async (err: Error) => {
    const [actions, plans, shown] = await Promise.all([actionsOf(id), t.operator('GET', `/v1/plans?incident=${id}`).then((r) => r.json()), t.operator('GET', `/v1/incidents/${id}`).then((r) => r.json())]);
    throw new Error(`${err.message}; states ${JSON.stringify(states.get(id))}\nactions: ${JSON.stringify(actions)}\nplans: ${JSON.stringify(plans)}\nincident: ${JSON.stringify(shown)}`);
  });
}
const manager = () => t.whistle.service(incidentServices.manager);
const actionsOf = (id: string): Promise<Action[]> => t.whistle.service(remediationServices.recorder).list({ incidentId: id });

interface DeploymentJson {
  metadata: { annotations?: Record<string, string> };
  spec: { template: { metadata: { labels?: Record<string, string> }; spec: { containers: { image: string }[] } } };
}
const deployment = () => cluster.api.get<DeploymentJson>(DEP);
const imageNow = async () => (await deployment()).spec.template.spec.containers[0]!.image;

/** A new template: another image, crash-looping or not. */
async function rollOut(image: string, crash: boolean): Promise<void> {
  await cluster.api.json('PATCH', DEP, { spec: { template: { metadata: { labels: { [CRASH]: crash ? 'true' : null } }, spec: { containers: [{ name: 'main', image }] } } } }, 'application/strategic-merge-patch+json');
}

async function newStorm(timeoutMs = 90_000) {
  const inc = await eventually(async () => manager().current().find((i) => i.detector === 'pod-restart-storm' && i.subject === 'storm' && !known.has(i.id)), 'a new restart storm incident', timeoutMs, 100);
  known.add(inc.id);
  return inc;
}

async function allQuiet(): Promise<void> {
  await eventually(async () => !manager().current().some((i) => i.detector === 'pod-restart-storm' && i.state !== 'resolved'), 'no open pod-restart-storm incident', 120_000, 200);
  for (const i of manager().current()) known.add(i.id);
}

async function awaitingPlan(incidentId: string): Promise<{ id: string; text: string; params: Record<string, unknown> }> {
  return eventually(async () => {
    const res = (await (await t.operator('GET', `/v1/plans?incident=${incidentId}`)).json()) as { plans: { id: string; state: string; kind: string; text: string; params: Record<string, unknown> }[] };
    return res.plans.find((p) => p.kind === 'kube.rollout-rollback' && p.state === 'awaiting_approval');
  }, 'a rollback plan awaiting approval', 60_000, 200);
}

const approve = (id: string) => run(process.execPath, ['bin/whistle.js', 'approve', id, '--server', t.url, '--token', OPERATOR_TOKEN, '--comment', 'bad rollout']);

beforeAll(async () => {
  cluster = await startKubeCluster({ nodes: 3 });
  await cluster.createNamespace(NS);
  await cluster.api.json('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
    metadata: { name: 'web', labels: LABELS },
    spec: {
      replicas: 4,
      selector: { matchLabels: LABELS },
      // Every pod of a new template at once: the bad rollout's pods all crash, on every node.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: LABELS },
        spec: {
          nodeSelector: FAKE_NODE_LABEL,
          tolerations: fakePodToleration(),
          automountServiceAccountToken: false,
          containers: [{ name: 'main', image: 'registry.example/web:1' }],
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: LABELS } }],
        },
      },
    },
  });
  await waitReadyPods(cluster.api, NS, LABELS, 4);
  t = await startWhistle({});
}, 600_000);

async function startWhistle(remediation: Record<string, unknown>): Promise<TestWhistle> {
  const w = await startTestWhistle({
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
    detectors: onlyDetectors({ podRestartStorm: { windowMs: 60_000, stormMinPods: 3 } }, { tickMs: 500 }),
    // The detector resolves an incident 30 s after the storm ends: the remediator's verification (quietForMs 5 s) comes first.
    incidents: { reopenWindowMs: 0, refreshMs: 1_000, resolveWindowMs: 30_000, minOpenMs: 0 },
    remediation: { rolloutRollback: { quietForMs: 5_000, verifyTimeoutMs: 45_000, verifyIntervalMs: 300 }, ...remediation },
  });
  w.whistle.service(incidentServices.manager).subscribe({ onIncidentEvent: async (e) => void states.set(e.incident.id, [...(states.get(e.incident.id) ?? []), e.incident.state]) });
  return w;
}

afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
});

describe('rollout-rollback remediator', () => {
  it('a bad rollout crash-loops on every node: the storm names the workload, nothing is done until approved, the rollback through whistle approve brings the old pods back, resolved', async () => {
    const rolledAt = Date.now();
    await rollOut('registry.example/web:2', true);
    const inc = await newStorm();
    await reached(inc.id, 'awaiting_approval', 'the incident awaiting approval');
    const ev = manager().current().find((i) => i.id === inc.id)!.evidence as Record<string, unknown>;
    expect(ev).toMatchObject({ scope: 'workload', workload: { namespace: NS, kind: 'Deployment', name: 'web' }, images: [{ value: 'registry.example/web:2' }], exitCodes: [{ exitCode: 1 }], rollout: { revision: 2, images: ['registry.example/web:2'] } });
    expect(Date.parse(String((ev.rollout as { since: string }).since))).toBeGreaterThanOrEqual(rolledAt - 1000);
    expect(ev.terminationReasons).toEqual([expect.objectContaining({ value: 'exit code 1' })]);

    const plan = await awaitingPlan(inc.id);
    expect(plan.params).toMatchObject({ namespace: NS, name: 'web', fromRevision: 2, toRevision: 1 });
    expect(plan.text.split('\n')[0]).toMatch(/^roll back Deployment shop\/web from revision 2 to revision 1 \(ReplicaSet web-[a-z0-9]+, made .*\): images registry\.example\/web:2 -> registry\.example\/web:1$/);
    const history = JSON.stringify(await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json());
    expect(history).toContain(`whistle approve ${plan.id}`);
    // Not without a person: the template is still the bad one.
    expect(await imageNow()).toBe('registry.example/web:2');
    expect((await actionsOf(inc.id)).filter((a) => a.state === 'started')).toEqual([]);

    const out = await approve(plan.id);
    expect(out.stdout).toContain(`approved ${plan.id}`);
    await reached(inc.id, 'resolved', 'the incident resolved by the rollback');
    expect(await imageNow()).toBe('registry.example/web:1');
    expect((await deployment()).spec.template.metadata.labels?.[CRASH]).toBeUndefined();
    await waitReadyPods(cluster.api, NS, LABELS, 4);
    const done = await explained(inc.id, eventually(async () => (await actionsOf(inc.id)).find((a) => a.kind === 'kube.rollout-rollback' && a.state === 'succeeded'), 'the rollback recorded as succeeded', 10_000));
    expect(done.detail.after).toMatchObject({ deployment: 'shop/web', fromRevision: 2, toRevision: 1, patched: true });
    await eventually(async () => ((await (await t.operator('GET', `/v1/plans/${plan.id}`)).json()) as { plan: { state: string } }).plan.state === 'succeeded', 'the plan succeeded', 10_000);
    await allQuiet();
  }, 240_000);

  it('a rollback whose pods crash as well: not verified, escalated with what was tried', async () => {
    await rollOut('registry.example/web:3', true);
    const inc = await newStorm();
    const plan = await awaitingPlan(inc.id);
    // The fault is not the rollout: whatever runs now crashes (the test marks every new pod).
    let marking = true;
    const marker = (async () => {
      while (marking) {
        for (const pod of await podsOf(cluster.api, NS, LABELS).catch(() => [])) {
          if (pod.terminating) continue;
          await cluster.api.send('PATCH', `/api/v1/namespaces/${NS}/pods/${pod.name}`, { metadata: { labels: { [CRASH]: 'true' } } }, { contentType: 'application/merge-patch+json' }).catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await approve(plan.id);
      await reached(inc.id, 'escalated', 'the incident escalated', 120_000);
    } finally {
      marking = false;
      await marker;
    }
    const failed = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.kind === 'kube.rollout-rollback' && a.state === 'failed'), 'the rollback recorded as failed', 10_000);
    expect(failed).toMatchObject({ reason: 'NotFixed', detail: { after: { patched: true } } });
    const escalation = await eventually(async () => {
      const shown = (await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json()) as { history: { kind: string; detail: { tried?: string } }[] };
      return shown.history.find((h) => h.kind === 'escalation');
    }, 'the escalation in the incident history', 10_000);
    expect(escalation.detail.tried).toMatch(/rolled back shop\/web: revision \d+ -> ReplicaSet web-/);
    expect(escalation.detail.tried).toMatch(/last seen: .*crash-looping: web-/);
    const p = await eventually(async () => {
      const r = ((await (await t.operator('GET', `/v1/plans/${plan.id}`)).json()) as { plan: { state: string; reason: string } }).plan;
      return r.state === 'failed' ? r : null;
    }, 'the plan failed', 10_000);
    expect(p.reason).toBe('not rolled back: not_fixed');
    // The test's own repair: new pods without the crash label.
    await deletePods(cluster.api, NS, (await podsOf(cluster.api, NS, LABELS)).map((x) => x.name));
    await waitReadyPods(cluster.api, NS, LABELS, 4);
    await allQuiet();
  }, 300_000);

  it('approved while too many nodes are not Ready: nothing is done, TooManyUnhealthy recorded, the plan failed', async () => {
    // Three nodes no kubelet plays: never Ready. 3 of 6 is more than the default 40 %.
    const dead = ['gone-0', 'gone-1', 'gone-2'];
    for (const n of dead) {
      const node = fakeNode(n);
      node.metadata.annotations[KWOK_ANNOTATION] = 'unmanaged';
      node.metadata.labels.type = 'dead';
      await cluster.api.json('POST', '/api/v1/nodes', node);
    }
    try {
      await rollOut('registry.example/web:5', true);
      const inc = await newStorm();
      const plan = await awaitingPlan(inc.id);
      expect((await t.operator('POST', `/v1/plans/${plan.id}/approve`, {})).status).toBe(200);
      const skipped = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.reason === 'TooManyUnhealthy'), 'a TooManyUnhealthy record', 30_000, 200);
      expect(skipped).toMatchObject({ kind: 'kube.rollout-rollback', state: 'skipped', detail: { unhealthy: 3, total: 6 } });
      const p = await eventually(async () => {
        const r = ((await (await t.operator('GET', `/v1/plans/${plan.id}`)).json()) as { plan: { state: string; reason: string } }).plan;
        return r.state === 'failed' ? r : null;
      }, 'the plan failed', 10_000);
      expect(p.reason).toBe('not rolled back: too_many_unhealthy');
      expect(await imageNow()).toBe('registry.example/web:5');
      expect((await actionsOf(inc.id)).filter((a) => a.state === 'started')).toEqual([]);
    } finally {
      for (const n of dead) await cluster.api.send('DELETE', `/api/v1/nodes/${n}`);
    }
  }, 180_000);

  it('dry run: the approved rollback is recorded, the Deployment is not changed', async () => {
    // The bad rollout of the test before is still crash-looping; a dry-run Whistle sees it afresh.
    await t.stop();
    t = await startWhistle({ dryRun: true });
    const inc = await newStorm();
    const plan = await awaitingPlan(inc.id);
    expect((await t.operator('POST', `/v1/plans/${plan.id}/approve`, {})).status).toBe(200);
    const dry = await eventually(async () => (await actionsOf(inc.id)).find((a) => a.reason === 'DryRun'), 'a DryRun record', 30_000, 200);
    expect(dry).toMatchObject({ kind: 'kube.rollout-rollback', state: 'skipped', dryRun: true });
    expect(String(dry.detail.plan)).toMatch(/^roll back Deployment shop\/web from revision \d+ to revision \d+/);
    const p = await eventually(async () => {
      const r = ((await (await t.operator('GET', `/v1/plans/${plan.id}`)).json()) as { plan: { state: string; reason: string } }).plan;
      return r.state === 'failed' ? r : null;
    }, 'the plan failed', 10_000);
    expect(p.reason).toBe('not rolled back: dry_run');
    expect(await imageNow()).toBe('registry.example/web:5');
  }, 180_000);
});
