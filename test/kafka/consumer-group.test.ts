// Two workers in one consumer group on a real broker: they split the partitions (ownership sets
// disjoint and covering every cluster), and when one dies after writing a batch but before
// committing its offset, the other takes the partition over, reads the batch again and does not
// write it twice. Both workers share this process's chDB store (one chDB per process), as two
// Whistle processes share one ClickHouse.
import { ingestServices } from '../../ingest/services.ts';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaBroker } from '../harness/kafka/kafka.ts';
import { eventually } from '../helpers/whistle.ts';
import { createKafka } from '../../ingest/kafka/client.ts';
import { TelemetryConsumer, type OwnershipChange } from '../../ingest/kafka/consumer.ts';
import { createKafkaMetrics } from '../../ingest/kafka/metrics.ts';
import { partitionOf } from '../../ingest/kafka/partitioning.ts';
import { batch, CLUSTERS, duplicates, startKafkaWhistle, storeSummary, type KafkaWhistle } from './helpers.ts';

let broker: KafkaBroker;
let w: KafkaWhistle;
let b: TelemetryConsumer | null = null;
const bMetrics = createKafkaMetrics(new Registry());
const tokens = new Map<string, string>();
const aChanges: OwnershipChange[] = [];

// The fault: worker A "dies" (stops heartbeating, never commits) after writing a chosen partition's batch.
let dieOn: number | null = null;
let died: (() => void) | null = null;
const diedSignal = new Promise<void>((r) => (died = r));
let revive: ((v: 'abandon') => void) | null = null;

beforeAll(async () => {
  // Short sessions so a dead worker is noticed in seconds (the broker's floor is 6 s by default).
  broker = await startKafka({ properties: { 'group.min.session.timeout.ms': 1000 } });
  w = await startKafkaWhistle(
    broker.brokers,
    { groupId: 'whistle-group-test', sessionTimeoutMs: 3000 },
    {
      faults: {
        beforeCommit: async (partition) => {
          if (partition !== dieOn) return;
          dieOn = null;
          died?.();
          return new Promise<'abandon'>((r) => (revive = r));
        },
      },
    },
  );
  w.consumer.onOwnershipChange((c) => aChanges.push(c));
  for (const c of CLUSTERS) tokens.set(c, await w.addNode('n1', c));
}, 120_000);

afterAll(async () => {
  revive?.('abandon');
  await b?.stop();
  await w?.stop();
  await broker?.destroy();
}, 60_000);

function startWorkerB(): TelemetryConsumer {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }).child({ worker: 'b' });
  return new TelemetryConsumer({
    kafka: createKafka(w.config.kafka, log),
    config: w.config.kafka,
    topicReady: async () => 4,
    writer: w.whistle.service(ingestServices.samplesWriter),
    store: w.whistle.store,
    knownClusters: () => CLUSTERS,
    metrics: bMetrics,
    log,
  });
}

function split(): { a: number[]; b: number[] } | null {
  const a = w.consumer.ownedPartitions();
  const bp = b!.ownedPartitions();
  return a.length > 0 && bp.length > 0 && a.length + bp.length === 4 ? { a, b: bp } : null;
}

async function postAll(rounds: number): Promise<number> {
  let posted = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of CLUSTERS) {
      const res = await w.post('/v1/telemetry', batch(c, 'n1', 100), tokens.get(c));
      expect(res.status).toBe(202);
      posted += 100;
    }
  }
  return posted;
}

describe('two workers in one consumer group', () => {
  it('split the partitions: ownership is disjoint and covers every cluster', async () => {
    expect(w.consumer.ownedPartitions()).toEqual([0, 1, 2, 3]);
    b = startWorkerB();
    await b.start();
    const s = await eventually(async () => split(), 'both workers holding partitions');
    expect([...s.a, ...s.b].sort()).toEqual([0, 1, 2, 3]);
    const ca = w.consumer.ownedClusters();
    const cb = b.ownedClusters();
    expect([...ca].filter((c) => cb.has(c))).toEqual([]);
    expect([...ca, ...cb].sort()).toEqual(CLUSTERS);
    for (const c of CLUSTERS) expect(w.consumer.owns(c)).toBe(!b.owns(c));
    // A was told what it lost when B joined.
    expect(aChanges.some((c) => c.lost.size > 0)).toBe(true);

    const posted = await postAll(3);
    const sum = await eventually(async () => {
      const x = await storeSummary(w.whistle.store);
      return x.rows >= posted ? x : null;
    }, `${posted} rows`);
    expect(sum).toEqual({ rows: posted, distinct: posted, kafkaRows: posted });
    // Both workers wrote their share.
    expect(b.committedMessages).toBeGreaterThan(0);
    expect(w.consumer.committedMessages).toBeGreaterThan(0);
  }, 120_000);

  it('a worker that dies after writing but before committing: the other re-reads and writes nothing twice', async () => {
    const before = (await storeSummary(w.whistle.store)).rows;
    const victim = [...w.consumer.ownedClusters()][0]!;
    dieOn = partitionOf(victim, 4);
    const skippedBefore = await counter(bMetrics.skippedDuplicates);
    const res = await w.post('/v1/telemetry', batch(victim, 'n1', 100), tokens.get(victim));
    expect(res.status).toBe(202);
    await diedSignal;
    // A wrote the rows (the hook runs after the writer drained) and is now silent: B takes over.
    expect((await storeSummary(w.whistle.store)).rows).toBe(before + 100);
    await eventually(async () => (b!.ownedPartitions().length === 4 ? true : null), 'B holding every partition after A died', 60_000);
    await eventually(async () => ((await counter(bMetrics.skippedDuplicates)) > skippedBefore ? true : null), 'B re-reading the uncommitted batch and skipping it');
    // More traffic while A is gone all goes through B.
    const posted = await postAll(1);
    await eventually(async () => ((await storeSummary(w.whistle.store)).rows >= before + 100 + posted ? true : null), 'rows after the takeover');
    const sum = await storeSummary(w.whistle.store);
    expect(sum.rows).toBe(before + 100 + posted);
    expect(sum.distinct).toBe(sum.rows);
    expect(await duplicates(w.whistle.store)).toBe(0);

    // A comes back (its batch abandoned, uncommitted): it rejoins and the partitions split again.
    revive!('abandon');
    revive = null;
    await eventually(async () => split(), 'A back in the group', 60_000);
    const more = await postAll(1);
    await eventually(async () => ((await storeSummary(w.whistle.store)).rows >= sum.rows + more ? true : null), 'rows after A rejoined');
    const end = await storeSummary(w.whistle.store);
    expect(end.rows).toBe(sum.rows + more);
    expect(await duplicates(w.whistle.store)).toBe(0);
  }, 180_000);
});

async function counter(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await c.get()).values.reduce((a, v) => a + v.value, 0);
}
