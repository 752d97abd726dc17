// Incidents: what is open now (by severity, cluster, detector), how fast incidents are taken up
// and resolved (MTTA / MTTR from the incident log), recent transitions, notifications sent and
// failed, silences and maintenance windows.
// Tables: incident_log, notify_outbox, notify_log, tickets, silences, maintenance_windows.
//
// MTTA here: from `opened` to the first `state_changed` row, i.e. the first time Whistle or a
// person took the incident up (remediating, awaiting approval, escalated). Incidents resolved
// before anyone took them up count for MTTR only. MTTR: from the first `opened` to the last
// `resolved` of incidents resolved now.
import { bargauge, dashboard, queryVariable, row, stat, steps, table, timeseries, unitColumn, type Dashboard, type DataSourceRef } from './builder.ts';
import { CLUSTER, clusterVariable, incidentsNow } from './common.ts';

export const INCIDENT_TABLES = ['incident_log', 'notify_outbox', 'notify_log', 'tickets', 'silences', 'maintenance_windows'];

const DETECTOR = '$__conditionalAll(detector IN (${detector:singlequote}), $detector)';
/** notify_* rows carry no cluster: filter through the incident log. */
const NOTIFY_CLUSTER = '$__conditionalAll(incident_id IN (SELECT incident_id FROM incident_log WHERE cluster IN (${cluster:singlequote})), $cluster)';

const OPEN = `SELECT * FROM (${incidentsNow(DETECTOR)}) WHERE state_now != 'resolved'`;

/** Per incident: when it opened, was first taken up, and resolved (if resolved now). */
const RESPONSE = `SELECT incident_id, cluster, detector, severity_now, state_now, opened_at, taken_up_at, resolved_at,
       if(taken_up_at IS NULL, NULL, dateDiff('millisecond', opened_at, taken_up_at) / 1000) AS tta_s,
       if(state_now = 'resolved', dateDiff('millisecond', opened_at, resolved_at) / 1000, NULL) AS ttr_s
FROM (
  SELECT incident_id, cluster, detector, argMax(severity, seq) AS severity_now, argMax(state, seq) AS state_now,
         minIf(ts, kind = 'opened') AS opened_at,
         if(countIf(kind = 'state_changed') = 0, NULL, minIf(ts, kind = 'state_changed')) AS taken_up_at,
         maxIf(ts, kind = 'resolved') AS resolved_at
  FROM incident_log
  WHERE snapshot != '' AND ${CLUSTER} AND ${DETECTOR}
  GROUP BY incident_id, cluster, detector
)`;

export function incidentsDashboard(ds: DataSourceRef): Dashboard {
  const secs = (...cols: string[]) => cols.map((c) => unitColumn(c, 's'));
  return dashboard(ds, {
    uid: 'whistle-incidents',
    title: 'Whistle / Incidents',
    description: 'Open incidents by severity, cluster and detector; MTTA and MTTR; recent transitions; notifications; silences.',
    tags: ['incidents'],
    time: { from: 'now-24h', to: 'now' },
    variables: [
      clusterVariable(ds),
      queryVariable(ds, {
        name: 'detector',
        label: 'Detector',
        sql: `SELECT DISTINCT detector FROM incident_log WHERE detector != '' AND ${CLUSTER} ORDER BY detector`,
        multi: true,
      }),
    ],
    panels: [
      row('Open now'),
      stat({ title: 'Open incidents', w: 6, h: 4, thresholds: steps([1, 'orange']), sql: `SELECT count() AS open FROM (${OPEN})`, columns: ['open'] }),
      stat({
        title: 'Critical open',
        w: 6,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(severity_now = 'critical') AS critical FROM (${OPEN})`,
        columns: ['critical'],
      }),
      stat({
        title: 'Awaiting approval',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(state_now = 'awaiting_approval') AS awaiting_approval FROM (${OPEN})`,
        columns: ['awaiting_approval'],
      }),
      stat({
        title: 'Escalated',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(state_now = 'escalated') AS escalated FROM (${OPEN})`,
        columns: ['escalated'],
      }),
      bargauge({
        title: 'Open by severity',
        w: 8,
        sql: `SELECT severity_now AS severity, count() AS open FROM (${OPEN})
GROUP BY severity ORDER BY indexOf(['critical', 'warning', 'info'], severity)`,
        columns: ['severity', 'open'],
      }),
      table({
        title: 'Open by cluster and detector',
        w: 16,
        overrides: secs('oldest_open_s'),
        sql: `SELECT cluster, detector, count() AS open, countIf(severity_now = 'critical') AS critical, countIf(severity_now = 'warning') AS warning,
       countIf(severity_now = 'info') AS info, dateDiff('second', min(opened_at), now64(3)) AS oldest_open_s
FROM (${OPEN})
GROUP BY cluster, detector
ORDER BY critical DESC, open DESC`,
        columns: ['cluster', 'detector', 'open', 'critical', 'warning', 'info', 'oldest_open_s'],
      }),
      table({
        title: 'Open incidents: list',
        w: 24,
        h: 9,
        overrides: secs('open_for_s'),
        sql: `SELECT opened_at, cluster, detector, subject, severity_now AS severity, state_now AS state,
       dateDiff('second', opened_at, now64(3)) AS open_for_s, incident_id
FROM (${OPEN})
ORDER BY indexOf(['critical', 'warning', 'info'], severity), opened_at`,
        columns: ['opened_at', 'cluster', 'detector', 'subject', 'severity', 'state', 'open_for_s', 'incident_id'],
      }),

      row('Response (incidents opened in the range)'),
      stat({
        title: 'MTTA',
        description: 'Mean time from opened to first taken up (remediating, awaiting approval or escalated).',
        w: 6,
        h: 4,
        unit: 's',
        sql: `SELECT avg(tta_s) AS mtta_s FROM (${RESPONSE}) WHERE $__timeFilter(opened_at) AND tta_s IS NOT NULL`,
        columns: ['mtta_s'],
      }),
      stat({
        title: 'MTTR',
        description: 'Mean time from opened to resolved, for incidents resolved now.',
        w: 6,
        h: 4,
        unit: 's',
        sql: `SELECT avg(ttr_s) AS mttr_s FROM (${RESPONSE}) WHERE $__timeFilter(opened_at) AND ttr_s IS NOT NULL`,
        columns: ['mttr_s'],
      }),
      stat({ title: 'Opened', w: 6, h: 4, sql: `SELECT count() AS opened FROM (${RESPONSE}) WHERE $__timeFilter(opened_at)`, columns: ['opened'] }),
      stat({
        title: 'Resolved',
        w: 6,
        h: 4,
        sql: `SELECT countIf(state_now = 'resolved') AS resolved FROM (${RESPONSE}) WHERE $__timeFilter(opened_at)`,
        columns: ['resolved'],
      }),
      table({
        title: 'MTTA / MTTR by detector and severity',
        w: 24,
        overrides: secs('mtta_s', 'mttr_s', 'max_ttr_s'),
        sql: `SELECT detector, severity_now AS severity, count() AS incidents, countIf(state_now = 'resolved') AS resolved,
       avgIf(tta_s, tta_s IS NOT NULL) AS mtta_s, avgIf(ttr_s, ttr_s IS NOT NULL) AS mttr_s, maxIf(ttr_s, ttr_s IS NOT NULL) AS max_ttr_s
FROM (${RESPONSE})
WHERE $__timeFilter(opened_at)
GROUP BY detector, severity
ORDER BY detector, indexOf(['critical', 'warning', 'info'], severity)`,
        columns: ['detector', 'severity', 'incidents', 'resolved', 'mtta_s', 'mttr_s', 'max_ttr_s'],
      }),
      timeseries({
        title: 'Incidents opened',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(ts) AS time, severity AS sev, count() AS opened
FROM incident_log
WHERE kind IN ('opened', 'reopened') AND $__timeFilter(ts) AND ${CLUSTER} AND ${DETECTOR}
GROUP BY time, sev ORDER BY time`,
        columns: ['time', 'sev', 'opened'],
      }),
      timeseries({
        title: 'Incidents resolved',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(ts) AS time, severity AS sev, count() AS resolved
FROM incident_log
WHERE kind = 'resolved' AND $__timeFilter(ts) AND ${CLUSTER} AND ${DETECTOR}
GROUP BY time, sev ORDER BY time`,
        columns: ['time', 'sev', 'resolved'],
      }),

      row('Transitions'),
      table({
        title: 'Recent transitions',
        description: 'The incident log in the range, newest first: state changes and history lines (remediation, deliveries, notes).',
        w: 24,
        h: 10,
        sql: `SELECT ts, cluster, detector, subject, severity, kind, state, reason, actor, incident_id
FROM incident_log
WHERE $__timeFilter(ts) AND ${CLUSTER} AND ${DETECTOR}
ORDER BY ts DESC, seq DESC
LIMIT 500`,
        columns: ['ts', 'cluster', 'detector', 'subject', 'severity', 'kind', 'state', 'reason', 'actor', 'incident_id'],
      }),

      row('Notifications'),
      stat({
        title: 'Delivered',
        w: 6,
        h: 4,
        sql: `SELECT countIf(status = 'delivered') AS delivered FROM notify_log WHERE $__timeFilter(ts) AND ${NOTIFY_CLUSTER}`,
        columns: ['delivered'],
      }),
      stat({
        title: 'Failed attempts',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(status = 'failed') AS failed FROM notify_log WHERE $__timeFilter(ts) AND ${NOTIFY_CLUSTER}`,
        columns: ['failed'],
      }),
      stat({
        title: 'Pending now',
        description: 'Decided notifications not delivered yet (any age).',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT count() AS pending FROM notify_outbox
WHERE key NOT IN (SELECT key FROM notify_log WHERE status = 'delivered') AND ${NOTIFY_CLUSTER}`,
        columns: ['pending'],
      }),
      stat({
        title: 'Median time to deliver',
        description: 'From decided (outbox) to delivered, notifications decided in the range.',
        w: 6,
        h: 4,
        unit: 's',
        sql: `SELECT median(dateDiff('millisecond', o.ts, d.delivered_at) / 1000) AS p50_deliver_s
FROM notify_outbox AS o
INNER JOIN (SELECT key, min(ts) AS delivered_at FROM notify_log WHERE status = 'delivered' GROUP BY key) AS d ON d.key = o.key
WHERE $__timeFilter(o.ts) AND ${NOTIFY_CLUSTER}`,
        columns: ['p50_deliver_s'],
      }),
      timeseries({
        title: 'Deliveries by channel and result',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(ts) AS time, concat(channel, ' ', status) AS outcome, count() AS attempts
FROM notify_log
WHERE $__timeFilter(ts) AND ${NOTIFY_CLUSTER}
GROUP BY time, outcome ORDER BY time`,
        columns: ['time', 'outcome', 'attempts'],
      }),
      table({
        title: 'Notifications by channel',
        sql: `SELECT channel, countIf(status = 'delivered') AS delivered, countIf(status = 'failed') AS failed_attempts,
       uniqExactIf(key, status = 'failed') AS notifications_with_failures, max(attempt) AS max_attempts
FROM notify_log
WHERE $__timeFilter(ts) AND ${NOTIFY_CLUSTER}
GROUP BY channel ORDER BY channel`,
        columns: ['channel', 'delivered', 'failed_attempts', 'notifications_with_failures', 'max_attempts'],
      }),
      table({
        title: 'Failed deliveries',
        w: 24,
        h: 8,
        sql: `SELECT ts, channel, kind, attempt, error, incident_id, key
FROM notify_log
WHERE status = 'failed' AND $__timeFilter(ts) AND ${NOTIFY_CLUSTER}
ORDER BY ts DESC LIMIT 200`,
        columns: ['ts', 'channel', 'kind', 'attempt', 'error', 'incident_id', 'key'],
      }),
      table({
        title: 'Pending notifications',
        w: 24,
        h: 7,
        overrides: secs('waiting_s'),
        sql: `SELECT o.ts AS decided_at, o.channel AS channel, o.kind AS kind, o.incident_id AS incident_id,
       dateDiff('second', o.ts, now64(3)) AS waiting_s, f.attempts AS attempts, f.last_error AS last_error
FROM notify_outbox AS o
LEFT JOIN (SELECT key, count() AS attempts, argMax(error, ts) AS last_error FROM notify_log WHERE status = 'failed' GROUP BY key) AS f ON f.key = o.key
WHERE o.key NOT IN (SELECT key FROM notify_log WHERE status = 'delivered') AND ${NOTIFY_CLUSTER}
ORDER BY o.ts`,
        columns: ['decided_at', 'channel', 'kind', 'incident_id', 'waiting_s', 'attempts', 'last_error'],
      }),

      table({
        title: 'Tickets',
        description: 'One ticket per incident: the intent is recorded before the ticket exists (no key yet), the key after.',
        w: 24,
        h: 7,
        sql: `SELECT t.first_at AS first_at, t.channel AS channel, t.ticket AS ticket, t.ticket_status AS status, i.subject AS subject,
       i.state_now AS incident_state, t.incident_id AS incident_id
FROM (
  SELECT incident_id, channel, min(ts) AS first_at, argMax(ticket_key, ts) AS ticket, argMax(status, ts) AS ticket_status
  FROM tickets GROUP BY incident_id, channel
) AS t
INNER JOIN (${incidentsNow(DETECTOR)}) AS i ON i.incident_id = t.incident_id
WHERE $__timeFilter(t.first_at) OR i.state_now != 'resolved'
ORDER BY t.first_at DESC LIMIT 200`,
        columns: ['first_at', 'channel', 'ticket', 'status', 'subject', 'incident_state', 'incident_id'],
      }),

      row('Silences and maintenance'),
      table({
        title: 'Active and upcoming silences',
        w: 12,
        sql: `SELECT id, matchers_now AS matchers, starts, ends, comment_now AS comment, created_by_now AS created_by
FROM (
  SELECT id, argMax(matchers, version) AS matchers_now, argMax(starts_at, version) AS starts, argMax(ends_at, version) AS ends,
         argMax(comment, version) AS comment_now, argMax(created_by, version) AS created_by_now, argMax(expired_by, version) AS expired_by_now
  FROM silences GROUP BY id
)
WHERE expired_by_now = '' AND ends > now64(3)
ORDER BY starts`,
        columns: ['id', 'matchers', 'starts', 'ends', 'comment', 'created_by'],
      }),
      table({
        title: 'Active and upcoming maintenance windows',
        w: 12,
        sql: `SELECT id, cluster_now AS cluster, starts, ends, comment_now AS comment, created_by_now AS created_by
FROM (
  SELECT id, argMax(cluster, version) AS cluster_now, argMax(starts_at, version) AS starts, argMax(ends_at, version) AS ends,
         argMax(comment, version) AS comment_now, argMax(created_by, version) AS created_by_now, argMax(expired_by, version) AS expired_by_now
  FROM maintenance_windows GROUP BY id
)
WHERE expired_by_now = '' AND ends > now64(3) AND $__conditionalAll(cluster IN (\${cluster:singlequote}), $cluster)
ORDER BY starts`,
        columns: ['id', 'cluster', 'starts', 'ends', 'comment', 'created_by'],
      }),
    ],
  });
}
