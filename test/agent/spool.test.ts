// The spool on a real directory: order, merging up to the batch limits, the size bound dropping the
// oldest, restart recovery, and unreadable files going to dead-letter.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { DeadLetter } from '../../agent/dead-letter.ts';
import { Spool, type SpoolOptions } from '../../agent/spool.ts';
import type { WireSample } from '../../agent/collectors/types.ts';

const logger = createLogger('silent');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function samples(from: number, count: number): WireSample[] {
  return Array.from({ length: count }, (_, i) => ({ name: 'seq', value: from + i, ts: 1_700_000_000_000 + from + i, labels: { k: 'v' } }));
}

/** Samples whose JSON has the same size whatever `from` is (values padded to 5 digits). */
function sameSize(from: number, count: number): WireSample[] {
  return samples(10_000 + from, count);
}

async function open(over: Partial<SpoolOptions> = {}): Promise<Spool> {
  const deadLetter = new DeadLetter(join(dir, 'dead-letter'), 10);
  await deadLetter.init();
  return Spool.open({ dir: join(dir, 'spool'), maxBytes: 10_000_000, maxBatchSamples: 10_000, maxBatchBytes: 2_000_000, deadLetter, logger, ...over });
}

/** Drains the spool the way the sender does (lease, then ack) and returns every value in order. */
async function drain(spool: Spool): Promise<{ values: number[]; requests: number[] }> {
  const values: number[] = [];
  const requests: number[] = [];
  for (let lease = await spool.lease(); lease; lease = await spool.lease()) {
    requests.push(lease.samples.length);
    values.push(...lease.samples.map((s) => s.value));
    await spool.ack(lease);
  }
  return { values, requests };
}

describe('spool', () => {
  it('keeps order across appends and merges files into requests of at most 10,000 samples', async () => {
    const spool = await open();
    await spool.append(samples(1, 25_000)); // one big collection is cut into files
    for (let i = 0; i < 10; i++) await spool.append(samples(25_001 + i * 100, 100));
    expect(spool.samples).toBe(26_000);
    const files = (await readdir(join(dir, 'spool'))).sort();
    expect(files).toHaveLength(13);
    const { values, requests } = await drain(spool);
    expect(values).toEqual(Array.from({ length: 26_000 }, (_, i) => i + 1));
    expect(Math.max(...requests)).toBeLessThanOrEqual(10_000);
    expect(requests).toEqual([10_000, 10_000, 5_000 + 1_000]);
    expect(spool.samples).toBe(0);
    expect(spool.bytes).toBe(0);
    expect(await readdir(join(dir, 'spool'))).toEqual([]);
  });

  it('respects the byte limit per request as well', async () => {
    const spool = await open({ maxBatchBytes: 2_000 });
    for (let i = 0; i < 20; i++) await spool.append(samples(i * 10 + 1, 10));
    const { values, requests } = await drain(spool);
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    for (const n of requests) expect(n).toBeLessThan(200);
  });

  it('released batches stay at the head', async () => {
    const spool = await open();
    await spool.append(samples(1, 3));
    const first = (await spool.lease())!;
    spool.release(first);
    await spool.append(samples(4, 3));
    expect((await drain(spool)).values).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('when full it drops the OLDEST batches and counts them', async () => {
    const probe = await open();
    await probe.append(sameSize(1, 10));
    const oneBatch = probe.bytes;
    await probe.ack((await probe.lease())!);

    const spool = await open({ maxBytes: oneBatch * 5 + 10 });
    for (let i = 0; i < 12; i++) {
      await spool.append(sameSize(i * 10 + 1, 10));
      expect(spool.bytes).toBeLessThanOrEqual(oneBatch * 5 + 10);
    }
    expect(spool.droppedSamples).toBe(70);
    expect(spool.droppedBatches).toBe(7);
    // The newest five batches survive, still in order.
    expect((await drain(spool)).values).toEqual(Array.from({ length: 50 }, (_, i) => 10_071 + i));
  });

  it('never drops a batch that is in flight', async () => {
    const probe = await open();
    await probe.append(sameSize(1, 10));
    const oneBatch = probe.bytes;
    await probe.ack((await probe.lease())!);

    const spool = await open({ maxBytes: oneBatch * 2 + 10 });
    await spool.append(sameSize(1, 10));
    const inFlight = (await spool.lease())!;
    for (let i = 1; i < 5; i++) await spool.append(sameSize(i * 10 + 1, 10));
    expect(inFlight.samples[0]!.value).toBe(10_001);
    await spool.ack(inFlight);
    expect((await drain(spool)).values).toEqual(Array.from({ length: 10 }, (_, i) => 10_041 + i));
    expect(spool.droppedSamples).toBe(30); // batches 2, 3 and 4 made room in turn
  });

  it('a reopened spool replays what was left, continues the sequence, and cleans torn temp files', async () => {
    const first = await open();
    await first.append(samples(1, 5));
    await first.append(samples(6, 5));
    await writeFile(join(dir, 'spool', '.tmp-abc-0000000000000003-5-100.json'), '[{"name":'); // a crash mid-write
    const second = await open();
    expect(second.samples).toBe(10);
    await second.append(samples(11, 5));
    expect((await readdir(join(dir, 'spool'))).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    expect((await drain(second)).values).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('an unreadable batch file goes to dead-letter and the rest still flows', async () => {
    const spool = await open();
    await spool.append(samples(1, 2));
    await spool.append(samples(3, 2));
    await spool.append(samples(5, 2));
    const files = (await readdir(join(dir, 'spool'))).sort();
    await writeFile(join(dir, 'spool', files[1]!), 'garbage');
    expect((await drain(spool)).values).toEqual([1, 2, 5, 6]);
    const dead = await readdir(join(dir, 'dead-letter'));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toContain('corrupt');
    expect(await readFile(join(dir, 'dead-letter', dead[0]!), 'utf8')).toBe('garbage');
  });

  it('batch files are private to the agent (0600)', async () => {
    const spool = await open();
    await spool.append(samples(1, 1));
    const [file] = await readdir(join(dir, 'spool'));
    expect((await stat(join(dir, 'spool', file!))).mode & 0o777).toBe(0o600);
  });
});
