// The scale-out transport's section (`kafka:`).
import { z } from 'zod';

/**
 * Scale-out transport (ingest/kafka/). Off: one process owns every cluster and telemetry goes
 * straight to the writer. On: accepted telemetry is published to `topic` keyed by cluster, and the
 * workers of consumer group `groupId` each write (and own) the clusters of their partitions.
 */
export const kafkaSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Bootstrap brokers, "host:port". */
    brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be "host:port"')).default(['127.0.0.1:9092']),
    topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 letters, digits, ".", "_" or "-"').default('whistle.telemetry'),
    /** Partitions when Whistle creates the topic (the unit of ownership: clusters hash onto them). */
    partitions: z.number().int().min(1).max(4096).default(12),
    /** Replication factor when Whistle creates the topic; the broker's default when absent. */
    replicationFactor: z.number().int().min(1).optional(),
    groupId: z.string().min(1).default('whistle'),
    clientId: z.string().min(1).default('whistle'),
    /** How long a telemetry request waits for the broker's acknowledgement before answering 503. */
    publishTimeoutMs: z.number().int().positive().default(10_000),
    /** Retry-After (seconds) sent with a 503 while the broker is unreachable. */
    retryAfterSeconds: z.number().int().positive().default(5),
    /** A worker that stops heartbeating loses its partitions after this long (broker bounds: 6-300 s). */
    sessionTimeoutMs: z.number().int().min(1000).default(30_000),
  })
  .refine((k) => !k.enabled || k.brokers.length > 0, { message: 'must list at least one broker when kafka is enabled', path: ['brokers'] });

export type KafkaConfig = z.infer<typeof kafkaSchema>;
