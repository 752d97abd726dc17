// What the Kubernetes watchers write: which resources, and how an API object becomes a row of
// kube_objects (KubeRecord) or kube_events.
import type { KubeRecord } from '../../core/types.ts';

export interface ResourceSpec {
  kind: string;
  /** Cluster-wide collection path (list and watch). */
  path: string;
}

/** The resources every cluster is watched for. */
export const WATCHED_RESOURCES: readonly ResourceSpec[] = [
  { kind: 'Node', path: '/api/v1/nodes' },
  { kind: 'Pod', path: '/api/v1/pods' },
  { kind: 'Deployment', path: '/apis/apps/v1/deployments' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets' },
  { kind: 'Event', path: '/api/v1/events' },
];

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    managedFields?: unknown;
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** Row of kube_objects (store/migrations/030_kube.sql). */
export interface KubeObjectRow {
  cluster: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: string;
  deleted: boolean;
  ts: number;
  object: string;
}

/** Row of kube_events. */
export interface KubeEventRow {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: string;
  type: string;
  reason: string;
  message: string;
  involved_kind: string;
  involved_namespace: string;
  involved_name: string;
  involved_uid: string;
  count: number;
  first_ts: number;
  last_ts: number;
  source: string;
  ts: number;
}

export function toKubeRecord(cluster: string, kind: string, obj: KubeObject, deleted: boolean, ts = Date.now()): KubeRecord {
  // managedFields is server bookkeeping, often the largest part of an object, and read by nobody here.
  const { managedFields: _drop, ...metadata } = obj.metadata;
  return {
    cluster,
    kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
    deleted,
    ts,
    object: JSON.stringify({ ...obj, kind: obj.kind ?? kind, metadata }),
  };
}

export function toObjectRow(r: KubeRecord): KubeObjectRow {
  return {
    cluster: r.cluster,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    uid: r.uid,
    resource_version: r.resourceVersion,
    deleted: r.deleted,
    ts: r.ts,
    object: r.object,
  };
}

function ms(t: unknown): number {
  if (typeof t !== 'string' || t === '') return 0;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : 0;
}

interface CoreEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string };
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  series?: { count?: number; lastObservedTime?: string };
}

export function toEventRow(r: KubeRecord): KubeEventRow {
  const e = JSON.parse(r.object) as CoreEvent;
  const first = ms(e.firstTimestamp) || ms(e.eventTime);
  const last = ms(e.series?.lastObservedTime) || ms(e.lastTimestamp) || first;
  return {
    cluster: r.cluster,
    namespace: r.namespace,
    name: r.name,
    uid: r.uid,
    resource_version: r.resourceVersion,
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    involved_kind: e.involvedObject?.kind ?? '',
    involved_namespace: e.involvedObject?.namespace ?? '',
    involved_name: e.involvedObject?.name ?? '',
    involved_uid: e.involvedObject?.uid ?? '',
    count: Math.max(1, e.series?.count ?? e.count ?? 1),
    first_ts: first || r.ts,
    last_ts: last || r.ts,
    source: e.source?.component ?? e.reportingComponent ?? '',
    ts: r.ts,
  };
}
