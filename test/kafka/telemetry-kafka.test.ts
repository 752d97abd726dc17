// Telemetry through a real Kafka broker (KRaft, 3.9): HTTP → topic (key = cluster) → consumer →
// writer → chDB, exactly once; a broker outage answers 503 + Retry-After, loses nothing that was
// acknowledged, and the flow resumes when the broker is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaBroker } from '../harness/kafka/kafka.ts';
import { eventually } from '../helpers/whistle.ts';
import { partitionOf } from '../../ingest/kafka/partitioning.ts';
import { batch, CLUSTERS, duplicates, startKafkaWhistle, storeSummary, type KafkaWhistle } from './helpers.ts';

let broker: KafkaBroker;
let w: KafkaWhistle;
const tokens = new Map<string, string>();

beforeAll(async () => {
  broker = await startKafka();
  w = await startKafkaWhistle(broker.brokers);
  for (const c of CLUSTERS) tokens.set(c, await w.addNode('n1', c));
}, 120_000);

afterAll(async () => {
  await w?.stop();
  await broker?.destroy();
}, 60_000);

describe('telemetry through Kafka', () => {
  it('writes every accepted sample exactly once, with batch ids from the topic', async () => {
    let posted = 0;
    for (let round = 0; round < 5; round++) {
      for (const c of CLUSTERS) {
        const b = batch(c, 'n1', 200);
        const res = await w.post('/v1/telemetry', b, tokens.get(c));
        expect(res.status, await res.clone().text()).toBe(202);
        expect(await res.json()).toEqual({ accepted: 200 });
        posted += 200;
      }
    }
    const s = await eventually(async () => {
      const s = await storeSummary(w.whistle.store);
      return s.rows >= posted ? s : null;
    }, `${posted} rows in the store`);
    expect(s).toEqual({ rows: posted, distinct: posted, kafkaRows: posted });
    expect(await duplicates(w.whistle.store)).toBe(0);
    // Labels survive the batch id rewrite untouched, even one that looks like the rewritten field.
    const [l] = await w.whistle.store.query<{ q: string }>("SELECT labels['q'] AS q FROM samples LIMIT 1");
    expect(l!.q).toBe(`it's "quoted" \\ ,"batch_id":1,"labels":`);
  });

  it('owns every partition, and so every cluster, as the only worker', async () => {
    expect(w.consumer.ownedPartitions()).toEqual([0, 1, 2, 3]);
    expect([...w.consumer.ownedClusters()].sort()).toEqual(CLUSTERS);
    // Clusters spread over partitions by key (the test would prove little if all hashed to one).
    expect(new Set(CLUSTERS.map((c) => partitionOf(c, 4))).size).toBeGreaterThan(1);
  });

  it('answers 503 with Retry-After while the broker is down, loses nothing acknowledged, and resumes', async () => {
    const before = (await storeSummary(w.whistle.store)).rows;
    const accepted: number[] = [];
    let refused = 0;
    let sawRetryAfter = true;
    // An agent per cluster: sends batches in order, retrying a refused batch until it is accepted,
    // until the test has seen the outage and the recovery.
    let done = false;
    const agents = CLUSTERS.map(async (c) => {
      while (!done) {
        const b = batch(c, 'n1', 100);
        for (;;) {
          const res = await w.post('/v1/telemetry', b, tokens.get(c));
          if (res.status === 202) {
            accepted.push(b.samples.length);
            break;
          }
          expect(res.status).toBe(503);
          refused++;
          if (res.headers.get('retry-after') !== '1') sawRetryAfter = false;
          expect(((await res.json()) as { code: string }).code).toBe('WHISTLE_UNAVAILABLE');
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await eventually(async () => accepted.length >= 12, 'some batches accepted before the outage');
    await broker.stop();
    await eventually(async () => refused >= CLUSTERS.length, 'requests refused while the broker is down');
    await broker.start();
    const atRestart = accepted.length;
    await eventually(async () => accepted.length >= atRestart + 24, 'batches accepted again after the broker came back', 60_000);
    done = true;
    await Promise.all(agents);
    const total = accepted.reduce((a, b) => a + b, 0);
    expect(refused).toBeGreaterThan(0);
    expect(sawRetryAfter).toBe(true);
    const s = await eventually(async () => {
      const s = await storeSummary(w.whistle.store);
      return s.rows >= before + total ? s : null;
    }, `${before + total} rows in the store`, 60_000);
    expect(s.rows).toBe(before + total);
    expect(s.distinct).toBe(before + total);
    expect(await duplicates(w.whistle.store)).toBe(0);
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(/whistle_ingest_samples_rejected_total\{reason="unavailable"\} [1-9]/);
    expect(metrics).toMatch(/whistle_kafka_publish_failures_total [1-9]/);
  }, 180_000);
});
