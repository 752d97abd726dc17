// The writer under store faults, on a real chDB store wrapped to inject faults: an insert whose
// answer is lost after the rows landed must not be written twice; a store that is down keeps
// batches on disk, in order, until it returns; a batch the store keeps refusing is quarantined.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../core/errors.ts';
import { createRegistry } from '../../core/metrics.ts';
import { createIngestMetrics } from '../../ingest/metrics.ts';
import { encodeBatch } from '../../ingest/telemetry-batch.ts';
import { BatchWriter } from '../../ingest/writer.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import type { QueryParams, Store } from '../../store/store.ts';

/** A real store with switchable faults. */
class FaultyStore implements Store {
  readonly kind = 'chdb' as const;
  readonly dialect = 'modern' as const;
  mode: 'ok' | 'down' | 'lose-answer' | 'reject' | 'reject-poison' = 'ok';
  constructor(private readonly inner: Store) {}
  insert(table: string, rows: readonly Record<string, unknown>[]) {
    return this.inner.insert(table, rows);
  }
  async insertJsonEachRow(table: string, body: string | Buffer) {
    if (this.mode === 'down') throw new StoreUnavailableError('connection refused (injected)');
    if (this.mode === 'reject') throw new Error('Code: 27. Cannot parse input (injected)');
    // As chDB refuses a whole insert for one row it cannot take.
    if (this.mode === 'reject-poison' && body.includes('"node":"poison-row"')) throw new Error('Code: 27. Cannot parse input (injected)');
    await this.inner.insertJsonEachRow(table, body);
    if (this.mode === 'lose-answer') {
      this.mode = 'down';
      throw new StoreUnavailableError('socket hang up after commit (injected)');
    }
  }
  query<T>(sql: string, params?: QueryParams) {
    if (this.mode === 'down') return Promise.reject(new StoreUnavailableError('connection refused (injected)'));
    return this.inner.query<T>(sql, params);
  }
  command(sql: string, params?: QueryParams) {
    return this.inner.command(sql, params);
  }
  ping() {
    return Promise.resolve(this.mode !== 'down');
  }
  close() {
    return this.inner.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'whistle-writer-'));
let real: ChdbStore;
let store: FaultyStore;
let writer: BatchWriter;
let seq = 0;

function enqueue(node: string, n: number): void {
  const id = writer.nextChunkId();
  const samples = Array.from({ length: n }, () => ({ name: 'seq', value: seq++, ts: Date.now() }));
  writer.enqueue(encodeBatch({ cluster: 'c', node, samples }, { now: Date.now(), maxPastMs: 1e9, maxFutureMs: 1e9, labelsAsText: false, batchId: id }), n, id);
}

async function values(node: string): Promise<number[]> {
  const rows = await real.query<{ value: number }>('SELECT value FROM samples WHERE node = {node:String} ORDER BY value', { node });
  return rows.map((r) => r.value);
}

beforeAll(async () => {
  real = new ChdbStore(join(dir, 'chdb'));
  await migrate(real, { retentionDays: 30 });
  store = new FaultyStore(real);
  writer = new BatchWriter(
    store,
    { table: 'samples', batchSize: 100, flushIntervalMs: 20, maxQueueSamples: 10_000, maxSpoolBytes: 1e9, spoolDir: join(dir, 'spool'), retryInitialMs: 10, retryMaxMs: 50, maxBatchFailures: 3 },
    createIngestMetrics(createRegistry(false)),
    pino({ level: 'silent' }),
  );
  await writer.start();
});
afterAll(async () => {
  await writer.stop();
  await real.close();
});

describe('BatchWriter under faults', () => {
  it('does not duplicate a batch whose insert landed but whose answer was lost', async () => {
    seq = 0;
    store.mode = 'lose-answer';
    enqueue('lost-answer', 100);
    await expectEventually(() => writer.spooled > 0);
    store.mode = 'ok';
    expect(await writer.drained(10_000)).toBe(true);
    expect(await values('lost-answer')).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('spools while the store is down and replays everything once, in order', async () => {
    seq = 0;
    store.mode = 'down';
    for (let i = 0; i < 10; i++) enqueue('down', 50);
    await expectEventually(() => writer.spooled >= 3);
    expect(readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.batch')).length).toBe(writer.spooled);
    store.mode = 'ok';
    expect(await writer.drained(10_000)).toBe(true);
    expect(await values('down')).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('quarantines a batch the store keeps refusing, and keeps writing the rest', async () => {
    seq = 0;
    store.mode = 'reject';
    enqueue('poison', 10);
    await expectEventually(() => writer.spooled > 0);
    await expectEventually(() => readdirSync(join(dir, 'spool', 'dead')).length === 1);
    store.mode = 'ok';
    enqueue('after-poison', 10);
    expect(await writer.drained(10_000)).toBe(true);
    expect(await values('after-poison')).toHaveLength(10);
    expect(await values('poison')).toHaveLength(0);
  });

  it('a refused batch costs only the request the store refuses: the other requests in it are written', async () => {
    seq = 0;
    const dead = () => readdirSync(join(dir, 'spool', 'dead')).length;
    const deadBefore = dead();
    store.mode = 'reject-poison';
    // Three requests in one insert (batchSize 100): two good nodes around one the store refuses.
    enqueue('good-before', 10);
    enqueue('poison-row', 10);
    enqueue('good-after', 10);
    await expectEventually(() => dead() === deadBefore + 1);
    expect(await writer.drained(10_000)).toBe(true);
    expect(await values('good-before')).toHaveLength(10);
    expect(await values('good-after')).toHaveLength(10);
    expect(await values('poison-row')).toHaveLength(0);
    store.mode = 'ok';
  });
});

async function expectEventually(fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
