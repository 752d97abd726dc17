// Fleet overview: which clusters and agents Whistle knows, which of them report, which went
// silent and when each was last seen; data flowing in; the fullest filesystems across the fleet.
// Tables: nodes, samples, incident_log, audit_log.
import { bargauge, dashboard, linkColumn, row, stat, steps, table, timeseries, unitColumn, type Dashboard, type DataSourceRef } from './builder.ts';
import { CLUSTER, NODE_HEALTH, NODE_LINK_URL, clusterVariable, counterIncrease, incidentsNow, ORDERED_VALUES, silentVariable } from './common.ts';

export const FLEET_TABLES = ['nodes', 'samples', 'incident_log', 'audit_log'];

export function fleetDashboard(ds: DataSourceRef): Dashboard {
  const nodeLink = linkColumn('node', 'Node detail', NODE_LINK_URL);
  return dashboard(ds, {
    uid: 'whistle-fleet',
    title: 'Whistle / Fleet overview',
    description: 'Clusters and node agents: registered vs reporting, silent nodes, last seen, data flow, fullest filesystems.',
    tags: ['fleet'],
    variables: [clusterVariable(ds), silentVariable()],
    panels: [
      row('Now'),
      stat({ title: 'Clusters', w: 4, h: 4, sql: `SELECT uniqExact(cluster) AS clusters FROM nodes WHERE ${CLUSTER}`, columns: ['clusters'] }),
      stat({
        title: 'Registered agents',
        description: 'Authorized node agents (current registration).',
        w: 4,
        h: 4,
        sql: `SELECT countIf(health NOT IN ('pending', 'revoked')) AS registered FROM (${NODE_HEALTH})`,
        columns: ['registered'],
      }),
      stat({
        title: 'Reporting agents',
        description: 'Authorized agents with a sample within the silence threshold.',
        w: 4,
        h: 4,
        sql: `SELECT countIf(health = 'reporting') AS reporting FROM (${NODE_HEALTH})`,
        columns: ['reporting'],
      }),
      stat({
        title: 'Silent agents',
        description: 'Authorized agents with no sample within the silence threshold, or none ever.',
        w: 4,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(health IN ('silent', 'never reported')) AS silent FROM (${NODE_HEALTH})`,
        columns: ['silent'],
      }),
      stat({
        title: 'Pending authorization',
        w: 4,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(health = 'pending') AS pending FROM (${NODE_HEALTH})`,
        columns: ['pending'],
      }),
      stat({
        title: 'Open incidents',
        w: 4,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(state_now != 'resolved') AS open FROM (${incidentsNow()})`,
        columns: ['open'],
      }),

      row('Per cluster'),
      table({
        title: 'Clusters: agents and incidents',
        description: 'Per cluster: agents registered, reporting, silent, pending; incidents open now.',
        w: 24,
        h: 7,
        sql: `SELECT h.cluster AS cluster, h.registered AS registered, h.reporting AS reporting, h.silent AS silent, h.pending AS pending,
       i.open AS open_incidents, i.critical AS critical_incidents
FROM (
  SELECT cluster, countIf(health NOT IN ('pending', 'revoked')) AS registered, countIf(health = 'reporting') AS reporting,
         countIf(health IN ('silent', 'never reported')) AS silent, countIf(health = 'pending') AS pending
  FROM (${NODE_HEALTH}) GROUP BY cluster
) AS h
LEFT JOIN (
  SELECT cluster, countIf(state_now != 'resolved') AS open, countIf(state_now != 'resolved' AND severity_now = 'critical') AS critical
  FROM (${incidentsNow()}) GROUP BY cluster
) AS i ON i.cluster = h.cluster
ORDER BY h.silent DESC, h.cluster`,
        columns: ['cluster', 'registered', 'reporting', 'silent', 'pending', 'open_incidents', 'critical_incidents'],
      }),
      timeseries({
        title: 'Reporting agents per cluster',
        description: 'Agents that delivered at least one tick in each interval (from the agents\' self-metrics, sent every tick).',
        sql: `SELECT $__timeInterval(ts) AS time, cluster, uniqExact(node) AS agents
FROM samples
WHERE name = 'whistle_agent_spool_batches' AND $__timeFilter(ts) AND ${CLUSTER}
GROUP BY time, cluster ORDER BY time`,
        columns: ['time', 'cluster', 'agents'],
      }),
      timeseries({
        title: 'Samples stored per second',
        unit: 'short',
        sql: `SELECT $__timeInterval(ts) AS time, cluster, count() / $__interval_s AS samples_per_s
FROM samples
WHERE $__timeFilter(ts) AND ${CLUSTER}
GROUP BY time, cluster ORDER BY time`,
        columns: ['time', 'cluster', 'samples_per_s'],
      }),

      row('Agents'),
      table({
        title: 'Silent agents: who and since when',
        description: 'Authorized agents that stopped reporting (or never did), longest silence first.',
        w: 24,
        h: 7,
        overrides: [nodeLink, unitColumn('silent_for_s', 's')],
        sql: `SELECT cluster, node, health, last_sample, silent_for_s, agent_version, address
FROM (${NODE_HEALTH})
WHERE health IN ('silent', 'never reported')
ORDER BY silent_for_s IS NULL DESC, silent_for_s DESC`,
        columns: ['cluster', 'node', 'health', 'last_sample', 'silent_for_s', 'agent_version', 'address'],
      }),
      table({
        title: 'All agents: last seen',
        w: 24,
        h: 10,
        overrides: [nodeLink, unitColumn('silent_for_s', 's')],
        sql: `SELECT cluster, node, status, health, last_sample, silent_for_s, agent_version, address, registered_at
FROM (${NODE_HEALTH})
ORDER BY cluster, node`,
        columns: ['cluster', 'node', 'status', 'health', 'last_sample', 'silent_for_s', 'agent_version', 'address', 'registered_at'],
      }),
      table({
        title: 'Agent spool and data loss',
        description:
          'Per agent over the range: samples waiting in its disk spool now, samples dropped because the spool was full, samples rejected for good (dead letter), collector errors.',
        w: 24,
        h: 7,
        overrides: [nodeLink],
        sql: `SELECT cluster, node,
       argMaxIf(last_value, last_ts, name = 'whistle_agent_spool_samples') AS spooled_now,
       sumIf(inc, name = 'whistle_agent_spool_dropped_samples_total') AS dropped,
       sumIf(inc, name = 'whistle_agent_dead_letter_samples_total') AS dead_letter,
       sumIf(inc, name = 'whistle_agent_collector_errors_total') AS collector_errors
FROM (
  SELECT cluster, node, name, labels['collector'] AS collector, max(ts) AS last_ts, argMax(value, ts) AS last_value,
         ${counterIncrease(ORDERED_VALUES)} AS inc
  FROM samples
  WHERE name IN ('whistle_agent_spool_samples', 'whistle_agent_spool_dropped_samples_total', 'whistle_agent_dead_letter_samples_total', 'whistle_agent_collector_errors_total')
    AND $__timeFilter(ts) AND ${CLUSTER}
  GROUP BY cluster, node, name, collector
)
GROUP BY cluster, node
ORDER BY dropped + dead_letter DESC, spooled_now DESC, cluster, node`,
        columns: ['cluster', 'node', 'spooled_now', 'dropped', 'dead_letter', 'collector_errors'],
      }),

      table({
        title: 'Operator actions (audit log)',
        description: 'Who did what through the operator API in the range: registrations, authorizations, revocations, approvals, silences, Kubernetes proxy reads.',
        w: 24,
        h: 8,
        sql: `SELECT ts, actor, action, cluster, subject, detail
FROM audit_log
WHERE $__timeFilter(ts) AND ${CLUSTER}
ORDER BY ts DESC LIMIT 500`,
        columns: ['ts', 'actor', 'action', 'cluster', 'subject', 'detail'],
      }),

      row('Filesystems'),
      bargauge({
        title: 'Fullest filesystems',
        description: 'Latest used / size per mount in the range, top 15 across the selected clusters.',
        w: 24,
        h: 10,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: steps([0.8, 'orange'], [0.9, 'red']),
        sql: `SELECT concat(cluster, ' ', node, ' ', mount) AS filesystem, used_ratio
FROM (
  SELECT cluster, node, labels['mount'] AS mount,
         argMaxIf(value, ts, name = 'node_filesystem_used_bytes') / nullIf(argMaxIf(value, ts, name = 'node_filesystem_size_bytes'), 0) AS used_ratio
  FROM samples
  WHERE name IN ('node_filesystem_used_bytes', 'node_filesystem_size_bytes') AND $__timeFilter(ts) AND ${CLUSTER}
  GROUP BY cluster, node, mount
)
WHERE used_ratio IS NOT NULL
ORDER BY used_ratio DESC LIMIT 15`,
        columns: ['filesystem', 'used_ratio'],
      }),
    ],
  });
}
