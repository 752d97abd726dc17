// The ingest API against a real Whistle on embedded chDB: good batches land, and every kind of bad
// input gets a 4xx with a reason while nothing of the batch is written.
import { ingestServices } from '../../ingest/services.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

let t: TestWhistle;
let token: string;

async function countSamples(node: string): Promise<number> {
  const rows = await t.whistle.store.query<{ c: string }>('SELECT count() AS c FROM samples WHERE node = {node:String}', { node });
  return Number(rows[0]?.c ?? 0);
}

async function flushed(): Promise<void> {
  expect(await t.whistle.service(ingestServices.samplesWriter).drained(10_000)).toBe(true);
}

const now = () => Date.now();

beforeAll(async () => {
  t = await startTestWhistle({ server: { maxSamplesPerBatch: 100, bodyLimitBytes: 64 * 1024 } });
  token = await t.addNode('n1');
});
afterAll(async () => t?.stop());

describe('POST /v1/telemetry', () => {
  it('accepts a batch and stores every sample', async () => {
    const samples = Array.from({ length: 50 }, (_, i) => ({ name: 'node_load1', value: i / 10, ts: now() - i * 1000, labels: { i: String(i) } }));
    const res = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples }, token);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 50 });
    await flushed();
    expect(await countSamples('n1')).toBe(50);
  });

  it('stores labels with quotes, backslashes and SQL verbatim, never executing them', async () => {
    const evil = `x'); DROP TABLE samples; -- \\ " \n {node:String}`;
    const res = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples: [{ name: 'evil_metric', value: 1, ts: now(), labels: { [`k"'\\`]: evil } }] }, token);
    expect(res.status).toBe(202);
    await flushed();
    const rows = await t.whistle.store.query<{ labels: Record<string, string> }>(
      'SELECT labels FROM samples WHERE node = {node:String} AND name = {name:String}',
      { node: 'n1', name: 'evil_metric' },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.labels).toEqual({ [`k"'\\`]: evil });
    expect(await countSamples('n1')).toBeGreaterThan(0); // the table is still there
  });

  const bad: [string, unknown, number, RegExp][] = [
    ['malformed JSON', '{"cluster": "c1", "node": ', 400, /malformed JSON/],
    ['missing field', { cluster: 'c1', node: 'n1' }, 400, /samples/],
    ['wrong type for value', { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: '5', ts: Date.now() }] }, 400, /samples\[0\]\.value/],
    ['wrong type for ts', { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 5, ts: 'yesterday' }] }, 400, /samples\[0\]\.ts/],
    ['a label that is not a string', { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 5, ts: Date.now(), labels: { a: 1 } }] }, 400, /labels/],
    ['an unknown field', { cluster: 'c1', node: 'n1', samples: [], extra: 1 }, 400, /additional properties/],
    ['a bad metric name', { cluster: 'c1', node: 'n1', samples: [{ name: 'bad name; drop', value: 1, ts: Date.now() }] }, 400, /name/],
  ];
  for (const [what, body, status, reason] of bad) {
    it(`refuses ${what} with ${status} and a reason`, async () => {
      const before = await countSamples('n1');
      const res = await t.post('/v1/telemetry', body, token);
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: string; code: string };
      expect(json.error).toMatch(reason);
      await flushed();
      expect(await countSamples('n1')).toBe(before);
    });
  }

  it('refuses non-finite numbers (1e999 parses to Infinity) and writes nothing of the batch', async () => {
    const before = await countSamples('n1');
    const body = `{"cluster":"c1","node":"n1","samples":[{"name":"ok","value":1,"ts":${now()}},{"name":"inf","value":1e999,"ts":${now()}}]}`;
    const res = await t.post('/v1/telemetry', body, token);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/samples\[1\]\.value: must be a finite number/);
    await flushed();
    expect(await countSamples('n1')).toBe(before);
  });

  it('refuses timestamps far in the future or the past', async () => {
    const future = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 1, ts: now() + 3600_000 }] }, token);
    expect(future.status).toBe(400);
    expect(((await future.json()) as { error: string }).error).toMatch(/samples\[0\]\.ts: .* in the future/);
    const past = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 1, ts: 1000 }] }, token);
    expect(past.status).toBe(400);
    expect(((await past.json()) as { error: string }).error).toMatch(/older than/);
  });

  it('refuses oversized bodies with 413 and too many samples with 400', async () => {
    const big = { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 1, ts: now(), labels: { pad: 'x'.repeat(4000) } }] };
    big.samples = Array.from({ length: 30 }, () => big.samples[0]!);
    const tooLarge = await t.post('/v1/telemetry', big, token);
    expect(tooLarge.status).toBe(413);
    const many = { cluster: 'c1', node: 'n1', samples: Array.from({ length: 101 }, () => ({ name: 'm', value: 1, ts: now() })) };
    const tooMany = await t.post('/v1/telemetry', many, token);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: string }).error).toMatch(/more than 100 items/);
  });

  it('refuses missing, unknown and mismatched tokens, and pending nodes', async () => {
    const batch = { cluster: 'c1', node: 'n1', samples: [{ name: 'm', value: 1, ts: now() }] };
    expect((await t.post('/v1/telemetry', batch)).status).toBe(401);
    expect((await t.post('/v1/telemetry', batch, 'not-a-token')).status).toBe(401);
    const reg = await t.post('/v1/register', { cluster: 'c1', node: 'pending-node', joinToken: 'join-token-for-tests-0123456789' });
    expect(reg.status).toBe(202);
    const { token: pendingToken, status } = (await reg.json()) as { token: string; status: string };
    expect(status).toBe('pending');
    const pending = await t.post('/v1/telemetry', { ...batch, node: 'pending-node' }, pendingToken);
    expect(pending.status).toBe(403);
    expect(((await pending.json()) as { error: string }).error).toMatch(/pending authorization/);
    // A valid token used for another node's batch.
    const other = await t.addNode('n2');
    const mismatch = await t.post('/v1/telemetry', batch, other);
    expect(mismatch.status).toBe(403);
    expect(((await mismatch.json()) as { error: string }).error).toMatch(/belongs to c1\/n2/);
  });

  it('refuses registration with a bad join token or unknown cluster', async () => {
    expect((await t.post('/v1/register', { cluster: 'c1', node: 'x', joinToken: 'wrong' })).status).toBe(401);
    expect((await t.post('/v1/register', { cluster: 'nope', node: 'x', joinToken: 'join-token-for-tests-0123456789' })).status).toBe(401);
    expect((await t.post('/v1/register', { cluster: 'c1', node: 'bad node!', joinToken: 'x' })).status).toBe(400);
  });

  it('counts accepted and rejected samples by reason in /metrics', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/whistle_ingest_samples_accepted_total \d+/);
    for (const reason of ['invalid_json', 'invalid_schema', 'non_finite', 'ts_out_of_range', 'too_large', 'too_many_samples', 'unauthorized', 'pending', 'forbidden'])
      expect(text).toContain(`whistle_ingest_samples_rejected_total{reason="${reason}"}`);
    expect(text).toContain('whistle_writer_flush_seconds_bucket');
  });
});

describe('operator API', () => {
  it('lists nodes without their token hashes and shows samples', async () => {
    const res = await t.operator('GET', '/v1/nodes');
    expect(res.status).toBe(200);
    const { nodes } = (await res.json()) as { nodes: Record<string, unknown>[] };
    expect(nodes.map((n) => n.node)).toEqual(expect.arrayContaining(['n1', 'n2', 'pending-node']));
    expect(JSON.stringify(nodes)).not.toContain('tokenHash');
    const samples = await eventually(async () => {
      const r = await t.operator('GET', '/v1/samples?node=n1&name=node_load1&limit=5');
      const j = (await r.json()) as { samples: unknown[] };
      return j.samples.length === 5 ? j.samples : null;
    }, 'samples');
    expect(samples).toHaveLength(5);
  });

  it('requires an operator token', async () => {
    expect((await fetch(`${t.url}/v1/nodes`)).status).toBe(401);
    expect((await fetch(`${t.url}/v1/nodes`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await t.operator('POST', '/v1/nodes/c1/ghost/authorize')).status).toBe(404);
  });
});


describe('resent batches', () => {
  it('accepts a batch once when the agent resends it after losing the answer', async () => {
    const tok = await t.addNode('resender');
    const batch = { cluster: 'c1', node: 'resender', samples: Array.from({ length: 10 }, (_, i) => ({ name: 'r', value: i, ts: Date.now() })) };
    const send = (tag: string) =>
      fetch(`${t.url}/v1/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}`, 'x-whistle-batch': tag }, body: JSON.stringify(batch) });
    expect(await (await send('epoch-a:1')).json()).toEqual({ accepted: 10 });
    expect(await (await send('epoch-a:1')).json()).toEqual({ accepted: 0, duplicate: true });
    expect(await (await send('epoch-a:2')).json()).toEqual({ accepted: 10 });
    expect(await (await send('epoch-b:1')).json()).toEqual({ accepted: 10 }); // a restarted agent
    const bad = await send('no tag');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/x-whistle-batch/);
    await flushed();
    expect(await countSamples('resender')).toBe(30);
  });
});
