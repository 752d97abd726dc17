// The node agent's section (`agent:`): what it collects and probes, where it spools, the tasks it runs.
import { z } from 'zod';
import { CA_CERT_HASH_PATTERN } from '../bootstrap/pki/ca-hash.ts';
import { clusterName as name } from '../core/config/schema.ts';
import { isLoopbackHost } from '../core/loopback.ts';
import { diskCleanupSchema } from './tasks/disk-cleanup-config.ts';
import { checkServiceTimeouts, servicesSchema } from './tasks/service-restart-config.ts';
import { checkPackageUnits, packagesSchema } from './tasks/upgrade-install-config.ts';

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
  /** The management plane: https:// (with caCertHash), or http:// on loopback only. */
  server: z.string().url().default('http://127.0.0.1:8080'),
  /**
   * The plane's CA as `whistle join-command` prints it: sha256:<hex SHA-256 of its
   * SubjectPublicKeyInfo> (kubeadm's discovery-token-ca-cert-hash). Over https the agent sends
   * nothing to a plane whose CA does not have this hash, from its first request on.
   */
  caCertHash: z.string().trim().toLowerCase().regex(CA_CERT_HASH_PATTERN, 'must be sha256:<64 hex digits> (whistle join-command prints it)').optional(),
  /** "pool" with the fleet join token: the node joins the node pool, and an operator attaches it to a cluster. */
  cluster: name.default('local'),
  /** This node's availability zone, reported at registration (placement spreads control planes across zones). */
  zone: z.string().regex(/^[A-Za-z0-9._-]{1,63}$/, 'must be 1-63 letters, digits, ".", "_" or "-"').optional(),
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
      /**
       * This node holds (or may be given) an etcd member: report its etcd telemetry. Off for nodes
       * that run tasks only for disk cleanup and service restarts.
       */
      etcdMember: z.boolean().default(true),
      /** The address etcd binds to on this node (the one in `etcd.clusters[].nodes[].address`). */
      address: z.ipv4().default('127.0.0.1'),
      /** Node-local state for tasks: PKI, etcd data. Default: `<stateDir>/node`. */
      dataRoot: z.string().optional(),
      /** Where snapshots are written: storage every etcd node can read. Default: `<stateDir>/backups`. */
      backupDir: z.string().optional(),
      etcdClientPort: z.number().int().min(1).max(65535).default(2379),
      etcdQuotaBackendBytes: z.number().int().positive().default(2 * 1024 ** 3),
      taskTimeoutMs: z.number().int().positive().default(120_000),
      /** `node.disk-cleanup`: the steps it may run, in order, and the only roots it may delete under. */
      diskCleanup: diskCleanupSchema,
      /** `node.service-restart`: the only units it restarts, each with its command and probe. */
      services: servicesSchema,
      /**
       * `node.upgrade-install`: the components this node manages, each with its package command,
       * its version command and the services restarted after it. Their versions are reported as
       * `node_component_version` even when tasks are off.
       */
      packages: packagesSchema,
    })
    .superRefine((tasks, ctx) => {
      checkServiceTimeouts(tasks.services, tasks.taskTimeoutMs, ctx);
      checkPackageUnits(tasks.packages, tasks.services, ctx);
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
}).superRefine((agent, ctx) => {
  const url = new URL(agent.server);
  if (url.protocol === 'https:' && !agent.caCertHash) {
    ctx.addIssue({ code: 'custom', path: ['caCertHash'], message: 'needed with an https server: the hash of the management plane\'s CA (whistle join-command prints it)' });
  } else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    ctx.addIssue({ code: 'custom', path: ['server'], message: `plain HTTP is only for a management plane on loopback, not ${url.host}: use https:// with agent.caCertHash` });
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', path: ['server'], message: 'must be an http:// or https:// URL' });
  }
});

export type AgentConfig = z.infer<typeof agentSchema>;
