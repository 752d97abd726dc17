// The telemetry batch: its JSON schema (compiled once by fastify's ajv), the checks a schema cannot
// express, and the encoding into JSONEachRow rows for the samples table. The whole batch is checked
// before anything is queued, so a batch is either fully accepted or fully refused.
import { InputError } from '../core/errors.ts';
import type { Labels } from '../core/types.ts';

export interface TelemetrySample {
  name: string;
  value: number;
  ts: number;
  labels?: Labels;
}

export interface TelemetryBatch {
  cluster: string;
  node: string;
  samples: TelemetrySample[];
}

export const NAME_PATTERN = '^[A-Za-z_:][A-Za-z0-9_:.]*$';

export function telemetrySchema(maxSamples: number) {
  return {
    type: 'object',
    required: ['cluster', 'node', 'samples'],
    additionalProperties: false,
    properties: {
      cluster: { type: 'string', minLength: 1, maxLength: 63 },
      node: { type: 'string', minLength: 1, maxLength: 253 },
      samples: {
        type: 'array',
        maxItems: maxSamples,
        items: {
          type: 'object',
          required: ['name', 'value', 'ts'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200, pattern: NAME_PATTERN },
            value: { type: 'number' },
            ts: { type: 'integer', minimum: 0 },
            labels: {
              type: 'object',
              maxProperties: 64,
              propertyNames: { minLength: 1, maxLength: 128 },
              additionalProperties: { type: 'string', maxLength: 4096 },
            },
          },
        },
      },
    },
  } as const;
}

export class SampleRangeError extends InputError {
  constructor(
    message: string,
    readonly reason: 'non_finite' | 'ts_out_of_range',
  ) {
    super(message);
  }
}

export interface EncodeOptions {
  now: number;
  maxPastMs: number;
  maxFutureMs: number;
  /** Legacy ClickHouse servers store labels as JSON text. */
  labelsAsText: boolean;
  /** The writer's id for this chunk of rows (see BatchWriter.nextChunkId). */
  batchId: number;
}

/**
 * Checks what the schema cannot (finite values, timestamps within the allowed window) and encodes
 * the batch as JSONEachRow. Throws SampleRangeError naming the first bad sample.
 */
export function encodeBatch(batch: TelemetryBatch, opts: EncodeOptions): string {
  const head = `{"cluster":${JSON.stringify(batch.cluster)},"node":${JSON.stringify(batch.node)},"name":"`;
  const minTs = opts.now - opts.maxPastMs;
  const maxTs = opts.now + opts.maxFutureMs;
  const tail = `,"batch_id":${opts.batchId},"labels":`;
  let out = '';
  for (let i = 0; i < batch.samples.length; i++) {
    const s = batch.samples[i]!;
    // JSON cannot carry NaN, but 1e999 parses to Infinity.
    if (!Number.isFinite(s.value)) throw new SampleRangeError(`samples[${i}].value: must be a finite number`, 'non_finite');
    if (s.ts < minTs) throw new SampleRangeError(`samples[${i}].ts: ${s.ts} is older than the accepted window (${opts.maxPastMs} ms)`, 'ts_out_of_range');
    if (s.ts > maxTs) throw new SampleRangeError(`samples[${i}].ts: ${s.ts} is more than ${opts.maxFutureMs} ms in the future`, 'ts_out_of_range');
    const labels = s.labels ? JSON.stringify(s.labels) : '{}';
    // The name needs no escaping: the schema's NAME_PATTERN admits no quote or backslash.
    out += `${i === 0 ? '' : '\n'}${head}${s.name}","ts":${s.ts},"value":${s.value}${tail}${opts.labelsAsText ? JSON.stringify(labels) : labels}}`;
  }
  return out;
}
