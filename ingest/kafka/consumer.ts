// The scale-out consumer: this worker's share of the telemetry topic. Workers form one consumer
// group; each holds some partitions and therefore owns the clusters that hash onto them (see
// partitioning.ts): it writes their samples, and later stages (detectors, incidents) act only on
// owned clusters. On a rebalance the new owner of a cluster rebuilds its incident state from the
// incident log; `onOwnershipChange` tells them when.
//
// Delivery: a partition's batch of messages is handed to the writer, and its offset is committed
// only after the writer has everything in the store (drained). A worker that dies between the write
// and the commit leaves messages that the next owner reads again; those have the same batch ids
// (derived from partition and offset, message.ts), so the next owner checks the store first and
// skips what is already there. Batches are processed one at a time (one partition's messages at a
// time in the writer), which keeps each writer batch a contiguous id range of one partition.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../core/backoff.ts';
import type { Component } from '../../core/component.ts';
import type { KafkaConfig } from './config.ts';
import { OverloadedError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { BatchWriter } from '../writer.ts';
import { batchIdFor, decodeMessage, InvalidMessageError, withBatchId, type DecodedMessage } from './message.ts';
import type { KafkaMetrics } from './metrics.ts';
import { partitionOf } from './partitioning.ts';
import { BatchFingerprints } from './batch-fingerprints.ts';
import { RecentBatches } from './recent-batches.ts';

export interface OwnershipChange {
  partitions: number[];
  /** Known clusters (configured or seen) now owned by this worker. */
  clusters: Set<string>;
  gained: Set<string>;
  lost: Set<string>;
}

export interface ConsumerFaults {
  /**
   * Test hook, called after a batch's rows are in the store and before its offset is committed.
   * Resolving to 'abandon' makes the worker behave as if it died there: no commit, nothing resolved.
   */
  beforeCommit?(partition: number, lastOffset: string): Promise<'abandon' | void>;
}

export interface TelemetryConsumerOptions {
  kafka: Kafka;
  config: KafkaConfig;
  topicReady: () => Promise<number>;
  writer: BatchWriter;
  store: Store;
  /** Clusters the configuration knows, so ownership can name clusters that sent nothing yet. */
  knownClusters: () => string[];
  metrics: KafkaMetrics;
  log: Logger;
  /** Fetch size per partition: large enough that one batch fills a writer batch. */
  maxBytesPerPartition?: number;
}

interface Item {
  offset: string;
  id: number;
  msg: DecodedMessage;
  fingerprint: string;
}

const TABLE = 'samples';

export class TelemetryConsumer implements Component {
  readonly name = 'kafka-consumer';
  /** Fault injection for the consumer-group tests; empty in production. */
  faults: ConsumerFaults = {};
  private consumer: Consumer | null = null;
  private stopping = false;
  private partitionCount = 0;
  private assigned = new Set<number>();
  private owned = new Set<string>();
  private readonly seen = new Set<string>();
  /** Partitions read since the last (re)assignment whose re-read window has been checked. */
  private readonly verified = new Set<number>();
  private listeners: Array<(change: OwnershipChange) => void> = [];
  private readonly recent = new RecentBatches();
  /** Partitions whose window has been seeded from the stored fingerprints since they were gained. */
  private readonly seeded = new Set<number>();
  /** The stored fingerprints; a legacy server has no table for them (memory window only). */
  private readonly fingerprints: BatchFingerprints | null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly restartBackoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  /** Messages written and committed since start (tests and the benchmark read it). */
  committedMessages = 0;

  constructor(private readonly opts: TelemetryConsumerOptions) {
    this.fingerprints = opts.store.dialect === 'modern' ? new BatchFingerprints(opts.store, this.recent.windowMs) : null;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.partitionCount = await this.opts.topicReady();
    await this.run();
  }

  /** Clusters this worker owns now: configured or seen clusters whose partition it holds. */
  ownedClusters(): Set<string> {
    return new Set(this.owned);
  }

  /** Whether `cluster` (seen or not) hashes onto a partition this worker holds. */
  owns(cluster: string): boolean {
    return this.partitionCount > 0 && this.assigned.has(partitionOf(cluster, this.partitionCount));
  }

  ownedPartitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  /** Called on every change of owned partitions (a rebalance, a crash, stop). Returns an unsubscribe. */
  onOwnershipChange(listener: (change: OwnershipChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private setAssignment(partitions: number[]): void {
    for (const p of this.assigned) {
      if (partitions.includes(p)) continue;
      this.recent.forget(p);
      this.seeded.delete(p);
    }
    this.assigned = new Set(partitions);
    this.verified.clear();
    this.opts.metrics.ownedPartitions.set(partitions.length);
    this.recomputeOwnership();
  }

  private recomputeOwnership(): void {
    const next = new Set<string>();
    for (const c of new Set([...this.opts.knownClusters(), ...this.seen])) if (this.owns(c)) next.add(c);
    const gained = new Set([...next].filter((c) => !this.owned.has(c)));
    const lost = new Set([...this.owned].filter((c) => !next.has(c)));
    this.owned = next;
    if (gained.size === 0 && lost.size === 0) return;
    const change: OwnershipChange = { partitions: this.ownedPartitions(), clusters: new Set(next), gained, lost };
    this.opts.log.info({ partitions: change.partitions, gained: [...gained], lost: [...lost] }, 'cluster ownership changed');
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.opts.log.error({ err: (err as Error).message }, 'ownership listener failed');
      }
    }
  }

  private async run(): Promise<void> {
    const { kafka, config, log } = this.opts;
    const consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
      rebalanceTimeout: Math.max(60_000, config.sessionTimeoutMs),
      maxBytesPerPartition: this.opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 2 * (this.opts.maxBytesPerPartition ?? 4 * 1024 * 1024),
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10, restartOnFailure: async () => !this.stopping },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const partitions = e.payload.memberAssignment[config.topic] ?? [];
      log.info({ partitions, memberId: e.payload.memberId }, 'joined the telemetry consumer group');
      this.setAssignment(partitions);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      // Whatever happens next, this worker holds nothing until it has rejoined.
      this.setAssignment([]);
      if (this.stopping) return;
      log.warn({ err: e.payload.error.message, restart: e.payload.restart }, 'telemetry consumer crashed');
      if (!e.payload.restart) this.scheduleRestart();
    });
    consumer.on(consumer.events.STOP, () => this.setAssignment([]));
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.restartBackoff.reset();
  }

  /** kafkajs does not restart after a non-retriable crash; a worker must not quietly stop consuming. */
  private scheduleRestart(): void {
    if (this.restartTimer || this.stopping) return;
    const delay = this.restartBackoff.next();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void (async () => {
        const old = this.consumer;
        this.consumer = null;
        await old?.disconnect().catch(() => {});
        if (this.stopping) return;
        try {
          await this.run();
        } catch (err) {
          this.opts.log.warn({ err: (err as Error).message }, 'restarting the telemetry consumer failed; retrying');
          this.scheduleRestart();
        }
      })();
    }, delay);
  }

  /** Loads what earlier owners of `partition` read into the window, once per gain of the partition. */
  private async seed(partition: number): Promise<true> {
    if (this.seeded.has(partition) || !this.fingerprints) return true;
    const stored = await this.fingerprints.recent(partition);
    for (const f of stored) this.recent.remember(partition, f.fingerprint, f.offset, f.at);
    this.seeded.add(partition);
    if (stored.length > 0) this.opts.log.info({ partition, fingerprints: stored.length }, 'resend window seeded from the stored fingerprints');
    return true;
  }

  private decode(partition: number, messages: KafkaMessage[]): Item[] {
    const items: Item[] = [];
    for (const m of messages) {
      try {
        const msg = decodeMessage(m);
        const id = batchIdFor(partition, m.offset);
        const { body, fingerprint } = withBatchId(msg.body, msg.rows, msg.producerBatchId, id);
        msg.body = body;
        const earlier = this.recent.earlier(partition, fingerprint, m.offset);
        if (earlier !== null) {
          this.opts.metrics.skippedDuplicates.inc();
          this.opts.log.info({ partition, offset: m.offset, earlier, cluster: msg.cluster, node: msg.node }, 'dropping a resent copy of a batch already read');
          continue;
        }
        items.push({ offset: m.offset, id, msg, fingerprint });
        if (!this.seen.has(msg.cluster)) {
          this.seen.add(msg.cluster);
          this.recomputeOwnership();
        }
      } catch (err) {
        if (!(err instanceof InvalidMessageError) && !(err instanceof RangeError)) throw err;
        // A message this worker cannot read would block its partition forever; it is logged with
        // its position (it stays in the topic for inspection) and skipped.
        this.opts.metrics.invalid.inc();
        this.opts.log.error({ partition, offset: m.offset, err: err.message }, 'skipping an unreadable telemetry message');
      }
    }
    return items;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { partition, messages } = batch;
    if (messages.length === 0) return;
    const lastOffset = messages[messages.length - 1]!.offset;
    if (!(await this.untilDone(() => this.seed(partition), 'reading the stored fingerprints', heartbeat, isRunning))) return;
    let items = this.decode(partition, messages);

    // After a (re)assignment, the first messages may be ones a previous owner wrote but did not
    // commit: keep checking the store until a batch has nothing already there.
    if (!this.verified.has(partition) && items.length > 0) {
      const present = await this.untilDone(() => this.presentCounts(items), 'checking the store for already written batches', heartbeat, isRunning);
      if (!present) return;
      const fresh = items.filter((i) => present.get(i.id) !== i.msg.rows);
      for (const i of items) {
        const found = present.get(i.id) ?? 0;
        if (found !== 0 && found !== i.msg.rows) this.opts.log.error({ partition, offset: i.offset, found, rows: i.msg.rows }, 'a batch is partially in the store; writing it again');
      }
      if (fresh.length < items.length) {
        this.opts.metrics.skippedDuplicates.inc(items.length - fresh.length);
        this.opts.log.info({ partition, skipped: items.length - fresh.length }, 'skipped messages already in the store (written before a restart, rebalance or failed commit)');
      }
      items = fresh;
    }
    // Until this batch's offset is committed, a re-read of it (refetch, restart) must check again.
    this.verified.delete(partition);
    // The fingerprints go to the store before the rows, so that whoever reads this partition next
    // knows every batch written here (see batch-fingerprints.ts).
    const fps = this.fingerprints;
    if (fps && items.length > 0) {
      const stored = await this.untilDone(() => fps.record(partition, items).then(() => true), 'storing the batch fingerprints', heartbeat, isRunning);
      if (!stored) return;
    }

    for (const i of items) {
      for (;;) {
        try {
          this.opts.writer.enqueue(i.msg.body, i.msg.rows, i.id);
          break;
        } catch (err) {
          if (!(err instanceof OverloadedError)) throw err;
          await sleep(100);
          await heartbeat().catch(() => {});
          if (!isRunning()) return;
        }
      }
    }

    // Commit only what is in the store. While the store is down this waits (the writer spools and
    // retries); heartbeats keep the partition ours meanwhile.
    while (!(await this.opts.writer.drained(2000))) {
      try {
        await heartbeat();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message, partition }, 'heartbeat failed while waiting for the store');
      }
      if (!isRunning()) return;
    }
    if (isStale()) return;
    if ((await this.faults.beforeCommit?.(partition, lastOffset)) === 'abandon') return;
    try {
      await this.consumer!.commitOffsets([{ topic: batch.topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    } catch (err) {
      // The rows are written; if the commit is lost the next owner reads them again and skips them.
      this.opts.log.warn({ err: (err as Error).message, partition, lastOffset }, 'offset commit failed after the rows were written');
      return;
    }
    resolveOffset(lastOffset);
    // The next fetch starts right after the committed offset: nothing there was written yet.
    this.verified.add(partition);
    this.committedMessages += messages.length;
    this.opts.metrics.consumed.inc(messages.length);
  }

  /** Retries `fn` with backoff while the consumer runs (the store may be down); null when stopped. */
  private async untilDone<T>(fn: () => Promise<T>, what: string, heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<T | null> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, `${what} failed; retrying`);
        await sleep(backoff.next());
        await heartbeat().catch(() => {});
        if (!isRunning()) return null;
      }
    }
  }

  /** Rows already in the store per batch id, for a set of messages of one partition. */
  private async presentCounts(items: Item[]): Promise<Map<number, number>> {
    const ids = items.map((i) => i.id);
    const lo = Math.min(...ids);
    const hi = Math.max(...ids);
    const clusters = [...new Set(items.map((i) => i.msg.cluster))];
    const minTs = Math.min(...items.map((i) => i.msg.minTs));
    const maxTs = Math.max(...items.map((i) => i.msg.maxTs));
    // cluster and ts narrow the scan to the right parts (ORDER BY cluster, ..., PARTITION BY day).
    const sql =
      this.opts.store.dialect === 'legacy'
        ? `SELECT batch_id, count() AS c FROM ${TABLE} WHERE cluster IN {clusters:Array(String)} AND ts >= {minTs:UInt64} AND ts <= {maxTs:UInt64} AND batch_id >= {lo:UInt64} AND batch_id <= {hi:UInt64} GROUP BY batch_id`
        : `SELECT batch_id, count() AS c FROM ${TABLE} WHERE cluster IN {clusters:Array(String)} AND ts >= fromUnixTimestamp64Milli(toInt64({minTs:Int64})) AND ts <= fromUnixTimestamp64Milli(toInt64({maxTs:Int64})) AND batch_id >= {lo:UInt64} AND batch_id <= {hi:UInt64} GROUP BY batch_id`;
    const rows = await this.opts.store.query<{ batch_id: string | number; c: string | number }>(sql, { clusters, minTs, maxTs, lo, hi });
    return new Map(rows.map((r) => [Number(r.batch_id), Number(r.c)]));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const c = this.consumer;
    this.consumer = null;
    // kafkajs waits for the batch in progress (which waits for its rows to be written) before leaving
    // the group. With the broker gone, leaving retries for a while: bounded, since anything not
    // committed is simply read again by the next owner.
    if (c) {
      const left = await Promise.race([c.disconnect().then(() => true), sleep(8000).then(() => false)]);
      if (!left) this.opts.log.warn('the telemetry consumer did not leave its group within 8 s (broker unreachable?); stopping anyway');
    }
    this.setAssignment([]);
  }
}
