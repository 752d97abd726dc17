// Per-sender request limits on a real Whistle: a node flooding telemetry gets 429 with Retry-After
// while another node's batches are all accepted and stored; registrations are limited per source
// address before the join token is even looked at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../core/errors.ts';
import { RateLimiter } from '../../ingest/rate-limit.ts';
import { ingestServices } from '../../ingest/services.ts';
import { JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const PER_SECOND = 5;
const BURST = 10;
const REGISTRATIONS_PER_MINUTE = 6;

let t: TestWhistle;
let flooder: string;
let steady: string;

const batch = (node: string, i: number) => ({ cluster: 'c1', node, samples: [{ name: 'rate_test', value: i, ts: Date.now(), labels: { i: String(i) } }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function countSamples(node: string): Promise<number> {
  const rows = await t.whistle.store.query<{ c: string }>("SELECT count() AS c FROM samples WHERE node = {node:String} AND name = 'rate_test'", { node });
  return Number(rows[0]?.c ?? 0);
}

async function metric(line: RegExp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

beforeAll(async () => {
  t = await startTestWhistle({ server: { rateLimit: { perNodeRequestsPerSecond: PER_SECOND, burst: BURST, perIpRegistrationsPerMinute: REGISTRATIONS_PER_MINUTE } } });
  flooder = await t.addNode('flooder');
  steady = await t.addNode('steady');
});
afterAll(async () => t?.stop());

describe('per-node request limit', () => {
  // First in the file: the bucket has spent exactly the two registrations of beforeAll, and has had
  // no time to refill (1 per 10 s), so the count below does not depend on how slow the machine is.
  it('limits registrations per source address before the join token is checked', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) answers.push((await t.post('/v1/register', { cluster: 'c1', node: `guess-${i}`, joinToken: `wrong-${i}` })).status);
    expect(answers).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    const refused = await t.post('/v1/register', { cluster: 'c1', node: 'late', joinToken: JOIN_TOKEN });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { code: string }).code).toBe('WHISTLE_RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await metric(/^whistle_ingest_registrations_rate_limited_total (\d+)/m)).toBe(5);
  });

  it('refuses a flooding node with 429 and Retry-After while a second node is all accepted', async () => {
    const flood: { status: number; retryAfter: string | null; code?: string }[] = [];
    let flooding = true;
    const flooderLoop = (async () => {
      for (let i = 0; flooding; i++) {
        // Eight in flight at a time: far above the node's rate, like an agent retrying without backoff.
        const answers = await Promise.all(Array.from({ length: 8 }, (_, k) => t.post('/v1/telemetry', batch('flooder', i * 8 + k), flooder)));
        for (const r of answers) {
          const body = (await r.json()) as { code?: string };
          flood.push({ status: r.status, retryAfter: r.headers.get('retry-after'), code: body.code });
        }
      }
    })();

    // The steady node sends below its own rate, all through the flood.
    const steadyStatuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 16; i++) {
      steadyStatuses.push((await t.post('/v1/telemetry', batch('steady', i), steady)).status);
      await sleep(1000 / (PER_SECOND - 1));
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    flooding = false;
    await flooderLoop;

    expect(steadyStatuses).toEqual(Array(16).fill(202));
    const limited = flood.filter((f) => f.status === 429);
    const accepted = flood.filter((f) => f.status === 202);
    expect(flood.length).toBeGreaterThan(100);
    expect(accepted.length + limited.length).toBe(flood.length);
    // The flooder got its burst and its rate, not more (one second of slack for the loop's tail).
    expect(accepted.length).toBeLessThanOrEqual(BURST + Math.ceil((elapsedSeconds + 1) * PER_SECOND));
    for (const l of limited) {
      expect(l.code).toBe('WHISTLE_RATE_LIMITED');
      expect(Number(l.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(await metric(/^whistle_ingest_samples_rejected_total\{reason="rate_limited"\} (\d+)/m)).toBe(limited.length);

    expect(await t.whistle.service(ingestServices.samplesWriter).drained(10_000)).toBe(true);
    expect(await countSamples('steady')).toBe(16);
    expect(await countSamples('flooder')).toBe(accepted.length);

    // Waiting as told is enough to be accepted again.
    await sleep(Number(limited.at(-1)!.retryAfter) * 1000);
    expect((await t.post('/v1/telemetry', batch('flooder', -1), flooder)).status).toBe(202);
  });
});

describe('RateLimiter', () => {
  it('refills at its rate and says how long to wait, rounded up to whole seconds', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 0.5, burst: 2, now: () => now });
    limiter.take('a');
    limiter.take('a');
    const err = (() => {
      try {
        limiter.take('a');
      } catch (e) {
        return e as RateLimitedError;
      }
    })();
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err!.retryAfterSeconds).toBe(2);
    limiter.take('b'); // another key has its own bucket
    now = 2000;
    limiter.take('a');
  });

  it('tracks a bounded number of keys under a flood of distinct senders', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 5, maxKeys: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      limiter.take(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
