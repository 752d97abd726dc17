// An attach a killed Whistle began and never finished: the `started` row it left in `actions` is
// closed `failed` ("Interrupted") at the next start, with the cluster's placements as they are
// now, so the record says what happened and `whistle actions` / the console show it. The row is
// written here exactly as the recorder writes it before an attach runs (what SIGKILL leaves).
import { afterAll, describe, expect, it } from 'vitest';
import { remediationServices } from '../../remediators/services.ts';
import { startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { tempDir } from '../incidents/helpers.ts';

const tmp = tempDir('fleet-interrupted');
let t: TestWhistle | undefined;

afterAll(async () => {
  await t?.stop({ keepDir: true });
  tmp.cleanup();
});

describe('a fleet change cut short by a crash', () => {
  it('is closed failed at the next start, with the cluster as it is now; finished ones are left alone', async () => {
    t = await startTestWhistle({}, { dir: tmp.dir });
    expect((await t.operator('POST', '/v1/clusters', { name: 'f1' })).status).toBe(201);
    const recorder = t.whistle.service(remediationServices.recorder);
    const cut = recorder.newId();
    await recorder.write(cut, 'started', { cluster: 'f1', subject: 'n1,n2', kind: 'fleet.attach', reason: 'attach n1, n2 as worker node(s) of f1', actor: 'test-operator', detail: { before: [] } });
    const done = recorder.newId();
    await recorder.write(done, 'started', { cluster: 'f1', subject: 'n3', kind: 'fleet.detach', reason: 'detach n3', actor: 'test-operator', detail: {} });
    await recorder.write(done, 'succeeded', { cluster: 'f1', subject: 'n3', kind: 'fleet.detach', reason: 'detach n3', actor: 'test-operator', detail: {} });
    await t.stop({ keepDir: true });

    t = await startTestWhistle({}, { dir: tmp.dir });
    const rows = await t.whistle.service(remediationServices.recorder).list({ cluster: 'f1' });
    const of = (id: string) => rows.filter((r) => r.id === id).map((r) => r.state).sort();
    expect(of(cut)).toEqual(['failed', 'started']);
    const closed = rows.find((r) => r.id === cut && r.state === 'failed')!;
    expect(closed.reason).toBe('Interrupted: Whistle stopped during attach of n1,n2; check the cluster and run it again if needed');
    expect(closed.actor).toBe('test-operator');
    expect(closed.detail).toMatchObject({ after: { placements: [], etcd: null } });
    expect(of(done)).toEqual(['started', 'succeeded']);
    // A change can be made again at once.
    expect((await t.operator('DELETE', '/v1/clusters/f1')).status).toBe(200);
  });
});
