// Kubernetes: node conditions, pod restarts, pods not running, deployments and daemonsets short of
// replicas, warning events. Tables: kube_objects (one row per object version; the current object
// is the row with the highest resource version, `deleted` closes it), kube_events.
import { dashboard, row, stat, steps, table, timeseries, type Dashboard, type DataSourceRef } from './builder.ts';
import { CLUSTER, clusterVariable } from './common.ts';

export const KUBE_TABLES = ['kube_objects', 'kube_events'];

/** Current objects of the given kinds. Columns: cluster, kind_now, uid, ns, obj_name, obj, seen_at. */
function current(kinds: string[]): string {
  return `SELECT cluster, kind AS kind_now, uid, argMax(namespace, rv) AS ns, argMax(name, rv) AS obj_name, argMax(object, rv) AS obj, max(ts) AS seen_at
  FROM kube_objects
  WHERE kind IN (${kinds.map((k) => `'${k}'`).join(', ')}) AND ${CLUSTER}
  GROUP BY cluster, kind, uid
  HAVING argMax(deleted, rv) = 0`;
}

/** A field of the node condition of `type` (Ready, MemoryPressure...), '' when the node has none. */
function condition(type: string, field = 'status'): string {
  return `JSONExtractString(arrayFirst(c -> JSONExtractString(c, 'type') = '${type}', JSONExtractArrayRaw(obj, 'status', 'conditions')), '${field}')`;
}

const CONTAINER_STATUSES = "arrayConcat(JSONExtractArrayRaw(obj, 'status', 'initContainerStatuses'), JSONExtractArrayRaw(obj, 'status', 'containerStatuses'))";

/** Deployments and DaemonSets with desired / available replicas (a Deployment without spec.replicas wants 1). */
const WORKLOADS = `SELECT cluster, kind_now AS kind, ns AS namespace, obj_name AS workload,
       if(kind_now = 'Deployment', if(JSONHas(obj, 'spec', 'replicas'), JSONExtractInt(obj, 'spec', 'replicas'), 1), JSONExtractInt(obj, 'status', 'desiredNumberScheduled')) AS desired,
       if(kind_now = 'Deployment', JSONExtractInt(obj, 'status', 'availableReplicas'), JSONExtractInt(obj, 'status', 'numberAvailable')) AS available,
       if(kind_now = 'Deployment', JSONExtractInt(obj, 'status', 'updatedReplicas'), JSONExtractInt(obj, 'status', 'updatedNumberScheduled')) AS updated,
       seen_at
FROM (${current(['Deployment', 'DaemonSet'])})`;

const PODS = `SELECT cluster, ns AS namespace, obj_name AS pod, JSONExtractString(obj, 'spec', 'nodeName') AS node_name,
       JSONExtractString(obj, 'status', 'phase') AS phase,
       arrayStringConcat(arrayFilter(x -> x != '', arrayMap(s -> JSONExtractString(s, 'state', 'waiting', 'reason'), ${CONTAINER_STATUSES})), ', ') AS waiting,
       arraySum(arrayMap(s -> JSONExtractInt(s, 'restartCount'), ${CONTAINER_STATUSES})) AS restarts,
       arrayStringConcat(arrayFilter(x -> x != '', arrayMap(s -> JSONExtractString(s, 'lastState', 'terminated', 'reason'), ${CONTAINER_STATUSES})), ', ') AS last_termination,
       seen_at
FROM (${current(['Pod'])})`;

export function kubernetesDashboard(ds: DataSourceRef): Dashboard {
  return dashboard(ds, {
    uid: 'whistle-kubernetes',
    title: 'Whistle / Kubernetes',
    description: 'Watched clusters: node conditions, pod restarts, pods not running, workloads short of replicas, warning events.',
    tags: ['kubernetes'],
    variables: [clusterVariable(ds)],
    panels: [
      row('Now'),
      stat({ title: 'Nodes watched', w: 4, h: 4, sql: `SELECT count() AS nodes FROM (${current(['Node'])})`, columns: ['nodes'] }),
      stat({
        title: 'Nodes not Ready',
        w: 5,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(${condition('Ready')} != 'True') AS not_ready FROM (${current(['Node'])})`,
        columns: ['not_ready'],
      }),
      stat({
        title: 'Pods not running',
        description: 'Phase other than Running or Succeeded, or a container waiting (CrashLoopBackOff, ImagePullBackOff...).',
        w: 5,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(phase NOT IN ('Running', 'Succeeded') OR waiting != '') AS not_running FROM (${PODS})`,
        columns: ['not_running'],
      }),
      stat({
        title: 'Workloads unavailable',
        description: 'Deployments and DaemonSets with fewer available replicas than desired.',
        w: 5,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(available < desired) AS unavailable FROM (${WORKLOADS})`,
        columns: ['unavailable'],
      }),
      stat({
        title: 'Warning events',
        w: 5,
        h: 4,
        sql: `SELECT uniqExact(uid) AS warnings FROM kube_events WHERE type = 'Warning' AND $__timeFilter(last_ts) AND ${CLUSTER}`,
        columns: ['warnings'],
      }),

      row('Nodes'),
      table({
        title: 'Node conditions',
        description: 'Current conditions of every watched node; pressure conditions are True when the kubelet reports the pressure.',
        w: 24,
        h: 8,
        sql: `SELECT cluster, obj_name AS node, ${condition('Ready')} AS ready, ${condition('Ready', 'reason')} AS ready_reason,
       ${condition('Ready', 'lastTransitionTime')} AS ready_since,
       ${condition('MemoryPressure')} AS memory_pressure, ${condition('DiskPressure')} AS disk_pressure,
       ${condition('PIDPressure')} AS pid_pressure, ${condition('NetworkUnavailable')} AS network_unavailable,
       JSONExtractBool(obj, 'spec', 'unschedulable') AS unschedulable, seen_at
FROM (${current(['Node'])})
ORDER BY ready = 'True', cluster, node`,
        columns: ['cluster', 'node', 'ready', 'ready_reason', 'ready_since', 'memory_pressure', 'disk_pressure', 'pid_pressure', 'network_unavailable', 'unschedulable', 'seen_at'],
      }),

      row('Pods'),
      table({
        title: 'Pod restarts in the range',
        description: 'Container restarts counted between the first and last version of each pod seen in the range (a pod first seen in the range counts from then).',
        w: 12,
        h: 9,
        sql: `SELECT cluster, namespace, pod, max(rc) - min(rc) AS restarts_in_range, max(rc) AS restarts_total
FROM (
  SELECT cluster, namespace, name AS pod, uid,
         arraySum(arrayMap(s -> JSONExtractInt(s, 'restartCount'), arrayConcat(JSONExtractArrayRaw(object, 'status', 'initContainerStatuses'), JSONExtractArrayRaw(object, 'status', 'containerStatuses')))) AS rc
  FROM kube_objects
  WHERE kind = 'Pod' AND $__timeFilter(ts) AND ${CLUSTER}
)
GROUP BY cluster, namespace, pod, uid
HAVING restarts_in_range > 0
ORDER BY restarts_in_range DESC LIMIT 50`,
        columns: ['cluster', 'namespace', 'pod', 'restarts_in_range', 'restarts_total'],
      }),
      table({
        title: 'Pods not running: detail',
        w: 12,
        h: 9,
        sql: `SELECT cluster, namespace, pod, node_name AS node, phase, waiting, restarts, last_termination, seen_at
FROM (${PODS})
WHERE phase NOT IN ('Running', 'Succeeded') OR waiting != ''
ORDER BY restarts DESC, cluster, namespace, pod LIMIT 200`,
        columns: ['cluster', 'namespace', 'pod', 'node', 'phase', 'waiting', 'restarts', 'last_termination', 'seen_at'],
      }),

      row('Workloads'),
      table({
        title: 'Deployments and DaemonSets unavailable',
        w: 24,
        h: 8,
        sql: `SELECT cluster, kind, namespace, workload, desired, available, desired - available AS missing, updated, seen_at
FROM (${WORKLOADS})
WHERE available < desired
ORDER BY missing DESC, cluster, namespace, workload`,
        columns: ['cluster', 'kind', 'namespace', 'workload', 'desired', 'available', 'missing', 'updated', 'seen_at'],
      }),

      row('Events'),
      timeseries({
        title: 'Warning events by reason',
        description: 'Warning events last seen in each interval (an event repeated within an interval counts once).',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(last_ts) AS time, reason AS event_reason, uniqExact(uid) AS events
FROM kube_events
WHERE type = 'Warning' AND $__timeFilter(last_ts) AND ${CLUSTER}
GROUP BY time, event_reason ORDER BY time`,
        columns: ['time', 'event_reason', 'events'],
      }),
      table({
        title: 'Recent warning events',
        sql: `SELECT last_seen, cluster, object, event_reason AS reason, message_now AS message, repeats, source_now AS source
FROM (
  SELECT cluster, uid, max(last_ts) AS last_seen, concat(any(involved_kind), ' ', any(involved_namespace), '/', any(involved_name)) AS object,
         any(reason) AS event_reason, argMax(message, toUInt64OrZero(resource_version)) AS message_now, max(count) AS repeats, any(source) AS source_now
  FROM kube_events
  WHERE type = 'Warning' AND $__timeFilter(last_ts) AND ${CLUSTER}
  GROUP BY cluster, uid
)
ORDER BY last_seen DESC LIMIT 200`,
        columns: ['last_seen', 'cluster', 'object', 'reason', 'message', 'repeats', 'source'],
      }),
    ],
  });
}
