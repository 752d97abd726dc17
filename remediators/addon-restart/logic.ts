// addon-restart decisions, without side effects: which configured add-on an incident is about, the
// plan that is recorded, dry-run and ticketed, the patch a rollout restart sends, which pods are
// crash-looping, whether the workload as the API reports it has rolled out and is available, and
// what the agents' DNS probes say.
import type { IncidentView } from '../../core/pipeline.ts';
import type { AddonConfig } from './config.ts';

export const ID = 'addon-restart';
export const DETECTOR = 'dns-addon-failure';
export const KIND = 'kube.addon-restart';
/** The pod-template annotation `kubectl rollout restart` sets; a new value is a new rollout. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface AddonTarget {
  /** The add-on to restart; for failing DNS probes the first DNS add-on, with the others after it (`candidates`). */
  addon: AddonConfig;
  candidates: AddonConfig[];
  /** Why this add-on: the incident names it, or the DNS probes fail and it serves DNS. */
  why: 'addon' | 'dns-probe';
}

export const addonKey = (a: Pick<AddonConfig, 'kind' | 'namespace' | 'name'>) => `${a.namespace}/${a.kind}/${a.name}`;

/** The policy's lock: one action at a time per add-on, whichever incident asked. */
export const addonLock = (cluster: string, a: AddonConfig) => `addon/${cluster}/${addonKey(a)}`;

/**
 * The configured add-on a dns-addon-failure incident is about: the one its subject names
 * (`addon:<ns>/<kind>/<name>`), or for failing DNS probes (`dns-probe:<probe>`) the DNS add-ons in
 * the order configured (the first that exists in the cluster is restarted). Null when it is none of
 * ours: a person gets it.
 */
export function addonTarget(inc: IncidentView, addons: readonly AddonConfig[]): AddonTarget | null {
  if (inc.subject.startsWith('addon:')) {
    const key = inc.subject.slice('addon:'.length);
    const addon = addons.find((a) => addonKey(a) === key);
    return addon ? { addon, candidates: [addon], why: 'addon' } : null;
  }
  if (inc.subject.startsWith('dns-probe:')) {
    const candidates = addons.filter((a) => a.dns);
    return candidates[0] ? { addon: candidates[0], candidates, why: 'dns-probe' } : null;
  }
  return null;
}

export function resourcePath(a: Pick<AddonConfig, 'kind' | 'namespace' | 'name'>): string {
  const plural = a.kind === 'Deployment' ? 'deployments' : 'daemonsets';
  return `/apis/apps/v1/namespaces/${encodeURIComponent(a.namespace)}/${plural}/${encodeURIComponent(a.name)}`;
}

/** The strategic-merge patch of `kubectl rollout restart`; the same value twice is no second rollout. */
export function restartPatch(at: string): { spec: { template: { metadata: { annotations: Record<string, string> } } } } {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } };
}

export function restartPlan(t: AddonTarget, cfg: { stableForMs: number }, dnsChecked: boolean): string {
  const a = t.addon;
  const key = addonKey(a);
  const act =
    a.method === 'rollout-restart'
      ? `  1. rollout restart of ${a.kind} ${a.namespace}/${a.name}: set its pod template's ${RESTARTED_AT} (a strategic-merge patch), the controller replaces the pods`
      : `  1. delete the pods of ${a.kind} ${a.namespace}/${a.name} stuck in CrashLoopBackOff; the controller makes new ones`;
  const verify = `  2. verify: every replica of ${key} updated and available, none crash-looping, for ${Math.round(cfg.stableForMs / 1000)} s`;
  const why = t.why === 'dns-probe' ? ' (the agents\' DNS probes fail and it serves DNS)' : '';
  return [`restart add-on ${key}${why}`, act, verify, ...(dnsChecked ? ["  3. verify: the agents' DNS probe samples taken after that say up"] : [])].join('\n');
}

export interface ContainerStatusLike {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: unknown };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

export interface PodLike {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: ContainerStatusLike[]; initContainerStatuses?: ContainerStatusLike[] };
}

export function crashLooping(p: PodLike): boolean {
  const all = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  return all.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');
}

const podReady = (p: PodLike) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A label selector as the API takes it in `?labelSelector=`: matchLabels and matchExpressions. */
export function selectorQuery(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export interface WorkloadLike {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
  };
}

/** Where the workload's rollout stands, in the API's own numbers. */
export interface RolloutState {
  desired: number;
  updated: number;
  available: number;
  /** Pods of the old template still running (a Deployment's status.replicas beyond the updated ones). */
  old: number;
  /** The controller has seen the latest spec (status.observedGeneration >= metadata.generation). */
  observed: boolean;
}

export function rolloutState(kind: AddonConfig['kind'], w: WorkloadLike): RolloutState {
  const s = w.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
  if (kind === 'Deployment') {
    const desired = w.spec?.replicas ?? 1;
    const updated = s.updatedReplicas ?? 0;
    return { desired, updated, available: s.availableReplicas ?? 0, old: Math.max(0, (s.replicas ?? 0) - updated), observed };
  }
  const desired = s.desiredNumberScheduled ?? 0;
  const updated = s.updatedNumberScheduled ?? 0;
  return { desired, updated, available: s.numberAvailable ?? 0, old: Math.max(0, desired - updated), observed };
}

/**
 * Healthy as far as the API says: the controller saw the latest spec, every replica runs the current
 * template and is available, none of its pods crash-loops, and (after a pod deletion) none of the
 * deleted pods is still listed.
 */
export function workloadHealthy(r: RolloutState, pods: readonly PodLike[], deleted: ReadonlySet<string> = new Set()): { healthy: boolean; why: string } {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  const looping = live.filter(crashLooping).map((p) => p.metadata.name);
  const lingering = pods.filter((p) => deleted.has(p.metadata.uid)).map((p) => p.metadata.name);
  const notReady = live.filter((p) => !podReady(p)).map((p) => p.metadata.name);
  const numbers = `${r.available} of ${r.desired} available, ${r.updated} updated${r.old ? `, ${r.old} old` : ''}`;
  if (!r.observed) return { healthy: false, why: `the controller has not seen the change yet (${numbers})` };
  if (looping.length) return { healthy: false, why: `${numbers}; crash-looping: ${looping.sort().join(', ')}` };
  if (lingering.length) return { healthy: false, why: `${numbers}; deleted pods still listed: ${lingering.sort().join(', ')}` };
  if (r.desired === 0 || r.updated < r.desired || r.available < r.desired || r.old > 0) return { healthy: false, why: numbers };
  if (notReady.length) return { healthy: false, why: `${numbers}; not Ready: ${notReady.sort().join(', ')}` };
  return { healthy: true, why: numbers };
}

/** The newest DNS probe result of each (node, probe) taken after the workload was healthy again. */
export interface DnsProbeResult {
  node: string;
  probe: string;
  up: boolean;
  ts: number;
}

/** Answered: at least one fresh result and none down. `failing` names the nodes still failing. */
export function dnsVerdict(fresh: readonly DnsProbeResult[]): { answered: boolean; failing: string[] } {
  const failing = [...new Set(fresh.filter((r) => !r.up).map((r) => `${r.node} (${r.probe})`))].sort();
  return { answered: fresh.length > 0 && failing.length === 0, failing };
}

/** What the action did, for the after-record, the incident history and the ticket. */
export interface RestartReport {
  addon: string;
  method: AddonConfig['method'];
  /** rollout-restart: the annotation value set, and the generation the patch produced. */
  restartedAt?: string;
  generation?: number;
  /** delete-crashlooping: the pods deleted. */
  deletedPods?: { name: string; uid: string; restarts: number; lastExitCode: number | null; lastReason: string | null }[];
}

export function describeRestart(r: RestartReport): string {
  if (r.method === 'rollout-restart') return `  - rollout restart of ${r.addon}: ${RESTARTED_AT}=${r.restartedAt}, generation ${r.generation}`;
  const pods = (r.deletedPods ?? []).map((p) => `${p.name} (${p.restarts} restarts, last ${p.lastReason ?? 'exit'} ${p.lastExitCode ?? '?'})`);
  return `  - deleted ${pods.length} crash-looping pod(s) of ${r.addon}: ${pods.join(', ')}`;
}

export function podSummary(p: PodLike): { name: string; uid: string; restarts: number; lastExitCode: number | null; lastReason: string | null } {
  const all = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const looping = all.find((c) => c.state?.waiting?.reason === 'CrashLoopBackOff') ?? all[0];
  return {
    name: p.metadata.name,
    uid: p.metadata.uid,
    restarts: all.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    lastExitCode: looping?.lastState?.terminated?.exitCode ?? null,
    lastReason: looping?.lastState?.terminated?.reason ?? null,
  };
}
