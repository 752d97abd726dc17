// The dry run of the chains through the assembled app, the API and the CLI: a node's kubelet probe
// reports down, a kubelet-down incident opens, and with `remediation.dryRun` on nothing acts: the
// step's DryRun record carries the whole default chain (service-restart, cordon-drain, a person);
// `GET /v1/remediation/plan` answers it, `POST` records it, `whistle remediation plan` prints it.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../core/types.ts';
import type { ChainPlan } from '../../remediators/plan.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const run = promisify(execFile);
let t: TestWhistle;
let nodeToken: string;

beforeAll(async () => {
  t = await startTestWhistle({
    detectors: onlyDetectors({ kubeletDown: { forMs: 0, freshMs: 60_000, lookbackMs: 60_000 } }, { tickMs: 200 }),
    remediation: { dryRun: true, maxUnhealthy: 1 },
  });
  nodeToken = await t.addNode('n1');
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('dry run of the escalation chains', () => {
  it('records and answers the whole chain an open incident would get, and changes nothing', async () => {
    const res = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples: [{ name: 'probe_http_up', value: 0, ts: Date.now(), labels: { probe: 'kubelet' } }] }, nodeToken);
    expect(res.status).toBe(202);
    const manager = t.whistle.service(incidentServices.manager);
    const inc = await eventually(async () => manager.current().find((i) => i.detector === 'kubelet-down' && i.subject === 'n1'), 'a kubelet-down incident', 30_000);

    const actions = async () => ((await (await t.operator('GET', `/v1/actions?incident=${inc.id}`)).json()) as { actions: Action[] }).actions;
    const dry = await eventually(async () => (await actions()).find((a) => a.reason === 'DryRun' && a.kind === 'node.service-restart'), 'the DryRun record of step 1', 30_000);
    const message = String(dry.detail.message);
    expect(message).toContain('1. service-restart, verify within 90 s [current]');
    expect(message).toContain('2. cordon-drain, verify within 600 s [next]');
    expect(message).toContain('take n1 out of service (its kubelet stays down)');
    expect(message).toContain('then: a person');
    expect((await actions()).filter((a) => a.state === 'started')).toEqual([]);
    expect(manager.get(inc.id)?.state).toBe('open');

    const got = (await (await t.operator('GET', '/v1/remediation/plan?cluster=c1')).json()) as { plans: ChainPlan[] };
    expect(got.plans).toHaveLength(1);
    expect(got.plans[0]).toMatchObject({ incidentId: inc.id, detector: 'kubelet-down', chained: true });
    expect(got.plans[0]!.steps.map((s) => [s.step, s.remediator, s.timeoutMs, s.state])).toEqual([
      [1, 'service-restart', 90_000, 'current'],
      [2, 'cordon-drain', 600_000, 'next'],
    ]);
    expect(got.plans[0]!.steps[0]!.plan).toContain('restart kubelet on n1');

    const posted = await t.operator('POST', '/v1/remediation/plan', { cluster: 'c1' });
    expect(posted.status).toBe(200);
    expect(((await posted.json()) as { recorded: number }).recorded).toBe(1);
    const recorded = (await actions()).filter((a) => a.kind === 'remediation.plan');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ state: 'skipped', reason: 'DryRun', dryRun: true, actor: 'test-operator' });
    expect(String(recorded[0]!.detail.plan)).toContain('cordon-drain');

    const unknown = await t.operator('GET', '/v1/remediation/plan?cluster=nope');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain('cluster nope is not configured');
    const bad = await t.operator('POST', '/v1/remediation/plan', { clusterName: 'c1' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('clusterName');
  });

  // Two CLI processes: on a busy 2-core machine each spawn alone has taken over 20 s.
  it('whistle remediation plan prints the chains', { timeout: 240_000 }, async () => {
    const { stdout } = await run(process.execPath, [resolve('bin/whistle.js'), 'remediation', 'plan', 'c1', '--no-record', '--server', t.url, '--token', OPERATOR_TOKEN]);
    expect(stdout).toMatch(/kubelet-down c1\/n1 \(open\): chain of 2 steps, at step 1/);
    expect(stdout).toContain('2. cordon-drain, verify within 600 s [next]');
    expect(stdout).toContain('then: a person');
    const none = await run(process.execPath, [resolve('bin/whistle.js'), 'remediation', 'plan', 'c1', '--no-record', '--json', '--server', t.url, '--token', OPERATOR_TOKEN]);
    expect((JSON.parse(none.stdout) as ChainPlan[])[0]!.detector).toBe('kubelet-down');
  });
});
