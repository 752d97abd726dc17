// The one-action-per-target lock and the rate limit across workers and restarts, on real Whistles:
// two workers (each its own Whistle, data directory and policy, as `whistle start` builds them)
// share one chDB store, as scaled-out workers share one ClickHouse. Racing for one target, exactly
// one acts and the other records its claim skipped, SubjectBusy, naming the holder; the rate limit
// counts both workers' actions; a worker that stops mid-action keeps the target locked (its claim
// in the actions table) until its restart closes the action, and another worker's restart leaves
// that claim alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import type { Action } from '../../core/types.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { Interrupted, type RemediationRequest } from '../../remediators/policy/policy.ts';
import { remediationServices } from '../../remediators/services.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { eventually, startTestWhistle, testConfig, type TestWhistle } from '../helpers/whistle.ts';

const root = mkdtempSync(join(tmpdir(), 'whistle-claims-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');
let store: Store;
let a: TestWhistle;
let b: TestWhistle;

const overrides = {
  detectors: { tickMs: 60_000 },
  // A chain for the restart case, so the resume path owns the interrupted action; disk-cleanup has no plan for it.
  remediation: { rateLimit: { maxActions: 3, windowS: 600 }, chains: { 'claims-test': [{ remediator: 'disk-cleanup' }] } },
};
const start = (dir: string) => startTestWhistle(overrides, { dir, store });
const policyOf = (t: TestWhistle) => t.whistle.service(remediationServices.policy);
const rowsOf = async (id: string) => (await store.query<{ state: string; reason: string; detail: string }>(`SELECT state, reason, detail FROM actions WHERE id = {id:String} ORDER BY ts, state`, { id })).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
const claimsOn = async (target: string) =>
  (await store.query<{ id: string }>(`SELECT DISTINCT id FROM actions WHERE state = 'started' AND JSONExtractString(detail, 'target') = {target:String}`, { target })).map((r) => r.id);

function incident(worker: string, cluster: string, subject: string): IncidentView {
  const now = Date.now();
  return { id: `inc-${worker}-${cluster}-${subject}`, fingerprint: `fp-${cluster}-${subject}`, cluster, detector: 'kubelet-down', subject, severity: 'critical', state: 'open', summary: `kubelet on ${subject} not answering`, openedAt: now, updatedAt: now, labels: { node: subject }, evidence: { node: subject } };
}

function request(inc: IncidentView, actor: string, act: () => Promise<unknown>): RemediationRequest {
  return { incident: inc, target: `node/${inc.cluster}/${inc.subject}`, node: inc.subject, kind: 'test.restart', unhealthy: 0, total: 3, plan: `restart the kubelet on ${inc.subject}`, actor, act, verify: async () => true };
}

beforeAll(async () => {
  store = await openStore(testConfig(join(root, 'store')).store);
  a = await start(dirA);
  b = await start(dirB);
}, 120_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await store?.close();
  rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('the lock and the rate limit across workers sharing one store', () => {
  it('two workers racing for one target: exactly one acts, the other records SubjectBusy naming the holder', { timeout: 120_000 }, async () => {
    expect(policyOf(a).claims.worker).not.toBe(policyOf(b).claims.worker);
    for (let round = 0; round < 8; round++) {
      // Each round its own cluster, so the rate limit stays out of it; each worker its own incident, as two detectors would open.
      const cluster = `race-${round}`;
      const acted: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // The winner's act holds until the loser has answered: had both won, both acts would have run.
      const act = (w: string) => async () => {
        acted.push(w);
        await gate;
      };
      const pa = policyOf(a).remediate(request(incident('a', cluster, 'n1'), 'worker-a', act('a')));
      const pb = policyOf(b).remediate(request(incident('b', cluster, 'n1'), 'worker-b', act('b')));
      await Promise.race([pa, pb, new Promise((r) => setTimeout(r, 20_000))]);
      release();
      const outcomes = [await pa, await pb];
      expect(acted).toHaveLength(1);
      expect(outcomes.sort()).toEqual(['busy', 'succeeded']);
      const ids = await claimsOn(`node/${cluster}/n1`);
      expect(ids).toHaveLength(2);
      const rows = await Promise.all(ids.map(rowsOf));
      const won = rows.find((r) => r.at(-1)!.state === 'succeeded')!;
      const lost = rows.find((r) => r.at(-1)!.state === 'skipped')!;
      expect(lost.map((r) => `${r.state}:${r.reason}`)).toEqual(['started:remediating', 'skipped:SubjectBusy']);
      const winner = ids[rows.indexOf(won)]!;
      expect(lost.at(-1)!.detail.holder).toMatchObject({ id: winner, actor: `worker-${acted[0]}` });
      expect(String(lost.at(-1)!.detail.message)).toContain(`another action on node/${cluster}/n1 is running: ${winner} (worker-${acted[0]}`);
    }
  });

  it('the rate limit counts both workers’ actions (and not the claims that lost)', async () => {
    const ok = async () => undefined;
    // race-0 has one action that ran (above) and one lost claim; the limit is 3.
    expect(await policyOf(a).remediate(request(incident('a', 'race-0', 'n2'), 'worker-a', ok))).toBe('succeeded');
    expect(await policyOf(b).remediate(request(incident('b', 'race-0', 'n3'), 'worker-b', ok))).toBe('succeeded');
    // Neither worker's memory holds all 3 (each saw its own): the table does.
    const acted: string[] = [];
    expect(await policyOf(a).remediate(request(incident('a', 'race-0', 'n4'), 'worker-a', async () => void acted.push('n4')))).toBe('rate_limited');
    expect(acted).toEqual([]);
    const [id] = await claimsOn('node/race-0/n4');
    const rows = await rowsOf(id!);
    expect(rows.map((r) => `${r.state}:${r.reason}`)).toEqual(['started:remediating', 'skipped:RateLimited']);
    expect(rows[1]!.detail.message).toBe('3 actions on race-0 in the last 600 s (limit 3)');
  });

  it('a worker stopped mid-action keeps the target locked until its restart closes the action; another worker’s restart does not close it', { timeout: 120_000 }, async () => {
    const manager = a.whistle.service(incidentServices.manager);
    const now = Date.now();
    await manager.report({ cluster: 'c1', detector: 'claims-test', ts: now, findings: [{ detector: 'claims-test', cluster: 'c1', subject: 'n9', severity: 'critical', summary: 'n9 needs a hand', evidence: {}, labels: {}, fingerprint: 'claims-test/c1/n9', ts: now }] });
    const inc = await eventually(async () => manager.current().find((i) => i.fingerprint === 'claims-test/c1/n9'), 'the incident open on worker a');
    let interrupt!: () => void;
    const stopping = new Promise<void>((r) => (interrupt = r));
    let running!: () => void;
    const acting = new Promise<void>((r) => (running = r));
    const aRun = policyOf(a).remediate({
      ...request(manager.get(inc.id)!, 'disk-cleanup', async () => {
        running();
        await stopping;
        throw new Interrupted('the test action');
      }),
    });
    await acting;
    const [claim] = await claimsOn('node/c1/n9');
    expect(claim).toBeDefined();

    const tryB = () => policyOf(b).remediate(request(incident('b', 'c1', 'n9'), 'worker-b', async () => undefined));
    expect(await tryB()).toBe('busy');

    // Worker b restarts while a's action runs: b reads the incident back, and a's action is not its to close.
    await b.stop({ keepDir: true });
    b = await start(dirB);
    expect(b.whistle.service(incidentServices.manager).get(inc.id)?.state).toBe('remediating');
    expect((await rowsOf(claim!)).map((r) => r.state)).toEqual(['started']);
    expect(await tryB()).toBe('busy');

    // Worker a stops mid-action (its action interrupted: no row after it, as after a SIGKILL): the lock holds.
    interrupt();
    expect(await aRun).toBe('interrupted');
    await a.stop({ keepDir: true });
    expect(await tryB()).toBe('busy');
    const lastBusy = (await b.whistle.service(remediationServices.recorder).list({ incidentId: 'inc-b-c1-n9' })).find((x: Action) => x.reason === 'SubjectBusy');
    expect(lastBusy?.detail.holder).toMatchObject({ id: claim, actor: 'disk-cleanup', incidentId: inc.id, worker: policyOf(a).claims.worker });

    // Worker a restarts: the resume path closes its interrupted action, and the target is free.
    a = await start(dirA);
    expect((await rowsOf(claim!)).map((r) => `${r.state}:${r.reason}`)).toEqual(['started:remediating', 'failed:Interrupted']);
    expect(await tryB()).toBe('succeeded');
  });
});

describe('a verification that throws', () => {
  it('closes the action failed with the error, and the target is free again', async () => {
    // A detector without a chain: the failure goes to a person (escalated), as a failed action does.
    const inc = { ...incident('a', 'c2', 'n7'), detector: 'claims-verify-test' };
    const req = { ...request(inc, 'worker-a', async () => ({ restarted: true })), verify: async (): Promise<boolean> => Promise.reject(new Error('the probe answered garbage')) };
    expect(await policyOf(a).remediate(req)).toBe('failed');
    const [id] = await claimsOn('node/c2/n7');
    const rows = await rowsOf(id!);
    expect(rows.map((r) => `${r.state}:${r.reason}`)).toEqual(['started:remediating', 'failed:the verification failed: the probe answered garbage']);
    expect(rows[1]!.detail).toMatchObject({ error: 'the probe answered garbage', after: { restarted: true } });
    expect(await policyOf(b).claimed('c2', 'node/c2/n7')).toBeNull();
    expect(await policyOf(b).remediate(request(incident('b', 'c2', 'n7'), 'worker-b', async () => undefined))).toBe('succeeded');
  });
});
