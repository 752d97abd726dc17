// The configuration's base sections; each stage's own section lives with the stage. Unknown keys are rejected everywhere
// (`strictObject`), so a typo in YAML is an error naming the key rather than a silently ignored line.
import { z } from 'zod';
import { isLoopbackHost } from '../loopback.ts';

/** Cluster and node names: short, and safe in file paths, URLs and label values. */
export const clusterName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

/**
 * Per-sender request limits (token buckets, ingest/rate-limit.ts), so one misbehaving agent cannot
 * starve the others. The defaults never bite a well-behaved agent: one request per 10 s interval,
 * and after an outage a replay of its spool as fast as the plane answers, which the burst covers.
 */
const rateLimitSchema = z.strictObject({
  /** Telemetry requests per second one authenticated node may sustain. */
  perNodeRequestsPerSecond: z.number().positive().default(20),
  /** Requests a node may send at once above that rate (the bucket's size). */
  burst: z.number().int().positive().default(100),
  /**
   * Registrations per minute from one source address (a join-token guesser, or a re-register
   * loop), also the burst: a whole site behind one NAT address registering at boot fits under it.
   */
  perIpRegistrationsPerMinute: z.number().int().positive().default(600),
});

/**
 * HTTPS for the management plane. Agents pin the CA that issued the serving certificate
 * (agent.caCertHash, printed by `whistle join-command`) and get a client certificate from the
 * fleet CA when they register.
 */
const tlsSchema = z.strictObject({
  /** Off only for the embedded default on loopback; any other host must serve HTTPS. */
  enabled: z.boolean().default(false),
  /** A serving certificate and key of your own (PEM). Without them one is issued from the fleet CA at each start. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** The CA that issued certFile: what agents fetch (GET /v1/ca) and pin. */
  caFile: z.string().min(1).optional(),
  /**
   * Extra names and IP addresses agents dial, for the issued serving certificate. Always in it:
   * server.host, the host of server.publicUrl, this machine's name, localhost and loopback (and
   * every interface address when server.host is 0.0.0.0 or ::).
   */
  sans: z.array(z.string().min(1)).default([]),
});

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
  tls: tlsSchema.prefault({}),
  /** The fleet CA (ca.crt, ca.key mode 0600): made at first start, issues serving and node certificates. Default: <dataDir>/fleet-ca. */
  fleetCaDir: z.string().default('./data/fleet-ca'),
  rateLimit: rateLimitSchema.prefault({}),
}).superRefine((server, ctx) => {
  const { tls } = server;
  if (!tls.enabled && !isLoopbackHost(server.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['tls'],
      message: `plain HTTP is served only on loopback, and server.host is "${server.host}": set server.tls.enabled: true (a certificate from the fleet CA, or certFile/keyFile/caFile), or bind 127.0.0.1`,
    });
  }
  if (tls.certFile && !tls.keyFile) ctx.addIssue({ code: 'custom', path: ['tls', 'keyFile'], message: 'needed with server.tls.certFile' });
  if (tls.keyFile && !tls.certFile) ctx.addIssue({ code: 'custom', path: ['tls', 'certFile'], message: 'needed with server.tls.keyFile' });
  if (tls.certFile && !tls.caFile) ctx.addIssue({ code: 'custom', path: ['tls', 'caFile'], message: 'needed with server.tls.certFile: agents pin the CA that issued it' });
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

export const clusterSchema = z.strictObject({
  /** "pool" is the node pool's (agents that registered with the fleet join token). */
  name: clusterName.refine((n) => n !== 'pool', '"pool" is reserved for the node pool'),
  /** Agents present this to register; keep it secret. */
  joinToken: z.string().min(16),
  /** Kubernetes access for watching and the read-only proxy. */
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});

/**
 * The sections the composition root itself reads. Every stage registers its own section beside
 * these (core/stage.ts `config`); app/config.ts assembles the whole file's schema.
 */
export const baseSections = {
  /** Where the embedded defaults keep their state (generated secrets, agent state). */
  dataDir: z.string().default('./data'),
  server: serverSchema.prefault({}),
  store: storeSchema.prefault({}),
  clusters: z.array(clusterSchema).default([]),
};

export type ServerConfig = z.infer<typeof serverSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
