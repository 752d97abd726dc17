// The scale-out telemetry sink: publishes each accepted batch to the topic (key and partition by
// cluster) and resolves only once the broker acknowledged it (acks = all, idempotent producer), so
// an HTTP 202 means the batch is in Kafka. When the broker cannot be reached the request fails with
// 503 + Retry-After and the agent keeps the batch and retries: nothing acknowledged is lost.
//
// Requests that arrive while a send is in flight are coalesced into the next send (an idempotent
// producer allows one request in flight), so many agents cost few round trips.
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { TelemetrySink } from '../telemetry-sink.ts';
import type { Component } from '../../core/component.ts';
import type { KafkaConfig } from './config.ts';
import { UnavailableError } from '../../core/errors.ts';
import type { TelemetryBatch } from '../telemetry-batch.ts';
import { encodeMessage } from './message.ts';
import type { KafkaMetrics } from './metrics.ts';
import { partitionOf } from './partitioning.ts';

interface Pending {
  message: Message;
  bytes: number;
  resolve(): void;
  reject(err: Error): void;
  /** Set once the message is part of a send: its outcome then belongs to that send. */
  sent: boolean;
}

export class KafkaTelemetryProducer implements Component, TelemetrySink {
  readonly name = 'kafka-producer';
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private pending: Pending[] = [];
  private sending = false;
  private stopped = true;
  private partitions = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: KafkaConfig,
    /** Resolves to the topic's partition count once it exists. */
    private readonly topicReady: () => Promise<number>,
    /** Upper bound of one produce request (the topic's max.message.bytes). */
    private readonly maxRequestBytes: number,
    private readonly metrics: KafkaMetrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.partitions = await this.topicReady();
    this.stopped = false;
    await this.connect();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Messages carry an explicit partition (partitioning.ts); this only silences kafkajs's notice.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded so a dead broker turns into a 503 well within publishTimeoutMs.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.newProducer();
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => {});
        throw err;
      } finally {
        this.connecting = null;
      }
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  /** After a failed send the idempotent producer's sequence state is suspect: start a fresh one. */
  private async reset(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await p.disconnect().catch(() => {});
  }

  /** Nothing to check before the body is read: the broker's acknowledgement (or its absence) decides. */
  checkRoom(): void {}

  publish(batch: TelemetryBatch, body: string, batchId: number): Promise<void> {
    if (this.stopped) return Promise.reject(new UnavailableError('shutting down; retry on another worker', this.config.retryAfterSeconds));
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const s of batch.samples) {
      if (s.ts < minTs) minTs = s.ts;
      if (s.ts > maxTs) maxTs = s.ts;
    }
    const message = encodeMessage(
      { cluster: batch.cluster, node: batch.node, rows: batch.samples.length, producerBatchId: batchId, minTs, maxTs },
      body,
      partitionOf(batch.cluster, this.partitions),
    );
    return new Promise<void>((resolve, reject) => {
      const item: Pending = { message, bytes: Buffer.byteLength(body) + 256, resolve, reject, sent: false };
      const timer = setTimeout(() => {
        // Not sent yet: drop it, so a 503 means "not in Kafka". Already in a send: the outcome is
        // unknown (it may still land); answer 503 anyway, the agent's retry can duplicate it.
        if (!item.sent) this.pending = this.pending.filter((p) => p !== item);
        item.reject(new UnavailableError(`the telemetry topic did not acknowledge within ${this.config.publishTimeoutMs} ms; retry later`, this.config.retryAfterSeconds));
      }, this.config.publishTimeoutMs);
      item.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      item.reject = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      this.pending.push(item);
      void this.pump();
    });
  }

  private takeGroup(): Pending[] {
    const group: Pending[] = [];
    let bytes = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (group.length > 0 && bytes + next.bytes > this.maxRequestBytes) break;
      this.pending.shift();
      next.sent = true;
      group.push(next);
      bytes += next.bytes;
    }
    return group;
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.pending.length > 0) {
        const group = this.takeGroup();
        try {
          const producer = await this.connect();
          await producer.send({ topic: this.config.topic, acks: -1, timeout: this.config.publishTimeoutMs, messages: group.map((g) => g.message) });
          this.metrics.published.inc(group.length);
          for (const g of group) g.resolve();
        } catch (err) {
          this.metrics.publishFailures.inc(group.length);
          this.log.warn({ err: (err as Error).message, batches: group.length }, 'publishing telemetry to Kafka failed; answering 503');
          const failure = new UnavailableError(`the telemetry topic is unavailable (${(err as Error).message}); retry later`, this.config.retryAfterSeconds, { cause: err });
          for (const g of group) g.reject(failure);
          await this.reset();
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** The HTTP server is closed before this runs; waits for sends in flight, then disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    while (this.sending) await new Promise((r) => setTimeout(r, 20));
    await this.reset();
  }
}
