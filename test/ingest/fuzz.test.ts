// Bad input at volume, the suite's share: 5,000 structure-aware mutations of valid requests
// (telemetry, registration, the operator API) against an in-process Whistle while well-behaved
// nodes send beside them. No 5xx, every 4xx the documented error body, nothing of a refused batch
// stored, every good sample stored. `npm run bench:fuzz` runs 100,000 against a real process.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestServices } from '../../ingest/services.ts';
import { runCampaign } from '../helpers/fuzz/campaign.ts';
import { loopbackAddresses, prepareFleet, type Fleet } from '../helpers/fuzz/fleet.ts';
import { GoodTraffic } from '../helpers/fuzz/good-traffic.ts';
import { namesField } from '../helpers/fuzz/oracle.ts';
import { RssSampler } from '../helpers/fuzz/memory.ts';
import { checkStore } from '../helpers/fuzz/store-check.ts';
import { JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 5_000);
// A fixed seed, so the suite sends the same requests every run; bench:fuzz explores new seeds.
const SEED = Number(process.env.FUZZ_SEED ?? 1);

let t: TestWhistle;
let fleet: Fleet;

beforeAll(async () => {
  t = await startTestWhistle();
  fleet = await prepareFleet({ url: t.url, cluster: 'c1', joinToken: JOIN_TOKEN, operatorToken: OPERATOR_TOKEN, fuzzNodes: 8, goodNodes: 3 });
});
afterAll(async () => t?.stop());

describe('fuzzed requests', () => {
  it(`${TOTAL} mutations: no 5xx, documented 4xx bodies, nothing half-written, all good traffic stored`, { timeout: 600_000 }, async () => {
    const good = new GoodTraffic({ url: t.url, cluster: 'c1', nodes: fleet.good, intervalMs: 250, samplesPerBatch: 20 });
    const memory = new RssSampler(process.pid);
    memory.start();
    good.start();
    const r = await runCampaign({ port: Number(new URL(t.url).port), targets: fleet.targets, total: TOTAL, concurrency: 8, seed: SEED, sourceAddresses: loopbackAddresses(32) });
    const goodResult = await good.stop();
    const rss = memory.stop();
    expect(await t.whistle.service(ingestServices.samplesWriter).drained(30_000)).toBe(true);
    const health = await fetch(`${t.url}/healthz`);
    const stored = await checkStore(
      t.whistle.store,
      fleet.targets.telemetryNodes.map((n) => n.node),
      fleet.good.map((n) => n.node),
      r.telemetry,
    );
    console.log(
      JSON.stringify({
        seed: r.seed,
        requests: r.requests,
        byStatus: r.byStatus,
        byCode: r.byCode,
        serverErrors: r.serverErrors,
        noAnswer: r.noAnswer,
        cutOff: r.cutOff,
        findings: r.findingCount,
        fuzzSamplesAccepted: r.fuzzSamplesAccepted,
        ...stored,
        overStoredRequests: stored.overStoredRequests.length,
        good: goodResult,
        rss,
        durationMs: r.durationMs,
      }),
    );
    for (const f of r.findings) console.log(`FINDING x${f.count} (seed ${r.seed}): ${f.problem}\n  ${f.request}`);

    expect(r.requests).toBe(TOTAL);
    expect(health.status).toBe(200);
    expect(r.findings.map((f) => `${f.count} x ${f.problem}`)).toEqual([]);
    expect(stored.rowsFromRefused).toBe(0);
    expect(stored.overStoredRequests).toEqual([]);
    expect(stored.fuzzRowsStored).toBe(r.fuzzSamplesAccepted);
    expect(goodResult.problems).toEqual([]);
    expect(goodResult.samplesAccepted).toBe(goodResult.samplesSent);
    expect(stored.goodSamplesStored).toBe(goodResult.samplesAccepted);
  });
});

// Each input below broke a contract when the fuzzer first ran; kept as plain cases so a
// regression fails by name, whatever the seed.
describe('inputs the fuzzer found', () => {
  const operator = (method: string, path: string, body?: string) =>
    fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
  const errorOf = async (r: Response) => ({ status: r.status, ...((await r.json()) as { error: string; code: string }) });

  it('an unpaired surrogate escape in a label is refused, and the batch beside it from another node is stored', async () => {
    const [bad, good] = fleet.targets.telemetryNodes;
    const lone = await t.post('/v1/telemetry', `{"cluster":"c1","node":"${bad!.node}","samples":[{"name":"m","value":1,"ts":${Date.now()},"labels":{"mount":"x\\ud800"}}]}`, bad!.token);
    expect(await errorOf(lone)).toEqual({ status: 400, code: 'WHISTLE_INPUT_INVALID', error: expect.stringMatching(/^body\.samples\[0\]\.labels\.mount: must be valid Unicode/) });
    const beside = await t.post('/v1/telemetry', { cluster: 'c1', node: good!.node, samples: [{ name: 'beside_lone', value: 1, ts: Date.now(), labels: { pair: '\ud83d\ude00' } }] }, good!.token);
    expect(beside.status).toBe(202);
    expect(await t.whistle.service(ingestServices.samplesWriter).drained(10_000)).toBe(true);
    const rows = await t.whistle.store.query<{ c: string }>("SELECT count() AS c FROM samples WHERE name = 'beside_lone'");
    expect(Number(rows[0]!.c)).toBe(1);
  });

  it('an unpaired surrogate in operator or registration text is a 400 naming the field, not a 500', async () => {
    expect(await errorOf(await operator('POST', '/v1/silences', '{"matchers":[{"name":"cluster","value":"c1"}],"durationMs":60000,"comment":"\\udfff"}'))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/^body\.comment: must be valid Unicode/),
    });
    const reg = await t.post('/v1/register', `{"cluster":"c1","node":"lone","joinToken":"${JOIN_TOKEN}","agentVersion":"\\ud800"}`);
    expect(await errorOf(reg)).toMatchObject({ status: 400, error: expect.stringMatching(/^body\.agentVersion: must be valid Unicode/) });
  });

  it('a time the store cannot hold is a 400, not a silence or window that memory and store disagree on', async () => {
    const infinite = await operator('POST', '/v1/silences', '{"matchers":[{"name":"cluster","value":"c1"}],"durationMs":1e309,"comment":"x"}');
    expect(await errorOf(infinite)).toMatchObject({ status: 400, error: expect.stringMatching(/^body\.durationMs: must be between 1970 and 2299/) });
    const far = await operator('POST', '/v1/maintenance', JSON.stringify({ cluster: 'c1', end: '99999999999999999999', comment: 'x' }));
    expect(await errorOf(far)).toMatchObject({ status: 400, error: expect.stringMatching(/^body\.end: must be between/) });
    // Date.parse reads "-1" as the year 2001.
    const minusOne = await operator('POST', '/v1/maintenance', JSON.stringify({ cluster: 'c1', start: '-1', end: Date.now() + 60_000, comment: 'x' }));
    expect(await errorOf(minusOne)).toMatchObject({ status: 400, error: expect.stringMatching(/^body\.start: not a date/) });
  });

  it('a query number the store cannot bind is a 400 naming the parameter', async () => {
    for (const since of ['Infinity', '1e309', '1e18']) {
      const r = await operator('GET', `/v1/samples?node=n&since=${since}`);
      expect(await errorOf(r)).toMatchObject({ status: 400, error: expect.stringMatching(/^querystring\.since: must be/) });
    }
  });

  it('what the router or the HTTP parser refuses is answered {error, code} too', async () => {
    const raw = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: Number(new URL(t.url).port), path, headers }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        r.on('error', reject);
        r.end();
      });
    const bad = { status: 400, body: { code: 'WHISTLE_BAD_REQUEST', error: expect.any(String) } };
    expect(await raw('/v1/nodes/c1/%zz/authorize')).toMatchObject(bad);
    expect(await raw(`/v1/incidents/${'x'.repeat(300)}`)).toMatchObject(bad);
    expect(await raw('/healthz', { 'x-junk': 'h'.repeat(20_000) })).toMatchObject({ status: 400, body: { code: 'WHISTLE_BAD_REQUEST', error: expect.stringMatching(/headers are larger/) } });
  });

  it('a missing, unknown or oddly named field is named in the error', async () => {
    const [n] = fleet.targets.telemetryNodes;
    const errorFor = async (body: unknown) => ((await (await t.post('/v1/telemetry', body, n!.token)).json()) as { error: string }).error;
    expect(await errorFor({ cluster: 'c1', node: n!.node })).toBe('body.samples: is required');
    expect(await errorFor({ cluster: 'c1', node: n!.node, samples: [], extra: 1 })).toMatch(/^body\.extra: is not a known field/);
    expect(await errorFor({ cluster: 'c1', node: n!.node, samples: [{ name: 'm', value: 1, ts: Date.now(), labels: { 'a b': 1 } }] })).toBe('body.samples[0].labels["a b"]: must be string');
    for (const e of ['body.samples: is required', 'body.samples[0].labels["a b"]: must be string', 'samples[3].ts: x', 'x-whistle-batch header: expected']) expect(namesField(e), e).toBe(true);
    for (const e of ['internal error', 'body.samples[0].labels. : must be string', 'must be string']) expect(namesField(e), e).toBe(false);
  });
});
