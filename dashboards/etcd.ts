// etcd: member health, leader changes, database size against the quota, snapshots.
// Tables: samples (etcd_member_* and etcd_cluster_members, reported by the agents on etcd nodes:
// bootstrap/etcd/telemetry.ts; every agent reports every member it knows, so a member whose node
// died is still reported down by the others), etcd_snapshots.
import { bargauge, dashboard, row, stat, steps, table, timeseries, unitColumn, type Dashboard, type DataSourceRef } from './builder.ts';
import { CLUSTER, clusterVariable } from './common.ts';

export const ETCD_TABLES = ['samples', 'etcd_snapshots'];

const MEMBER_METRICS = ['etcd_member_up', 'etcd_member_is_leader', 'etcd_member_has_leader', 'etcd_member_db_size_bytes', 'etcd_member_db_quota_bytes', 'etcd_member_raft_index']
  .map((n) => `'${n}'`)
  .join(', ');

/**
 * Latest view of each member in the range (the newest report from any agent). A member that is
 * down reports nothing but `up`, so its other values are the last it had while up.
 */
const MEMBERS = `SELECT cluster, labels['member'] AS member, any(labels['endpoint']) AS endpoint, any(labels['learner']) AS learner,
       argMaxIf(value, ts, name = 'etcd_member_up') AS up,
       if(up = 1, argMaxIf(value, ts, name = 'etcd_member_is_leader'), 0) AS leader,
       argMaxIf(value, ts, name = 'etcd_member_has_leader') AS has_leader,
       argMaxIf(value, ts, name = 'etcd_member_db_size_bytes') AS db_size_bytes,
       argMaxIf(value, ts, name = 'etcd_member_db_quota_bytes') AS quota_bytes,
       db_size_bytes / nullIf(quota_bytes, 0) AS quota_used,
       argMaxIf(value, ts, name = 'etcd_member_raft_index') AS raft_index,
       maxIf(ts, name = 'etcd_member_up') AS last_report
FROM samples
WHERE name IN (${MEMBER_METRICS}) AND labels['member'] != '' AND $__timeFilter(ts) AND ${CLUSTER}
GROUP BY cluster, member`;

/** Who was leader at each report (one row per cluster and report time). */
const LEADERS = `SELECT cluster, ts AS t, any(labels['member']) AS leader
FROM samples
WHERE name = 'etcd_member_is_leader' AND value = 1 AND $__timeFilter(ts) AND ${CLUSTER}
GROUP BY cluster, t`;

/** Each report with the leader of the previous one. */
const LEADER_STEPS = `SELECT cluster, t, leader, lagInFrame(leader, 1, '') OVER (PARTITION BY cluster ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous
FROM (${LEADERS})`;

export function etcdDashboard(ds: DataSourceRef): Dashboard {
  return dashboard(ds, {
    uid: 'whistle-etcd',
    title: 'Whistle / etcd',
    description: 'etcd members: health, leader, leader changes, database size against the quota, snapshots.',
    tags: ['etcd'],
    variables: [clusterVariable(ds)],
    panels: [
      row('Members'),
      stat({
        title: 'Members down',
        w: 6,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(up = 0) AS down FROM (${MEMBERS})`,
        columns: ['down'],
      }),
      stat({
        title: 'Clusters without a leader',
        w: 6,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(leaders = 0) AS leaderless FROM (SELECT cluster, sum(leader) AS leaders FROM (${MEMBERS}) GROUP BY cluster)`,
        columns: ['leaderless'],
      }),
      stat({
        title: 'Leader changes',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange'], [3, 'red']),
        sql: `SELECT countIf(previous != '' AND leader != previous) AS leader_changes FROM (${LEADER_STEPS})`,
        columns: ['leader_changes'],
      }),
      stat({
        title: 'Highest DB use of quota',
        w: 6,
        h: 4,
        unit: 'percentunit',
        thresholds: steps([0.7, 'orange'], [0.9, 'red']),
        sql: `SELECT max(quota_used) AS quota_used FROM (${MEMBERS})`,
        columns: ['quota_used'],
      }),
      table({
        title: 'Members (latest report)',
        w: 24,
        h: 8,
        overrides: [unitColumn('db_size_bytes', 'bytes'), unitColumn('quota_bytes', 'bytes'), unitColumn('quota_used', 'percentunit')],
        sql: `SELECT cluster, member, endpoint, learner, up, leader, has_leader, db_size_bytes, quota_bytes, quota_used, raft_index, last_report
FROM (${MEMBERS})
ORDER BY up, cluster, member`,
        columns: ['cluster', 'member', 'endpoint', 'learner', 'up', 'leader', 'has_leader', 'db_size_bytes', 'quota_bytes', 'quota_used', 'raft_index', 'last_report'],
      }),
      timeseries({
        title: 'Members up per cluster',
        description: 'Members seen up by at least one agent in each interval, and the voting members the cluster has.',
        sql: `SELECT time, series, members FROM (
  SELECT time, concat(cluster, ' up') AS series, toFloat64(sum(member_up)) AS members
  FROM (
    SELECT $__timeInterval(ts) AS time, cluster, labels['member'] AS member, max(value) AS member_up
    FROM samples
    WHERE name = 'etcd_member_up' AND $__timeFilter(ts) AND ${CLUSTER}
    GROUP BY time, cluster, member
  ) GROUP BY time, series
  UNION ALL
  SELECT $__timeInterval(ts) AS time, concat(cluster, ' members') AS series, max(value) AS members
  FROM samples
  WHERE name = 'etcd_cluster_members' AND $__timeFilter(ts) AND ${CLUSTER}
  GROUP BY time, series
) ORDER BY time`,
        columns: ['time', 'series', 'members'],
      }),
      table({
        title: 'Leader change log',
        description: 'Each time the reported leader differed from the previous report.',
        sql: `SELECT t AS time, cluster, previous AS from_member, leader AS to_member
FROM (${LEADER_STEPS})
WHERE previous != '' AND leader != previous
ORDER BY t DESC LIMIT 100`,
        columns: ['time', 'cluster', 'from_member', 'to_member'],
      }),

      row('Database size'),
      timeseries({
        title: 'DB size vs quota',
        description: 'Backend database size per member; the quota line is etcd\'s --quota-backend-bytes (alarm NOSPACE when reached).',
        unit: 'bytes',
        w: 16,
        sql: `SELECT $__timeInterval(ts) AS time,
       if(name = 'etcd_member_db_quota_bytes', concat(cluster, ' quota'), concat(cluster, ' ', labels['member'])) AS series,
       max(value) AS bytes
FROM samples
WHERE name IN ('etcd_member_db_size_bytes', 'etcd_member_db_quota_bytes') AND labels['member'] != '' AND $__timeFilter(ts) AND ${CLUSTER}
GROUP BY time, series ORDER BY time`,
        columns: ['time', 'series', 'bytes'],
      }),
      bargauge({
        title: 'DB use of quota',
        w: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: steps([0.7, 'orange'], [0.9, 'red']),
        sql: `SELECT concat(cluster, ' ', member) AS member_name, quota_used FROM (${MEMBERS}) WHERE quota_used IS NOT NULL ORDER BY quota_used DESC`,
        columns: ['member_name', 'quota_used'],
      }),

      row('Snapshots'),
      table({
        title: 'Snapshot freshness',
        description: 'Per cluster (all time): the newest verified snapshot, its age, and how many are kept (saved minus deleted by retention).',
        w: 10,
        overrides: [unitColumn('age_s', 's'), unitColumn('newest_size_bytes', 'bytes')],
        thresholds: steps([86400, 'orange'], [3 * 86400, 'red']),
        sql: `SELECT cluster, maxIf(ts, state = 'saved') AS newest, dateDiff('second', newest, now64(3)) AS age_s,
       argMaxIf(size_bytes, ts, state = 'saved') AS newest_size_bytes,
       countIf(state = 'saved') - countIf(state = 'deleted') AS kept,
       countIf(state NOT IN ('saved', 'deleted')) AS failures
FROM etcd_snapshots
WHERE ${CLUSTER}
GROUP BY cluster ORDER BY age_s DESC`,
        columns: ['cluster', 'newest', 'age_s', 'newest_size_bytes', 'kept', 'failures'],
      }),
      table({
        title: 'Snapshots in the range',
        w: 14,
        overrides: [unitColumn('size_bytes', 'bytes')],
        sql: `SELECT ts, cluster, node, file, state, revision, total_keys, size_bytes, error
FROM etcd_snapshots
WHERE $__timeFilter(ts) AND ${CLUSTER}
ORDER BY ts DESC LIMIT 200`,
        columns: ['ts', 'cluster', 'node', 'file', 'state', 'revision', 'total_keys', 'size_bytes', 'error'],
      }),
    ],
  });
}
