// The fleet's section (`fleet:`): what the attach preflight checks beyond the etcd ports (those
// are each cluster's own), and how long a worker's drain may take on detach.
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

export const fleetSchema = z
  .strictObject({
    /**
     * Ports a worker must be free to bind, and that every control-plane node must reach on it
     * (the API server calls the kubelet): the kubelet's by default.
     */
    workerPorts: z.array(port).max(16).default([10250]),
    /** One preflight task's deadline on one node; the whole preflight runs every node at once. */
    preflightTimeoutMs: z.number().int().positive().max(60_000).default(5_000),
    /** A worker's drain on detach (Eviction API, disruption budgets honoured). */
    drainTimeoutMs: z.number().int().positive().default(300_000),
    /**
     * How often the cluster catalog and the node registry are read again from the store, for what
     * other Whistle workers sharing it changed (a cluster created on one is watched by all within
     * this long). 0: never (one worker).
     */
    refreshMs: z.number().int().min(0).default(10_000),
  })
  .prefault({});

export type FleetConfig = z.output<typeof fleetSchema>;
