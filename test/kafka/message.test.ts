// The pure parts of the Kafka transport: batch ids from partition and offset, the message codec and
// the batch id rewrite (labels that look like the field are left alone), partitioning, the window
// of recent batch fingerprints, and the config section's validation.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { batchIdFor, decodeMessage, encodeMessage, InvalidMessageError, withBatchId } from '../../ingest/kafka/message.ts';
import { partitionOf } from '../../ingest/kafka/partitioning.ts';
import { RecentBatches } from '../../ingest/kafka/recent-batches.ts';
import { encodeBatch, type TelemetryBatch } from '../../ingest/telemetry-batch.ts';
import type { IHeaders, KafkaMessage } from 'kafkajs';

const kmsg = (key: string, value: string, headers: IHeaders | undefined): KafkaMessage =>
  ({ key: Buffer.from(key), value: Buffer.from(value), headers, offset: '0', timestamp: '0', attributes: 0 }) as KafkaMessage;

const now = Date.now();
const batch: TelemetryBatch = {
  cluster: 'prod-eu-1',
  node: 'n1',
  samples: [
    { name: 'a', value: 1, ts: now, labels: { tricky: ',"batch_id":7,"labels":' } },
    { name: 'b', value: 2, ts: now - 5, labels: {} },
  ],
};
const encode = (batchId: number) => encodeBatch(batch, { now, maxPastMs: 60_000, maxFutureMs: 60_000, labelsAsText: false, batchId });

describe('kafka message', () => {
  it('derives batch ids that are exact, above the clock ids, and distinct per partition and offset', () => {
    expect(batchIdFor(0, '0')).toBe(2 ** 52);
    expect(batchIdFor(4095, 2 ** 40 - 1)).toBe(2 ** 53 - 1);
    expect(batchIdFor(1, 0)).toBeGreaterThan(batchIdFor(0, 2 ** 40 - 1));
    expect(batchIdFor(0, 0)).toBeGreaterThan(Date.now() * 1000 * 2);
    expect(() => batchIdFor(4096, 0)).toThrow(RangeError);
    expect(() => batchIdFor(0, 2 ** 40)).toThrow(RangeError);
  });

  it('round-trips through encode/decode and rewrites only the batch_id fields', () => {
    const body = encode(7);
    const m = encodeMessage({ cluster: batch.cluster, node: 'n1', rows: 2, producerBatchId: 7, minTs: now - 5, maxTs: now }, body, 3);
    expect(m.partition).toBe(3);
    const d = decodeMessage(kmsg(m.key as string, m.value as string, m.headers));
    expect(d).toMatchObject({ cluster: 'prod-eu-1', node: 'n1', rows: 2, producerBatchId: 7, minTs: now - 5, maxTs: now });
    const { body: rewritten } = withBatchId(d.body, d.rows, d.producerBatchId, 99);
    const rows = rewritten.split('\n').map((l) => JSON.parse(l) as { batch_id: number; labels: Record<string, string> });
    expect(rows.map((r) => r.batch_id)).toEqual([99, 99]);
    expect(rows[0]!.labels.tricky).toBe(',"batch_id":7,"labels":');
  });

  it('fingerprints the rows regardless of the producer batch id', () => {
    expect(withBatchId(encode(7), 2, 7, 1).fingerprint).toBe(withBatchId(encode(8), 2, 8, 2).fingerprint);
    const other = encodeBatch({ ...batch, node: 'n2' }, { now, maxPastMs: 60_000, maxFutureMs: 60_000, labelsAsText: false, batchId: 7 });
    expect(withBatchId(other, 2, 7, 1).fingerprint).not.toBe(withBatchId(encode(7), 2, 7, 1).fingerprint);
  });

  it('refuses messages it cannot read', () => {
    expect(() => decodeMessage(kmsg('c', 'x', {}))).toThrow(InvalidMessageError);
    expect(() => decodeMessage(kmsg('c', 'x', { v: '2', node: 'n', rows: '1', bid: '1', ts: '1,2' }))).toThrow(/version 2/);
    expect(() => decodeMessage(kmsg('c', 'x', { v: '1', node: 'n', rows: 'x', bid: '1', ts: '1,2' }))).toThrow(InvalidMessageError);
    expect(() => withBatchId(encode(7), 3, 7, 1)).toThrow(/expected 3 rows/);
  });

  it('partitions by cluster, stably and within range', () => {
    for (const c of ['a', 'prod-eu-1', 'x'.repeat(63)]) {
      const p = partitionOf(c, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
      expect(partitionOf(c, 12)).toBe(p);
    }
    expect(partitionOf('anything', 1)).toBe(0);
  });

  it('remembers recent fingerprints per partition, within a bounded window', () => {
    const r = new RecentBatches(2, 1000);
    expect(r.earlier(0, 'f1', '10', 0)).toBeNull();
    expect(r.earlier(0, 'f1', '10', 1)).toBeNull(); // the same message read again is not a copy
    expect(r.earlier(0, 'f1', '12', 2)).toBe('10');
    expect(r.earlier(1, 'f1', '12', 2)).toBeNull(); // other partition
    expect(r.earlier(0, 'f1', '13', 5000)).toBeNull(); // too old
    r.earlier(0, 'f2', '14', 5001);
    r.earlier(0, 'f3', '15', 5002); // evicts f1 (size 2)
    expect(r.earlier(0, 'f1', '16', 5003)).toBeNull();
    r.forget(0);
    expect(r.earlier(0, 'f3', '17', 5004)).toBeNull();
  });
});

describe('kafka config section', () => {
  it('is off by default with working defaults', () => {
    const c = parseConfig({});
    expect(c.kafka).toMatchObject({ enabled: false, topic: 'whistle.telemetry', partitions: 12, groupId: 'whistle', brokers: ['127.0.0.1:9092'] });
  });

  it('names the bad field', () => {
    const bad = (kafka: unknown) => {
      try {
        parseConfig({ kafka });
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      return 'accepted';
    };
    expect(bad({ brokers: ['no-port'] })).toMatch(/kafka\.brokers\.0/);
    expect(bad({ enabled: true, brokers: [] })).toMatch(/kafka\.brokers/);
    expect(bad({ partitions: 0 })).toMatch(/kafka\.partitions/);
    expect(bad({ topic: 'has space' })).toMatch(/kafka\.topic/);
    expect(bad({ grupId: 'x' })).toMatch(/grupId/);
  });
});
