// Where the telemetry route hands an accepted batch. Embedded, that is the samples writer; scaled
// out, the Kafka producer (ingest/kafka/). The transport stage chooses, so the route never asks.
import type { TelemetryBatch } from './telemetry-batch.ts';
import type { BatchWriter } from './writer.ts';

/** Takes an accepted, encoded batch; resolves once it is accepted (the HTTP answer waits for it). */
export interface TelemetrySink {
  /** Throws an OverloadedError before the body is read when the batch could not be taken. */
  checkRoom(): void;
  /** `meta` travels with the batch where the transport keeps it durably (the resend tag). */
  publish(batch: TelemetryBatch, body: string, batchId: number, meta?: Record<string, unknown>): Promise<void>;
}

/** The embedded transport: into the writer's write-ahead log and bounded queue. */
export function writerSink(writer: BatchWriter): TelemetrySink {
  return {
    checkRoom: () => writer.checkRoom(),
    publish: (batch, body, batchId, meta) => writer.accept(body, batch.samples.length, batchId, meta),
  };
}
