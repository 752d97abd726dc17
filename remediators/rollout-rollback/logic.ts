// rollout-rollback decisions, without side effects: which Deployment a restart storm names, which
// ReplicaSet is the previous revision, the patch that puts its pod template back (what `kubectl
// rollout undo` sends), the plan a person approves, and whether the Deployment is rolled back,
// available and quiet.
import type { IncidentView } from '../../core/pipeline.ts';

export const ID = 'rollout-rollback';
export const DETECTOR = 'pod-restart-storm';
export const KIND = 'kube.rollout-rollback';
export const REVISION = 'deployment.kubernetes.io/revision';
/** The label the Deployment controller adds to each ReplicaSet's template; not part of the Deployment's own template. */
export const TEMPLATE_HASH = 'pod-template-hash';

export interface StormWorkload {
  namespace: string;
  name: string;
}

/**
 * The Deployment a restart storm's evidence names as its common factor (`scope: 'workload'`,
 * detectors/builtin/pod-restart-storm/README.md). Null for a node's storm, a storm with no common
 * factor, or another kind of workload (a DaemonSet's history is not kept this way).
 */
export function stormDeployment(inc: IncidentView): StormWorkload | null {
  const ev = inc.evidence as { scope?: unknown; workload?: { namespace?: unknown; kind?: unknown; name?: unknown } };
  if (ev.scope !== 'workload' || ev.workload?.kind !== 'Deployment') return null;
  const namespace = String(ev.workload.namespace ?? '');
  const name = String(ev.workload.name ?? '');
  return namespace && name ? { namespace, name } : null;
}

export const deploymentLock = (cluster: string, w: StormWorkload) => `deployment/${cluster}/${w.namespace}/${w.name}`;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: { containers?: { name: string; image?: string }[]; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ReplicaSetLike {
  metadata: { name: string; uid: string; creationTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec?: { template?: PodTemplate };
}

export interface DeploymentLike {
  metadata: { name: string; uid: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { replicas?: number; template?: PodTemplate; selector?: { matchLabels?: Record<string, string> } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

const revisionOf = (o: { metadata: { annotations?: Record<string, string> } }) => {
  const n = Number(o.metadata.annotations?.[REVISION] ?? NaN);
  return Number.isInteger(n) ? n : null;
};

/** The Deployment's ReplicaSets, newest revision first (only those it controls). */
export function history(d: DeploymentLike, sets: readonly ReplicaSetLike[]): { rs: ReplicaSetLike; revision: number }[] {
  return sets
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid && o.controller !== false))
    .map((rs) => ({ rs, revision: revisionOf(rs) }))
    .filter((x): x is { rs: ReplicaSetLike; revision: number } => x.revision !== null)
    .sort((a, b) => b.revision - a.revision);
}

export interface RollbackChoice {
  fromRevision: number;
  toRevision: number;
  toReplicaSet: string;
  /** The template to put back: the ReplicaSet's, without the controller's hash label. */
  template: PodTemplate;
  fromImages: string[];
  toImages: string[];
  /** When the previous revision's ReplicaSet was made. */
  toCreated: string | null;
  /** Its `pod-template-hash`: the label of the pods the rollback brings back. */
  toHash: string | undefined;
}

const imagesOf = (t: PodTemplate | undefined) => (t?.spec?.containers ?? []).map((c) => c.image ?? '');

/** The template without `pod-template-hash`, as the Deployment's own template reads. */
export function withoutHash(t: PodTemplate): PodTemplate {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[TEMPLATE_HASH];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
}

/** The revision before the Deployment's current one, as `kubectl rollout undo` picks it; why not, when there is none. */
export function previousRevision(d: DeploymentLike, sets: readonly ReplicaSetLike[]): RollbackChoice | string {
  const current = revisionOf(d);
  if (current === null) return `${d.metadata.name} has no ${REVISION} annotation yet`;
  const prev = history(d, sets).find((x) => x.revision < current);
  if (!prev?.rs.spec?.template) return `${d.metadata.name} has no revision before ${current} (its older ReplicaSets are gone: spec.revisionHistoryLimit)`;
  return {
    fromRevision: current,
    toRevision: prev.revision,
    toReplicaSet: prev.rs.metadata.name,
    template: withoutHash(prev.rs.spec.template),
    fromImages: imagesOf(d.spec?.template),
    toImages: imagesOf(prev.rs.spec.template),
    toCreated: prev.rs.metadata.creationTimestamp ?? null,
    toHash: prev.rs.metadata.labels?.[TEMPLATE_HASH] ?? prev.rs.spec.template.metadata?.labels?.[TEMPLATE_HASH],
  };
}

/**
 * A JSON patch conditional on the resourceVersion read: the template goes back only if nobody
 * changed the Deployment since (then the API answers 422/409 and nothing is changed).
 */
export function rollbackPatch(resourceVersion: string, template: PodTemplate): unknown[] {
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
    { op: 'replace', path: '/spec/template', value: template },
  ];
}

export interface RollbackParams extends Record<string, unknown> {
  namespace: string;
  name: string;
  fromRevision: number;
  toRevision: number;
  toReplicaSet: string;
}

export function rollbackPlan(w: StormWorkload, c: Pick<RollbackChoice, 'fromRevision' | 'toRevision' | 'toReplicaSet' | 'fromImages' | 'toImages' | 'toCreated'>, quietForMs: number): string {
  const images = c.fromImages.join(', ') === c.toImages.join(', ') ? `images unchanged (${c.toImages.join(', ')})` : `images ${c.fromImages.join(', ')} -> ${c.toImages.join(', ')}`;
  return [
    `roll back Deployment ${w.namespace}/${w.name} from revision ${c.fromRevision} to revision ${c.toRevision} (ReplicaSet ${c.toReplicaSet}${c.toCreated ? `, made ${c.toCreated}` : ''}): ${images}`,
    `  1. put ReplicaSet ${c.toReplicaSet}'s pod template back into the Deployment (as kubectl rollout undo does), only if the Deployment is still at revision ${c.fromRevision}`,
    `  2. verify: every replica updated and available, and no container of the new pods restarting for ${Math.round(quietForMs / 1000)} s`,
  ].join('\n');
}

export interface PodLike {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { containerStatuses?: { restartCount?: number; state?: { waiting?: { reason?: string } } }[] };
}

export interface RolledBack {
  done: boolean;
  /** Restarts of the current template's pods, summed: must not grow while quiet. */
  restarts: number;
  why: string;
}

/** Rolled out to the template put back: every replica updated and available, no old pod left, none crash-looping. */
export function rolledBack(d: DeploymentLike, pods: readonly PodLike[], hash: string | undefined): RolledBack {
  const s = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  const mine = pods.filter((p) => !p.metadata.deletionTimestamp && hash !== undefined && p.metadata.labels?.[TEMPLATE_HASH] === hash);
  const restarts = mine.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0);
  const looping = mine.filter((p) => p.status?.containerStatuses?.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff')).map((p) => p.metadata.name);
  const numbers = `${s.availableReplicas ?? 0} of ${desired} available, ${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} in all`;
  if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) return { done: false, restarts, why: `the controller has not seen the rollback yet (${numbers})` };
  if (looping.length) return { done: false, restarts, why: `${numbers}; crash-looping: ${looping.sort().join(', ')}` };
  const done = (s.updatedReplicas ?? 0) >= desired && (s.availableReplicas ?? 0) >= desired && (s.replicas ?? 0) === desired;
  return { done, restarts, why: numbers };
}

/**
 * When the quiet time began, given the last one and the restarts counted then: none while the
 * rollout is not done, and it starts over at every restart seen.
 */
export function quietStart(since: number | null, lastRestarts: number, r: Pick<RolledBack, 'done' | 'restarts'>, now: number): number | null {
  if (!r.done) return null;
  return since === null || r.restarts !== lastRestarts ? now : since;
}

/** JSON with object keys sorted: two templates the API returned compare equal when they are. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What the rollback did, for the after-record, the incident history and the ticket. */
export interface RollbackReport {
  deployment: string;
  fromRevision: number;
  toRevision: number;
  toReplicaSet: string;
  /** False when the Deployment already had that template (a second run of the same plan). */
  patched: boolean;
  generation: number;
}

export function describeRollback(r: RollbackReport): string {
  return `  - ${r.patched ? 'rolled back' : 'already at the template of'} ${r.deployment}: revision ${r.fromRevision} -> ReplicaSet ${r.toReplicaSet} (revision ${r.toRevision}), generation ${r.generation}`;
}
