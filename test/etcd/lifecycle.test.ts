// The engine's operations by hand, through the API: preflight report, remove, reset, join back,
// each idempotent and recorded before/after; scheduled snapshots with retention.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import type { OperationResult } from '../../bootstrap/etcd/plan.ts';
import type { PreflightReport } from '../../bootstrap/preflight/preflight.ts';
import { EtcdHarness } from './harness.ts';
import { eventually } from './poll.ts';

const h = new EtcdHarness({ subnet: 66, members: 3, telemetryMs: 1_000, snapshotIntervalS: 1, remediation: { etcdMemberReplace: { enabled: false } } });

beforeAll(async () => {
  await h.start();
}, 120_000);

afterAll(async () => {
  await h.close();
});

const names = async () => ((await h.api<{ info: EtcdInfo }>('GET', `/v1/etcd/${h.cluster}/info`)).body.info.members.map((m) => m.name).sort());

describe('etcd engine operations', () => {
  it('preflight reports every node before anything runs', async () => {
    const { status, body } = await h.api<{ report: PreflightReport }>('POST', `/v1/etcd/${h.cluster}/preflight`, {});
    expect(status).toBe(200);
    expect(body.report.ok).toBe(true);
    // 3 nodes x 2 ports free + 3 x 2 peer reachability checks.
    expect(body.report.checks.filter((c) => c.check === 'port-free')).toHaveLength(6);
    expect(body.report.checks.filter((c) => c.check === 'reach')).toHaveLength(6);
  });

  it('init, join; remove, reset and join back; each idempotent and recorded', async () => {
    const dry = await h.api<OperationResult>('POST', `/v1/etcd/${h.cluster}/init`, { node: 'n1', dryRun: true });
    expect(dry.body.dryRun).toBe(true);
    expect(h.pid(0)).toBeUndefined();
    await h.bootstrap();
    expect(await names()).toEqual(['n1', 'n2', 'n3']);

    const removed = await h.api<OperationResult>('POST', `/v1/etcd/${h.cluster}/remove`, { node: 'n3' });
    expect(removed.status).toBe(200);
    expect(removed.body.changed).toBe(true);
    expect(await names()).toEqual(['n1', 'n2']);
    const again = await h.api<OperationResult>('POST', `/v1/etcd/${h.cluster}/remove`, { node: 'n3' });
    expect(again.body.changed).toBe(false);
    expect(h.pid(2)).toBeUndefined();

    const reset = await h.api<OperationResult>('POST', `/v1/etcd/${h.cluster}/reset`, { node: 'n3' });
    expect(reset.status).toBe(200);
    const back = await h.api<OperationResult>('POST', `/v1/etcd/${h.cluster}/join`, { node: 'n3' });
    expect(back.status).toBe(200);
    expect(back.body.changed).toBe(true);
    expect(await names()).toEqual(['n1', 'n2', 'n3']);

    const actions = await h.recorder.list({ cluster: h.cluster });
    const remove = actions.filter((a) => a.kind === 'etcd.remove' && a.subject === 'n3');
    expect(remove.map((a) => a.state).sort()).toEqual(['started', 'succeeded']);
    const before = remove.find((a) => a.state === 'started')!.detail.before as EtcdInfo;
    const after = remove.find((a) => a.state === 'succeeded')!.detail.after as { after: EtcdInfo };
    expect(before.members).toHaveLength(3);
    expect(after.after.members).toHaveLength(2);
    expect(actions.some((a) => a.kind === 'etcd.init' && a.state === 'skipped' && a.dryRun)).toBe(true);
  }, 120_000);

  it('scheduled snapshots keep the newest `retain`', async () => {
    const backups = join(h.dir, 'backups');
    const count = async (state: string) => Number((await h.store.query<{ n: string }>(`SELECT count() AS n FROM etcd_snapshots WHERE state = {state:String}`, { state }))[0]!.n);
    await eventually('five scheduled snapshots', async () => (await count('saved')) >= 5, 60_000, 500);
    const files = readdirSync(backups).filter((f) => f.startsWith(`${h.cluster}-`) && f.endsWith('.db'));
    expect(files.length).toBeLessThanOrEqual(3);
    expect(await count('deleted')).toBeGreaterThanOrEqual(2);
    const listed = await h.api<{ snapshots: { file: string }[] }>('GET', `/v1/etcd/${h.cluster}/snapshots`);
    // A save may land between the two reads: at most one more than retained.
    expect(listed.body.snapshots.length).toBeGreaterThanOrEqual(1);
    expect(listed.body.snapshots.length).toBeLessThanOrEqual(4);
  }, 90_000);
});
