// Shared pieces of the Kafka tests: a Whistle scaled out on a real broker, agent-like
// batches with a unique label per sample, and the store-side checks (every sample exactly once).
import { JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import type { ConsumerFaults, TelemetryConsumer } from '../../ingest/kafka/consumer.ts';
import { kafkaServices } from '../../ingest/kafka/services.ts';
import type { Store } from '../../store/store.ts';

export const CLUSTERS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

export interface KafkaWhistle extends TestWhistle {
  consumer: TelemetryConsumer;
}

export interface KafkaWhistleOptions {
  /** An already open (e.g. fault-injecting) store, and the directory for everything else. */
  store?: Store;
  dir?: string;
  writer?: Record<string, unknown>;
}

export async function startKafkaWhistle(brokers: string[], kafka: Record<string, unknown> = {}, hooks: { faults?: ConsumerFaults } = {}, opts: KafkaWhistleOptions = {}): Promise<KafkaWhistle> {
  const tw = await startTestWhistle(
    {
      clusters: CLUSTERS.map((name) => ({ name, joinToken: JOIN_TOKEN })),
      kafka: { enabled: true, brokers, topic: 'whistle.telemetry.test', partitions: 4, groupId: 'whistle-test', sessionTimeoutMs: 6000, publishTimeoutMs: 3000, retryAfterSeconds: 1, ...kafka },
      ...(opts.writer ? { writer: opts.writer } : {}),
    },
    { ...(opts.store ? { store: opts.store } : {}), ...(opts.dir ? { dir: opts.dir } : {}) },
  );
  const consumer = tw.whistle.service(kafkaServices.consumer);
  if (!consumer) throw new Error('kafka.enabled but no consumer was built');
  if (hooks.faults) consumer.faults = hooks.faults;
  return Object.assign(tw, { consumer });
}

let seq = 0;
/** One agent batch; every sample carries a label unique across the test (`seq`). */
export function batch(cluster: string, node: string, samples: number) {
  const now = Date.now();
  return {
    cluster,
    node,
    samples: Array.from({ length: samples }, (_, i) => ({ name: 'node_load1', value: i, ts: now - i, labels: { seq: String(++seq), q: `it's "quoted" \\ ,"batch_id":1,"labels":` } })),
  };
}

/** What the store holds: total rows, distinct seq labels, and batches whose row count is off. */
export async function storeSummary(store: Store): Promise<{ rows: number; distinct: number; kafkaRows: number }> {
  const [r] = await store.query<{ rows: string | number; distinct: string | number; kafka: string | number }>(
    "SELECT count() AS rows, uniqExact(labels['seq']) AS distinct, countIf(batch_id >= 4503599627370496) AS kafka FROM samples",
  );
  return { rows: Number(r!.rows), distinct: Number(r!.distinct), kafkaRows: Number(r!.kafka) };
}

/** Seq labels stored more than once (should be none). */
export async function duplicates(store: Store): Promise<number> {
  const [r] = await store.query<{ d: string | number }>("SELECT count() AS d FROM (SELECT labels['seq'] AS s FROM samples GROUP BY s HAVING count() > 1)");
  return Number(r!.d);
}
