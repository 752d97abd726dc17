// Two Whistle workers sharing one store, as a scaled-out deployment runs them (each assembled as
// `whistle start` builds it, each with its own API): a cluster created, a join token rotated, a
// node registered and authorized, a cluster deleted through one worker are known to the other
// within its `fleet.refreshMs`, without a restart, and announced to its stages as changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterChange } from '../../core/clusters/catalog.ts';
import { coreServices } from '../../core/services.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import { eventually, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const dir = mkdtempSync(join(tmpdir(), 'whistle-shared-store-'));
let store: ChdbStore;
let a: TestWhistle;
let b: TestWhistle;
const seenByB: ClusterChange[] = [];

async function json<T = Record<string, unknown>>(res: Response): Promise<{ status: number; body: T }> {
  return { status: res.status, body: (await res.json()) as T };
}

const worker = (name: string) => startTestWhistle({ fleet: { refreshMs: 200 } }, { store, dir: join(dir, name) });

beforeAll(async () => {
  store = new ChdbStore(join(dir, 'chdb'));
  await migrate(store, { retentionDays: 30 });
  a = await worker('a');
  b = await worker('b');
  b.whistle.service(coreServices.clusters).onChange((c) => seenByB.push(c));
}, 120_000);

afterAll(async () => {
  await b?.stop({ keepDir: true });
  await a?.stop({ keepDir: true });
  await store?.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('two workers on one store', () => {
  let joinToken = '';

  it('a cluster created through one worker is known to the other, announced as created', async () => {
    expect((await b.operator('GET', '/v1/clusters/shared')).status).toBe(404);
    const made = await json<{ joinToken: string }>(await a.operator('POST', '/v1/clusters', { name: 'shared' }));
    expect(made.status).toBe(201);
    joinToken = made.body.joinToken;
    await eventually(async () => (await b.operator('GET', '/v1/clusters/shared')).status === 200, 'worker b knows the cluster', 10_000, 50);
    expect(seenByB).toContainEqual({ kind: 'created', name: 'shared' });
  });

  it('a node registers through the other worker with that join token, and is authorized through the first', async () => {
    const reg = await b.post('/v1/register', { cluster: 'shared', node: 'n1', joinToken });
    expect(reg.status).toBe(202);
    await eventually(async () => (await a.operator('POST', '/v1/nodes/shared/n1/authorize')).status === 200, 'worker a authorizes the node b registered', 10_000, 50);
    await eventually(
      async () => (await json<{ nodes: { node: string; status: string }[] }>(await b.operator('GET', '/v1/nodes?cluster=shared'))).body.nodes.find((n) => n.node === 'n1')?.status === 'authorized',
      'worker b sees it authorized',
      10_000,
      50,
    );
  });

  it('a join token rotated through one worker stops working on the other; the new one works there', async () => {
    const rotated = await json<{ joinToken: string }>(await a.operator('POST', '/v1/clusters/shared/join-token'));
    expect(rotated.status).toBe(200);
    await eventually(async () => (await b.post('/v1/register', { cluster: 'shared', node: 'n2', joinToken })).status === 401, 'worker b refuses the old token', 10_000, 50);
    expect((await b.post('/v1/register', { cluster: 'shared', node: 'n2', joinToken: rotated.body.joinToken })).status).toBe(202);
  });

  it('a cluster deleted through one worker is gone from the other, announced as deleted', async () => {
    expect((await a.operator('POST', '/v1/clusters', { name: 'short-lived' })).status).toBe(201);
    await eventually(async () => (await b.operator('GET', '/v1/clusters/short-lived')).status === 200, 'worker b knows short-lived', 10_000, 50);
    expect((await a.operator('DELETE', '/v1/clusters/short-lived')).status).toBe(200);
    await eventually(async () => (await b.operator('GET', '/v1/clusters/short-lived')).status === 404, 'worker b forgot short-lived', 10_000, 50);
    expect(seenByB).toContainEqual({ kind: 'deleted', name: 'short-lived' });
    // The declared cluster of both files stays.
    expect((await b.operator('GET', '/v1/clusters/c1')).status).toBe(200);
  });
});
