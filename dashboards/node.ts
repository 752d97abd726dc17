// Node detail: one agent's telemetry (agent/METRICS.md): filesystem use per mount with a
// time-to-full estimate, inodes, memory, load, CPU, probes, certificates, the agent's own health.
// Table: samples (and nodes for the node list).
import { dashboard, queryVariable, row, table, timeseries, steps, unitColumn, type Dashboard, type DataSourceRef } from './builder.ts';
import { clusterVariable, counterIncrease, nodeVariable, ORDERED_VALUES } from './common.ts';

export const NODE_TABLES = ['nodes', 'samples'];

const NODE = 'cluster IN (${cluster:singlequote}) AND node IN (${node:singlequote})';
const MOUNT = "$__conditionalAll(labels['mount'] IN (${mount:singlequote}), $mount)";

/** A time series of one or more metrics of this node, averaged per interval, one series per name. */
function metricSeries(names: string[], label: string, valueAlias: string): string {
  return `SELECT $__timeInterval(ts) AS time, ${label} AS metric, avg(value) AS ${valueAlias}
FROM samples
WHERE ${NODE} AND name IN (${names.map((n) => `'${n}'`).join(', ')}) AND $__timeFilter(ts)
GROUP BY time, metric ORDER BY time`;
}

export function nodeDashboard(ds: DataSourceRef): Dashboard {
  return dashboard(ds, {
    uid: 'whistle-node',
    title: 'Whistle / Node detail',
    description: 'One node agent: filesystems (used %, time to full, inodes), memory, load, CPU, probes, certificates, agent health.',
    tags: ['node'],
    variables: [
      clusterVariable(ds, false),
      nodeVariable(ds, false),
      queryVariable(ds, {
        name: 'mount',
        label: 'Mount',
        sql: `SELECT DISTINCT labels['mount'] FROM samples
WHERE cluster IN (\${cluster:singlequote}) AND node IN (\${node:singlequote}) AND name = 'node_filesystem_size_bytes' AND $__timeFilter(ts)
ORDER BY 1`,
        multi: true,
        refresh: 2,
      }),
    ],
    panels: [
      row('Filesystems'),
      table({
        title: 'Filesystems: use and time to full',
        description:
          'Latest values per mount. fill_rate is how fast free space (avail) shrank over the range, from a least-squares line; time_to_full is avail / fill_rate when it shrinks. device_error 1: statfs failed or hung (then no other values that tick).',
        w: 24,
        h: 8,
        overrides: [
          unitColumn('used_ratio', 'percentunit'),
          unitColumn('inodes_used_ratio', 'percentunit'),
          unitColumn('size_bytes', 'bytes'),
          unitColumn('avail_bytes', 'bytes'),
          unitColumn('fill_rate_bytes_per_s', 'Bps'),
          unitColumn('time_to_full_s', 's'),
        ],
        sql: `SELECT mount, device, fstype, readonly, used_ratio, size_bytes, avail_bytes, inodes_used_ratio, fill_rate_bytes_per_s,
       if(fill_rate_bytes_per_s > 0, avail_bytes / fill_rate_bytes_per_s, NULL) AS time_to_full_s, device_error
FROM (
  SELECT labels['mount'] AS mount, any(labels['device']) AS device, any(labels['fstype']) AS fstype, any(labels['readonly']) AS readonly,
         argMaxIf(value, ts, name = 'node_filesystem_used_bytes') / nullIf(argMaxIf(value, ts, name = 'node_filesystem_size_bytes'), 0) AS used_ratio,
         argMaxIf(value, ts, name = 'node_filesystem_size_bytes') AS size_bytes,
         argMaxIf(value, ts, name = 'node_filesystem_avail_bytes') AS avail_bytes,
         argMaxIf(value, ts, name = 'node_filesystem_files_used') / nullIf(argMaxIf(value, ts, name = 'node_filesystem_files'), 0) AS inodes_used_ratio,
         -tupleElement(simpleLinearRegressionIf((toUnixTimestamp64Milli(ts) - $__from) / 1000, value, name = 'node_filesystem_avail_bytes'), 1) AS fill_rate_bytes_per_s,
         maxIf(value, name = 'node_filesystem_device_error') AS device_error
  FROM samples
  WHERE ${NODE} AND startsWith(name, 'node_filesystem_') AND $__timeFilter(ts) AND ${MOUNT}
  GROUP BY mount
)
ORDER BY used_ratio DESC`,
        columns: ['mount', 'device', 'fstype', 'readonly', 'used_ratio', 'size_bytes', 'avail_bytes', 'inodes_used_ratio', 'fill_rate_bytes_per_s', 'time_to_full_s', 'device_error'],
      }),
      timeseries({
        title: 'Filesystem used % per mount',
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: steps([0.8, 'orange'], [0.9, 'red']),
        sql: `SELECT $__timeInterval(ts) AS time, labels['mount'] AS mount,
       avgIf(value, name = 'node_filesystem_used_bytes') / nullIf(avgIf(value, name = 'node_filesystem_size_bytes'), 0) AS used
FROM samples
WHERE ${NODE} AND name IN ('node_filesystem_used_bytes', 'node_filesystem_size_bytes') AND $__timeFilter(ts) AND ${MOUNT}
GROUP BY time, mount ORDER BY time`,
        columns: ['time', 'mount', 'used'],
      }),
      timeseries({
        title: 'Inodes used % per mount',
        description: 'Filesystems without a fixed inode table (btrfs) report 0 inodes and are left out.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        sql: `SELECT $__timeInterval(ts) AS time, labels['mount'] AS mount,
       avgIf(value, name = 'node_filesystem_files_used') / nullIf(avgIf(value, name = 'node_filesystem_files'), 0) AS inodes_used
FROM samples
WHERE ${NODE} AND name IN ('node_filesystem_files_used', 'node_filesystem_files') AND $__timeFilter(ts) AND ${MOUNT}
GROUP BY time, mount ORDER BY time`,
        columns: ['time', 'mount', 'inodes_used'],
      }),

      row('Memory, load, CPU'),
      timeseries({
        title: 'Memory used',
        description: '1 - MemAvailable / MemTotal.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 8,
        sql: metricSeries(['node_memory_used_ratio'], "'used'", 'ratio'),
        columns: ['time', 'metric', 'ratio'],
      }),
      timeseries({
        title: 'Memory',
        unit: 'bytes',
        w: 8,
        sql: metricSeries(
          ['node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes', 'node_memory_Cached_bytes', 'node_memory_Dirty_bytes', 'node_memory_SwapTotal_bytes', 'node_memory_SwapFree_bytes'],
          "replaceOne(replaceOne(name, 'node_memory_', ''), '_bytes', '')",
          'bytes',
        ),
        columns: ['time', 'metric', 'bytes'],
      }),
      timeseries({
        title: 'Load and CPUs',
        description: 'Load averages against the number of online CPUs.',
        w: 8,
        sql: metricSeries(['node_load1', 'node_load5', 'node_load15', 'node_cpus'], "replaceOne(name, 'node_', '')", 'tasks'),
        columns: ['time', 'metric', 'tasks'],
      }),
      timeseries({
        title: 'CPU',
        description: 'Share of CPU time busy (not idle or iowait), in iowait, and stolen by the hypervisor.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 12,
        sql: metricSeries(['node_cpu_utilisation', 'node_cpu_iowait_ratio', 'node_cpu_steal_ratio'], "replaceOne(name, 'node_cpu_', '')", 'ratio'),
        columns: ['time', 'metric', 'ratio'],
      }),
      timeseries({
        title: 'Uptime',
        description: 'A drop means the node rebooted.',
        unit: 's',
        w: 12,
        sql: metricSeries(['node_uptime_seconds'], "'uptime'", 'seconds'),
        columns: ['time', 'metric', 'seconds'],
      }),

      row('Probes'),
      table({
        title: 'Probes (latest)',
        description: 'HTTP, TCP, DNS and certificate-file probes configured on this agent, latest result in the range.',
        w: 24,
        h: 7,
        overrides: [unitColumn('duration_s', 's')],
        sql: `SELECT kind, probe, target, up, duration_s, http_status, last_run
FROM (
  SELECT splitByChar('_', name)[2] AS kind, labels['probe'] AS probe,
         any(multiIf(labels['target'] != '', labels['target'], labels['query'] != '', concat(labels['query'], ' @ ', labels['resolver']), labels['path'])) AS target,
         argMaxIf(value, ts, endsWith(name, '_up')) AS up,
         argMaxIf(value, ts, endsWith(name, '_duration_seconds')) AS duration_s,
         argMaxIf(value, ts, name = 'probe_http_status_code') AS http_status,
         max(ts) AS last_run
  FROM samples
  WHERE ${NODE} AND startsWith(name, 'probe_') AND $__timeFilter(ts)
  GROUP BY kind, probe
)
ORDER BY up, kind, probe`,
        columns: ['kind', 'probe', 'target', 'up', 'duration_s', 'http_status', 'last_run'],
      }),
      timeseries({
        title: 'Probes up',
        description: 'Worst result per interval: 0 when any run in the interval failed.',
        min: 0,
        max: 1,
        sql: `SELECT $__timeInterval(ts) AS time, concat(splitByChar('_', name)[2], '/', labels['probe']) AS probe, min(value) AS up
FROM samples
WHERE ${NODE} AND name IN ('probe_http_up', 'probe_tcp_up', 'probe_dns_up', 'probe_cert_up') AND $__timeFilter(ts)
GROUP BY time, probe ORDER BY time`,
        columns: ['time', 'probe', 'up'],
      }),
      timeseries({
        title: 'Probe duration',
        unit: 's',
        sql: `SELECT $__timeInterval(ts) AS time, concat(splitByChar('_', name)[2], '/', labels['probe']) AS probe, max(value) AS duration
FROM samples
WHERE ${NODE} AND name IN ('probe_http_duration_seconds', 'probe_tcp_duration_seconds', 'probe_dns_duration_seconds') AND $__timeFilter(ts)
GROUP BY time, probe ORDER BY time`,
        columns: ['time', 'probe', 'duration'],
      }),
      table({
        title: 'Certificates',
        description: 'Every certificate in the probed files, soonest expiry first (negative: already expired).',
        w: 24,
        h: 6,
        overrides: [unitColumn('expires_in_s', 's')],
        thresholds: steps([0, 'red'], [7 * 86400, 'orange'], [30 * 86400, 'green']),
        sql: `SELECT labels['probe'] AS probe, labels['path'] AS path, labels['subject'] AS subject, labels['serial'] AS serial,
       argMaxIf(value, ts, name = 'cert_expiry_seconds') AS expires_in_s,
       toDateTime(argMaxIf(value, ts, name = 'cert_not_after_seconds')) AS not_after
FROM samples
WHERE ${NODE} AND name IN ('cert_expiry_seconds', 'cert_not_after_seconds') AND $__timeFilter(ts)
GROUP BY probe, path, subject, serial
ORDER BY expires_in_s`,
        columns: ['probe', 'path', 'subject', 'serial', 'expires_in_s', 'not_after'],
      }),

      row('Agent'),
      timeseries({
        title: 'Agent spool backlog',
        description: 'Samples waiting in the agent\'s disk spool: grows while the management plane is unreachable.',
        sql: metricSeries(['whistle_agent_spool_samples'], "'spooled samples'", 'samples'),
        columns: ['time', 'metric', 'samples'],
      }),
      table({
        title: 'Collector errors in range',
        description: 'Ticks in which a collector failed or ran out of time (counter increase, agent restarts handled).',
        sql: `SELECT labels['collector'] AS collector, ${counterIncrease(ORDERED_VALUES)} AS errors
FROM samples
WHERE ${NODE} AND name = 'whistle_agent_collector_errors_total' AND $__timeFilter(ts)
GROUP BY collector
ORDER BY errors DESC, collector`,
        columns: ['collector', 'errors'],
      }),
    ],
  });
}
