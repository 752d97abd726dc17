// Backpressure: a full write queue answers 429 with Retry-After, and what was accepted survives a
// shutdown (drained to the spool) and lands after the next start.
import { describe, expect, it } from 'vitest';
import { eventually, startTestWhistle } from '../helpers/whistle.ts';

describe('backpressure', () => {
  it('answers 429 with Retry-After when the queue is full, and keeps what it accepted', async () => {
    const small = await startTestWhistle({ writer: { maxQueueSamples: 100, batchSize: 1_000_000, flushIntervalMs: 60_000 } });
    try {
      const tok = await small.addNode('bp');
      const batch = (n: number) => ({ cluster: 'c1', node: 'bp', samples: Array.from({ length: n }, (_, i) => ({ name: 'm', value: i, ts: Date.now() })) });
      expect((await small.post('/v1/telemetry', batch(80), tok)).status).toBe(202);
      const full = await small.post('/v1/telemetry', batch(30), tok);
      expect(full.status).toBe(429);
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
      await small.whistle.stop(); // shutdown drains the queue (to the spool, then the store on the next start)
      const again = await startTestWhistle({ writer: { maxQueueSamples: 100, flushIntervalMs: 50 } }, { dir: small.dir });
      try {
        await eventually(async () => {
          const r = await again.whistle.store.query<{ c: string }>("SELECT count() AS c FROM samples WHERE node = 'bp'");
          return Number(r[0]?.c) === 80;
        }, '80 samples after restart');
      } finally {
        await again.stop();
      }
    } finally {
      await small.stop();
    }
  });

  it('recognises a batch resent across an orderly restart (the guard is checkpointed at stop)', async () => {
    const first = await startTestWhistle();
    const dir = first.dir;
    const tok = await first.addNode('resend-restart');
    const body = { cluster: 'c1', node: 'resend-restart', samples: [{ name: 'm', value: 1, ts: Date.now() }] };
    const send = (w: typeof first) =>
      fetch(`${w.url}/v1/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}`, 'x-whistle-batch': 'epoch-r:7' }, body: JSON.stringify(body) });
    expect(await (await send(first)).json()).toEqual({ accepted: 1 });
    await first.whistle.stop();
    const again = await startTestWhistle({}, { dir });
    try {
      expect(await (await send(again)).json()).toEqual({ accepted: 0, duplicate: true });
    } finally {
      await again.stop();
    }
  });
});
