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
});
