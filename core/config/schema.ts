// The configuration schema: one place for every default. Unknown keys are rejected everywhere
// (`strictObject`), so a typo in YAML is an error naming the key rather than a silently ignored line.
import { z } from 'zod';
import { sectionSchemas } from './sections.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

export const serverSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Link to Whistle's own UI/API, used in notifications. */
  publicUrl: z.string().url().optional(),
  /** Tokens that may call operator endpoints (authorize nodes, incidents, proxy). */
  operatorTokens: z.array(z.strictObject({ name: z.string().min(1), token: z.string().min(16) })).default([]),
  bodyLimitBytes: z.number().int().positive().default(4 * 1024 * 1024),
  maxSamplesPerBatch: z.number().int().positive().default(10_000),
  /** Samples older / further in the future than this are rejected (clock skew guard). */
  maxPastMs: z.number().int().positive().default(7 * 24 * 3600_000),
  maxFutureMs: z.number().int().positive().default(10 * 60_000),
});

export const storeSchema = z.strictObject({
  kind: z.enum(['chdb', 'clickhouse']).default('chdb'),
  /** chDB data directory (embedded store). */
  path: z.string().default('./data/chdb'),
  url: z.string().url().default('http://127.0.0.1:8123'),
  username: z.string().default('default'),
  password: z.string().default(''),
  database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('whistle'),
  retentionDays: z.number().int().positive().default(30),
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

export const writerSchema = z.strictObject({
  /** Rows per insert. Larger batches barely raise chDB's insert rate but raise its peak memory. */
  batchSize: z.number().int().positive().default(25_000),
  flushIntervalMs: z.number().int().positive().default(500),
  /** Queue bound in samples; beyond it ingest answers 429 with Retry-After. */
  maxQueueSamples: z.number().int().positive().default(200_000),
  /** Where batches go while the store is down; replayed in order when it returns. */
  spoolDir: z.string().default('./data/spool'),
  /** Beyond this much on disk, the writer stops spooling and ingest answers 429. */
  maxSpoolBytes: z.number().int().positive().default(4 * 1024 * 1024 * 1024),
  retryInitialMs: z.number().int().positive().default(200),
  retryMaxMs: z.number().int().positive().default(10_000),
});

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

export const clusterSchema = z.strictObject({
  name,
  /** Agents present this to register; keep it secret. */
  joinToken: z.string().min(16),
  /** Kubernetes access for watching and the read-only proxy. */
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});

const httpProbe = z.strictObject({ name, url: z.string().url(), timeoutMs: z.number().int().positive().default(2000), insecure: z.boolean().default(false) });
const tcpProbe = z.strictObject({ name, host: z.string().min(1), port: z.number().int().min(1).max(65535), timeoutMs: z.number().int().positive().default(2000) });
const dnsProbe = z.strictObject({
  name,
  query: z.string().min(1),
  /** "IP" or "IP:port" ("[IPv6]:port"); the system resolvers when absent. */
  resolver: z.string().optional(),
  type: z.enum(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SRV', 'TXT']).default('A'),
  timeoutMs: z.number().int().positive().default(2000),
});
const certProbe = z.strictObject({ name, path: z.string().min(1) });

export const agentSchema = z.strictObject({
  /** `whistle start` also runs an agent for this machine. */
  enabled: z.boolean().default(true),
  server: z.string().url().default('http://127.0.0.1:8080'),
  cluster: name.default('local'),
  /** Defaults to the host name. */
  node: name.optional(),
  joinToken: z.string().optional(),
  intervalMs: z.number().int().min(100).default(10_000),
  stateDir: z.string().default('./data/agent'),
  maxSpoolBytes: z.number().int().positive().default(512 * 1024 * 1024),
  /** Filesystems smaller than this are not reported (like node-exporter's tiny-fs filter). */
  minFilesystemBytes: z.number().int().nonnegative().default(0),
  /** Mount points not reported (regex), like node-exporter's mount-points-exclude; pod volume bind mounts. */
  excludeMountPoints: z
    .string()
    .default('^/(dev|proc|sys|run/credentials/.+|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/pods/.+|run/containerd/.+|run/k3s/containerd/.+)($|/)')
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  /** Upload tuning: one request in flight, at most this many samples / bytes per request. */
  maxBatchSamples: z.number().int().positive().max(10_000).default(10_000),
  maxBatchBytes: z.number().int().positive().default(2 * 1024 * 1024),
  requestTimeoutMs: z.number().int().positive().default(10_000),
  retryInitialMs: z.number().int().positive().default(500),
  retryMaxMs: z.number().int().positive().default(30_000),
  /** Batches the server rejected for good (400/413) are kept for inspection; the oldest beyond this go. */
  maxDeadLetterFiles: z.number().int().nonnegative().default(100),
  /**
   * Bootstrap tasks (etcd lifecycle, preflight) this agent carries out for the management plane,
   * from an allow-list, and the etcd telemetry of the member it holds. Off unless this node is
   * named in the management plane's `etcd.clusters[].nodes`.
   */
  tasks: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The address etcd binds to on this node (the one in `etcd.clusters[].nodes[].address`). */
      address: z.ipv4().default('127.0.0.1'),
      /** Node-local state for tasks: PKI, etcd data. Default: `<stateDir>/node`. */
      dataRoot: z.string().optional(),
      /** Where snapshots are written: storage every etcd node can read. Default: `<stateDir>/backups`. */
      backupDir: z.string().optional(),
      etcdClientPort: z.number().int().min(1).max(65535).default(2379),
      etcdQuotaBackendBytes: z.number().int().positive().default(2 * 1024 ** 3),
      taskTimeoutMs: z.number().int().positive().default(120_000),
    })
    .prefault({}),
  probes: z
    .strictObject({
      http: z.array(httpProbe).default([]),
      tcp: z.array(tcpProbe).default([]),
      dns: z.array(dnsProbe).default([]),
      certs: z.array(certProbe).default([]),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  /** Where the embedded defaults keep their state (generated secrets, agent state). */
  dataDir: z.string().default('./data'),
  server: serverSchema.prefault({}),
  store: storeSchema.prefault({}),
  writer: writerSchema.prefault({}),
  clusters: z.array(clusterSchema).default([]),
  agent: agentSchema.prefault({}),
  kafka: kafkaSchema.prefault({}),
  ...sectionSchemas,
});

export type WhistleConfig = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type WriterConfig = z.infer<typeof writerSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type KafkaConfig = z.infer<typeof kafkaSchema>;
