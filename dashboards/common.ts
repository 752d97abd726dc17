// Pieces every Whistle dashboard shares: the cluster and node variables, their SQL filters, and
// SQL fragments for the append-only tables (current state = the latest row per id).
//
// Alias rule for all dashboard SQL: never alias an aggregate with the name of a column the same
// query filters on (`argMax(state, seq) AS state` next to `WHERE state ...`): ClickHouse then
// substitutes the aggregate into WHERE and the query fails. Aggregates get names like `state_now`.
import { customVariable, queryVariable, type DataSourceRef, type QueryVariable } from './builder.ts';

/** Cluster filter: no condition at all when All is selected (no giant IN list). */
export const CLUSTER = '$__conditionalAll(cluster IN (${cluster:singlequote}), $cluster)';

export function clusterVariable(ds: DataSourceRef, multi = true): QueryVariable {
  return queryVariable(ds, {
    name: 'cluster',
    label: 'Cluster',
    // Clusters with registered agents, plus clusters known only from incidents or Kubernetes watches.
    sql: `SELECT cluster FROM (
  SELECT DISTINCT cluster FROM nodes
  UNION ALL SELECT DISTINCT cluster FROM incident_log WHERE cluster != ''
  UNION ALL SELECT DISTINCT cluster FROM kube_objects
) GROUP BY cluster ORDER BY cluster`,
    multi,
  });
}

export function nodeVariable(ds: DataSourceRef, multi = false): QueryVariable {
  return queryVariable(ds, {
    name: 'node',
    label: 'Node',
    sql: `SELECT DISTINCT node FROM nodes WHERE cluster IN (\${cluster:singlequote}) ORDER BY node`,
    multi,
  });
}

/** How long without a sample makes an authorized agent "silent" (the agent-silent detector's idea). */
export function silentVariable() {
  return customVariable({
    name: 'silent_s',
    label: 'Silent after (s)',
    description: 'An authorized agent without a sample for this long counts as silent',
    values: ['30', '60', '120', '300', '900'],
    current: '60',
  });
}

/**
 * Registered agents with their current registration (latest `version`) and last sample (looked up
 * over the last 7 days), classified as reporting / silent / never reported / pending / revoked.
 * The last sample is the agent's last tick: its self-metric `whistle_agent_spool_batches` is sent
 * with every tick, and reading one metric uses the samples key (cluster, name, node, ts) instead
 * of scanning every sample of the week.
 * Columns: cluster, node, status, agent_version, address, registered_at, last_sample, silent_for_s, health.
 */
export const NODE_HEALTH = `SELECT n.cluster AS cluster, n.node AS node, n.status_now AS status, n.agent_version_now AS agent_version,
       n.address_now AS address, n.first_registered AS registered_at, s.last_sample AS last_sample,
       if(s.last_sample IS NULL, NULL, dateDiff('second', s.last_sample, now64(3))) AS silent_for_s,
       multiIf(n.status_now != 'authorized', n.status_now,
               s.last_sample IS NULL, 'never reported',
               s.last_sample < now64(3) - toIntervalSecond(\${silent_s}), 'silent',
               'reporting') AS health
FROM (
  SELECT cluster, node, argMax(status, version) AS status_now, argMax(agent_version, version) AS agent_version_now,
         argMax(address, version) AS address_now, min(registered_at) AS first_registered
  FROM nodes WHERE ${CLUSTER} GROUP BY cluster, node
) AS n
LEFT JOIN (
  SELECT cluster, node, max(ts) AS last_sample FROM samples
  WHERE name = 'whistle_agent_spool_batches' AND ts >= now64(3) - INTERVAL 7 DAY AND ${CLUSTER} GROUP BY cluster, node
) AS s ON s.cluster = n.cluster AND s.node = n.node`;

/**
 * Every incident's current state from the incident log (the row with the highest seq that carries
 * a snapshot). Columns: incident_id, cluster, detector, subject, state_now, severity_now, opened_at,
 * updated_at. `filter` narrows the log rows (e.g. detector).
 */
export function incidentsNow(filter = '1=1'): string {
  return `SELECT incident_id, cluster, detector, subject, argMax(state, seq) AS state_now, argMax(severity, seq) AS severity_now,
         min(ts) AS opened_at, max(ts) AS updated_at
  FROM incident_log
  WHERE snapshot != '' AND ${CLUSTER} AND ${filter}
  GROUP BY incident_id, cluster, detector, subject`;
}

/**
 * The increase of an agent counter over a window, from its samples in time order: the sum of the
 * positive steps, where a drop means the agent restarted and counted again from 0.
 * `values` is an expression for the time-ordered array of values.
 */
export function counterIncrease(values: string): string {
  return `arraySum(arrayMap((d, v) -> if(d < 0, v, d), arrayDifference(${values}), ${values}))`;
}

/** Time-ordered values of a group: for counterIncrease. */
export const ORDERED_VALUES = 'arrayMap(p -> p.2, arraySort(groupArray((ts, value))))';

/** A data link from a node column to the node detail dashboard, keeping the time range. */
export const NODE_LINK_URL = '/d/whistle-node/whistle-node?var-cluster=${__data.fields.cluster}&var-node=${__value.raw}&${__url_time_range}';
