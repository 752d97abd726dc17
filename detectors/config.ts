// The `detectors` section of the configuration. Each built-in detector has its own strict section
// named by its id in camelCase (low-disk -> lowDisk), with defaults, plus `enabled` and an optional
// `timeoutMs`. Detectors loaded from `modules` take their settings from `plugins.<id>`, validated
// against the module's own schema when the engine loads it (errors name `detectors.plugins.<id>...`).
import { z } from 'zod';
import { agentSilentConfig } from './builtin/agent-silent/config.ts';
import { certExpiryConfig } from './builtin/cert-expiry/config.ts';
import { dnsAddonFailureConfig } from './builtin/dns-addon-failure/config.ts';
import { etcdQuorumConfig } from './builtin/etcd-quorum/config.ts';
import { kubeletDownConfig } from './builtin/kubelet-down/config.ts';
import { lowDiskConfig } from './builtin/low-disk/config.ts';
import { nodeNotReadyConfig } from './builtin/node-not-ready/config.ts';
import { podRestartStormConfig } from './builtin/pod-restart-storm/config.ts';

/** Settings every detector has, whatever its own schema says. */
export const commonDetectorFields = {
  enabled: z.boolean().default(true),
  /** Overrides detectors.timeoutMs for this detector. */
  timeoutMs: z.number().int().positive().optional(),
};

function section<S extends z.ZodObject>(schema: S) {
  return schema.safeExtend(commonDetectorFields).prefault({});
}

/** camelCase config key of a detector id: "low-disk" -> "lowDisk". */
export function configKey(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export const detectorsSchema = z
  .strictObject({
    /** How often every enabled detector runs for every cluster. */
    tickMs: z.number().int().min(100, 'must be at least 100 (ms)').default(10_000),
    /** A detector still running after this is abandoned for the tick and counted as a timeout. */
    timeoutMs: z.number().int().positive().default(5_000),
    /** How many (detector, cluster) evaluations run at once. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Extra detector modules (paths relative to the working directory, or absolute). */
    modules: z.array(z.string().min(1, 'must be a module path')).default([]),
    /** Settings of detectors loaded from `modules`, by detector id. */
    plugins: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /** Incremental series reads (see detectors/context.ts). */
    queries: z
      .strictObject({
        /** Samples younger than this are not yet folded into trend buckets (they may be in flight). */
        latenessMs: z.number().int().nonnegative().default(15_000),
        /** History loaded per tick while a trend window warms up after start. */
        warmupChunkMs: z.number().int().positive().default(10 * 60_000),
        /** Trend buckets are updated for 1/foldPartitions of the nodes per tick, round robin. */
        foldPartitions: z.number().int().min(1).max(60).default(6),
      })
      .prefault({}),
    lowDisk: section(lowDiskConfig),
    agentSilent: section(agentSilentConfig),
    kubeletDown: section(kubeletDownConfig),
    nodeNotReady: section(nodeNotReadyConfig),
    podRestartStorm: section(podRestartStormConfig),
    dnsAddonFailure: section(dnsAddonFailureConfig),
    etcdQuorum: section(etcdQuorumConfig),
    certExpiry: section(certExpiryConfig),
  })
  .prefault({});

export type DetectorsConfig = z.output<typeof detectorsSchema>;
