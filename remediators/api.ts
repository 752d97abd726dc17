// The remediator plugin API. A remediator is a folder (remediators/<id>/, like a detector's) whose
// index.ts exports `defineRemediator({...})`: an id, a description, the detectors whose incidents
// it heals, a zod config schema with defaults, and `create(deps)` returning an incident listener.
// It acts only through `deps.policy.remediate(...)`, which applies the rules every remediation
// shares (suppression, max-unhealthy, one action per target, rate limit, dry run, a record before
// and after, verify, escalate). Built-ins are listed in remediators/builtin.ts.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { DetectorReport, IncidentListener, IncidentView } from '../core/pipeline.ts';
import type { Store } from '../store/store.ts';
import type { EtcdEngine } from '../bootstrap/etcd/engine.ts';
import type { TaskQueue } from '../bootstrap/tasks/queue.ts';
import type { ClusterStateReader } from '../core/kube.ts';
import type { KubeApi } from '../ingest/kube/api-client.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
import type { Approvals } from './policy/approvals.ts';
import type { RemediationPolicy } from './policy/policy.ts';
import type { IncidentPort, TicketPort } from './policy/ports.ts';
import type { ActionRecorder } from './policy/recorder.ts';

/** What a remediator is given; the same for every remediator, plus its own config. */
export interface RemediatorDeps<C> {
  /** The remediator's section, `remediation.<camelCase id>`, with every default filled in. */
  config: C;
  policy: RemediationPolicy;
  /** Plans a person must approve before they run (`whistle approve`). */
  approvals: Approvals;
  recorder: ActionRecorder;
  incidents: IncidentPort;
  /** Escalation tickets (one per incident). */
  tickets: TicketPort;
  /** Allow-listed tasks on node agents. */
  tasks: TaskQueue;
  etcd: EtcdEngine;
  /** Registered agents: how many nodes a cluster has, for the max-unhealthy gate of node-scoped remediations. */
  nodes: Pick<NodeRegistry, 'list'>;
  /** One API client per cluster with a kubeconfig (`clusters[].kubeconfig`), for remediators that act through Kubernetes. */
  kubeApis: ReadonlyMap<string, KubeApi>;
  /** The watched clusters' current state (core/kube.ts). */
  kubeState: ClusterStateReader;
  /** The detectors' latest verdicts: a fix is verified against the detector's own judgement of fresh telemetry too. */
  findings: { latestReport(cluster: string, detector: string): DetectorReport | undefined };
  store: Store;
  log: Logger;
}

/** A running remediator: hears the events of the incidents it heals, one at a time, in order. */
export interface RemediatorInstance extends IncidentListener {
  /**
   * Starts background work (timers). Called once the incident state has been read back, so what
   * runs on its own never takes an incident it does not know yet for one that has ended.
   */
  start?(): Promise<void>;
  /** Stops background work and waits for what is running. */
  stop(): Promise<void>;
  /** What it would do for this incident, in words (the dry run of the chains); null when it would not act on it. */
  plan?(incident: IncidentView): string | null;
}

export interface Remediator<S extends z.ZodObject = z.ZodObject> {
  /** Lower-case kebab-case, unique: it names the config key and the actor in records. */
  readonly id: string;
  readonly description: string;
  /** Ids of the detectors whose incidents this remediator handles. */
  readonly heals: readonly string[];
  /** Strict object schema; `parse({})` must succeed (every field has a default). */
  readonly configSchema: S;
  create(deps: RemediatorDeps<z.output<S>>): RemediatorInstance;
}

/** Identity helper that keeps the config type of `create` tied to the schema. */
export function defineRemediator<S extends z.ZodObject>(r: Remediator<S>): Remediator<S> {
  return r;
}

/** The policy's lock key of node-scoped remediations: one action at a time per node, whichever remediator. */
export function nodeTarget(cluster: string, node: string): string {
  return `node/${cluster}/${node}`;
}
