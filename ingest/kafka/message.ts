// The telemetry message on the topic: key = cluster, value = the batch's JSONEachRow rows exactly as
// the HTTP route encoded them, headers = what the consumer needs without parsing the rows.
//
// Batch ids. Every row carries the id of the batch it came with (`batch_id`), which is how a batch
// that may already have landed is recognised. Through Kafka the id is not the producer's: the
// consumer rewrites it to one derived from the message's place in the log (partition, offset), so
// (a) a message read twice (its consumer died before committing) has the same id both times, and
// (b) a writer batch fed from one partition covers a contiguous id range that only that partition
// can produce, which is what the writer's replay check (count rows in [lo, hi]) relies on.
// Ids live above 2^52, far from the writer's clock-based ids (~1.8e15 in 2026, 4.5e15 in 2112), and
// stay below 2^53 so they are exact JavaScript numbers: 2^52 + partition * 2^40 + offset.
import { createHash } from 'node:crypto';
import type { KafkaMessage, Message } from 'kafkajs';

export const MESSAGE_VERSION = '1';
const ID_BASE = 2 ** 52;
const PARTITION_SPAN = 2 ** 40;
export const MAX_PARTITIONS = 4096;

export interface TelemetryMessageMeta {
  cluster: string;
  node: string;
  rows: number;
  /** The id the producer encoded into the rows (replaced by the consumer). */
  producerBatchId: number;
  minTs: number;
  maxTs: number;
}

export function batchIdFor(partition: number, offset: string | number | bigint): number {
  const o = Number(offset);
  if (partition < 0 || partition >= MAX_PARTITIONS) throw new RangeError(`partition ${partition} outside 0..${MAX_PARTITIONS - 1}`);
  if (!Number.isSafeInteger(o) || o < 0 || o >= PARTITION_SPAN) throw new RangeError(`offset ${offset} outside 0..2^40`);
  return ID_BASE + partition * PARTITION_SPAN + o;
}

export function encodeMessage(meta: TelemetryMessageMeta, body: string, partition: number): Message {
  return {
    key: meta.cluster,
    value: body,
    partition,
    headers: {
      v: MESSAGE_VERSION,
      node: meta.node,
      rows: String(meta.rows),
      bid: String(meta.producerBatchId),
      ts: `${meta.minTs},${meta.maxTs}`,
    },
  };
}

export class InvalidMessageError extends Error {}

function header(m: KafkaMessage, name: string): string {
  const h = m.headers?.[name];
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined || v === null) throw new InvalidMessageError(`header "${name}" missing`);
  return v.toString();
}

export interface DecodedMessage extends TelemetryMessageMeta {
  body: string;
}

export function decodeMessage(m: KafkaMessage): DecodedMessage {
  if (header(m, 'v') !== MESSAGE_VERSION) throw new InvalidMessageError(`message version ${header(m, 'v')} not understood (this worker reads ${MESSAGE_VERSION})`);
  if (!m.key || !m.value) throw new InvalidMessageError('message without key or value');
  const rows = Number(header(m, 'rows'));
  const producerBatchId = Number(header(m, 'bid'));
  const [minTs, maxTs] = header(m, 'ts').split(',').map(Number);
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(producerBatchId) || !Number.isFinite(minTs) || !Number.isFinite(maxTs)) {
    throw new InvalidMessageError('malformed rows/bid/ts headers');
  }
  return { cluster: m.key.toString(), node: header(m, 'node'), rows, producerBatchId, minTs: minTs!, maxTs: maxTs!, body: m.value.toString() };
}

/**
 * Replaces the producer's batch id in every row with `id`, and fingerprints the rows without it: an
 * agent that resends a batch after an ambiguous 503 (the broker wrote it but the answer was lost)
 * produces a second message with the same fingerprint, which the consumer drops.
 * The pattern cannot occur inside a label: The pattern cannot occur inside a label:
 * in JSON a quote inside a string is always escaped, so `,"batch_id":N,"labels":` with bare quotes
 * only ever matches the row's own field (encodeBatch writes batch_id right before labels).
 */
export function withBatchId(body: string, rows: number, producerBatchId: number, id: number): { body: string; fingerprint: string } {
  const parts = body.split(`,"batch_id":${producerBatchId},"labels":`);
  if (parts.length - 1 !== rows) throw new InvalidMessageError(`expected ${rows} rows with batch id ${producerBatchId}, found ${parts.length - 1}`);
  const hash = createHash('sha1');
  for (const p of parts) hash.update(p).update('\0');
  return { body: parts.join(`,"batch_id":${id},"labels":`), fingerprint: hash.digest('base64') };
}
