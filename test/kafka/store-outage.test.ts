// The store goes away while telemetry flows through Kafka: agents still get 202 (the topic holds
// the batches), the consumer commits nothing until the rows are in the store, and an insert that
// landed although its answer was lost is not written twice when the writer replays it (the
// writer's id-range check works with the partition-offset batch ids). Real broker, real chDB
// wrapped to inject faults.
import { ingestServices } from '../../ingest/services.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../core/errors.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import type { QueryParams, Store } from '../../store/store.ts';
import { startKafka, type KafkaBroker } from '../harness/kafka/kafka.ts';
import { eventually } from '../helpers/whistle.ts';
import { batch, CLUSTERS, duplicates, startKafkaWhistle, storeSummary, type KafkaWhistle } from './helpers.ts';

/** A real store whose inserts and queries can be made to fail. */
class FaultyStore implements Store {
  readonly kind = 'chdb' as const;
  readonly dialect = 'modern' as const;
  mode: 'ok' | 'down' | 'lose-answer' = 'ok';
  constructor(private readonly inner: Store) {}
  insert(table: string, rows: readonly Record<string, unknown>[]) {
    return this.inner.insert(table, rows);
  }
  async insertJsonEachRow(table: string, body: string | Buffer) {
    if (this.mode === 'down') throw new StoreUnavailableError('connection refused (injected)');
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

const dir = mkdtempSync(join(tmpdir(), 'whistle-kafka-store-'));
let broker: KafkaBroker;
let real: ChdbStore;
let store: FaultyStore;
let w: KafkaWhistle;
const tokens = new Map<string, string>();
const TOPIC = 'whistle.telemetry.outage';
const GROUP = 'whistle-outage-test';

beforeAll(async () => {
  broker = await startKafka();
  real = new ChdbStore(join(dir, 'chdb'));
  await migrate(real, { retentionDays: 30 });
  store = new FaultyStore(real);
  w = await startKafkaWhistle(broker.brokers, { topic: TOPIC, groupId: GROUP }, {}, { store, dir, writer: { retryInitialMs: 20, retryMaxMs: 200 } });
  for (const c of CLUSTERS) tokens.set(c, await w.addNode('n1', c));
}, 120_000);

afterAll(async () => {
  store.mode = 'ok';
  await w?.stop();
  await real?.close();
  await broker?.destroy();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}, 60_000);

/** Committed offset per partition of the test topic (-1: nothing committed). */
async function committed(): Promise<Map<number, number>> {
  const admin = new Kafka({ clientId: 'test', brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

async function endOffsets(): Promise<Map<number, number>> {
  const admin = new Kafka({ clientId: 'test', brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

describe('store outage behind Kafka', () => {
  it('keeps accepting, commits nothing until the rows are stored, and writes a lost-answer batch once', async () => {
    // The first insert lands but its answer is lost; after that the store is down.
    store.mode = 'lose-answer';
    let posted = 0;
    for (let round = 0; round < 3; round++) {
      for (const c of CLUSTERS) {
        const res = await w.post('/v1/telemetry', batch(c, 'n1', 50), tokens.get(c));
        expect(res.status).toBe(202);
        posted += 50;
      }
    }
    await eventually(async () => store.mode === 'down' && w.whistle.service(ingestServices.samplesWriter).spooled > 0, 'the writer spooling after the lost answer');
    // Everything is in the topic, nothing is committed: the rows are not (all) in the store yet.
    const ends = await endOffsets();
    expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(CLUSTERS.length * 3);
    expect([...(await committed()).values()].every((o) => o === -1)).toBe(true);
    expect(w.consumer.committedMessages).toBe(0);

    store.mode = 'ok';
    const s = await eventually(async () => {
      const s = await storeSummary(real);
      return s.rows >= posted && w.whistle.service(ingestServices.samplesWriter).spooled === 0 ? s : null;
    }, `${posted} rows after the store came back`, 60_000);
    expect(s).toEqual({ rows: posted, distinct: posted, kafkaRows: posted });
    expect(await duplicates(real)).toBe(0);
    // And the offsets catch up with the topic once everything is stored.
    await eventually(async () => {
      const c = await committed();
      return [...ends].every(([p, end]) => end === 0 || c.get(p) === end);
    }, 'offsets committed up to the end of the topic');
  }, 120_000);
});
