// Remediation: what Whistle did or would have done (actions by state, dry-run vs real), plans
// waiting for a person, escalations, and the agent tasks that carried the work out.
// Tables: actions, remediation_plans, incident_log, agent_tasks.
import { bargauge, dashboard, row, stat, steps, table, timeseries, unitColumn, type Dashboard, type DataSourceRef } from './builder.ts';
import { CLUSTER, clusterVariable } from './common.ts';

export const REMEDIATION_TABLES = ['actions', 'remediation_plans', 'incident_log', 'agent_tasks'];

// Rows of one action can share a millisecond (started, then succeeded): ties go to the later step.
const ACTION_ORDER = "indexOf(['planned', 'started', 'skipped', 'succeeded', 'failed'], state)";

/** Actions first recorded in the range, each with its latest state. */
const ACTIONS = `SELECT id, cluster, any(incident_id) AS incident, any(subject) AS target, any(kind) AS action_kind,
       argMax(state, (ts, ${ACTION_ORDER})) AS state_now, max(dry_run) AS dry, argMax(reason, (ts, ${ACTION_ORDER})) AS reason_now,
       argMax(actor, (ts, ${ACTION_ORDER})) AS actor_now, min(ts) AS first_at, max(ts) AS last_at
FROM actions
WHERE ${CLUSTER} AND id IN (SELECT id FROM actions WHERE $__timeFilter(ts) AND ${CLUSTER})
GROUP BY id, cluster`;

const TASK_ORDER = "indexOf(['queued', 'dispatched', 'succeeded', 'failed', 'expired'], state)";

/** Agent tasks queued in the range, each with its latest state. */
const TASKS = `SELECT id, cluster, node, any(kind) AS task_kind, argMax(state, (ts, ${TASK_ORDER})) AS state_now,
       argMax(error, (ts, ${TASK_ORDER})) AS error_now, min(ts) AS queued_at, max(ts) AS last_at
FROM agent_tasks
WHERE ${CLUSTER} AND id IN (SELECT id FROM agent_tasks WHERE $__timeFilter(ts) AND ${CLUSTER})
GROUP BY id, cluster, node`;

/** Plans with their latest row. */
const PLANS = `SELECT id, cluster, any(incident_id) AS incident, any(kind) AS plan_kind, argMax(state, ts) AS state_now,
       argMax(actor, ts) AS actor_now, argMax(reason, ts) AS reason_now, min(ts) AS proposed_at, max(ts) AS updated_at
FROM remediation_plans
WHERE ${CLUSTER}
GROUP BY id, cluster`;

export function remediationDashboard(ds: DataSourceRef): Dashboard {
  return dashboard(ds, {
    uid: 'whistle-remediation',
    title: 'Whistle / Remediation',
    description: 'Remediation actions by state, dry-run vs real, plans awaiting approval, escalations, agent tasks.',
    tags: ['remediation'],
    time: { from: 'now-24h', to: 'now' },
    variables: [clusterVariable(ds)],
    panels: [
      row('Actions (recorded in the range)'),
      stat({ title: 'Actions', w: 4, h: 4, sql: `SELECT count() AS actions FROM (${ACTIONS})`, columns: ['actions'] }),
      stat({ title: 'Succeeded', w: 4, h: 4, sql: `SELECT countIf(state_now = 'succeeded') AS succeeded FROM (${ACTIONS})`, columns: ['succeeded'] }),
      stat({
        title: 'Failed',
        w: 4,
        h: 4,
        colorMode: 'background',
        thresholds: steps([1, 'red']),
        sql: `SELECT countIf(state_now = 'failed') AS failed FROM (${ACTIONS})`,
        columns: ['failed'],
      }),
      stat({
        title: 'Skipped by policy',
        description: 'Rate limit, max-unhealthy stop, one action per subject, approval required.',
        w: 4,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(state_now = 'skipped') AS skipped FROM (${ACTIONS})`,
        columns: ['skipped'],
      }),
      stat({
        title: 'Dry-run share',
        w: 4,
        h: 4,
        unit: 'percentunit',
        sql: `SELECT if(count() = 0, NULL, countIf(dry = 1) / count()) AS dry_run_share FROM (${ACTIONS})`,
        columns: ['dry_run_share'],
      }),
      stat({
        title: 'Escalations',
        description: 'Incidents moved to escalated in the range (handed to a person).',
        w: 4,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT count() AS escalations FROM incident_log
WHERE kind = 'state_changed' AND state = 'escalated' AND $__timeFilter(ts) AND ${CLUSTER}`,
        columns: ['escalations'],
      }),
      bargauge({
        title: 'Actions by state',
        w: 8,
        sql: `SELECT state_now AS state, count() AS actions FROM (${ACTIONS})
GROUP BY state ORDER BY indexOf(['planned', 'started', 'skipped', 'succeeded', 'failed'], state)`,
        columns: ['state', 'actions'],
      }),
      table({
        title: 'Dry-run vs real, by kind',
        w: 16,
        sql: `SELECT action_kind AS kind, if(dry = 1, 'dry-run', 'real') AS mode, count() AS actions,
       countIf(state_now = 'succeeded') AS succeeded, countIf(state_now = 'failed') AS failed,
       countIf(state_now = 'skipped') AS skipped, countIf(state_now IN ('planned', 'started')) AS in_progress
FROM (${ACTIONS})
GROUP BY kind, mode ORDER BY kind, mode`,
        columns: ['kind', 'mode', 'actions', 'succeeded', 'failed', 'skipped', 'in_progress'],
      }),
      timeseries({
        title: 'Actions started, dry-run vs real',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(first_at) AS time, if(dry = 1, 'dry-run', 'real') AS mode, count() AS actions
FROM (${ACTIONS})
GROUP BY time, mode ORDER BY time`,
        columns: ['time', 'mode', 'actions'],
      }),
      timeseries({
        title: 'Action results',
        drawStyle: 'bars',
        stack: true,
        sql: `SELECT $__timeInterval(last_at) AS time, state_now AS result, count() AS actions
FROM (${ACTIONS})
GROUP BY time, result ORDER BY time`,
        columns: ['time', 'result', 'actions'],
      }),
      table({
        title: 'Recent actions',
        w: 24,
        h: 10,
        overrides: [unitColumn('duration_s', 's')],
        sql: `SELECT first_at AS started, cluster, target AS subject, action_kind AS kind, state_now AS state,
       if(dry = 1, 'dry-run', 'real') AS mode, dateDiff('millisecond', first_at, last_at) / 1000 AS duration_s,
       reason_now AS reason, actor_now AS actor, incident, id
FROM (${ACTIONS})
ORDER BY first_at DESC LIMIT 300`,
        columns: ['started', 'cluster', 'subject', 'kind', 'state', 'mode', 'duration_s', 'reason', 'actor', 'incident', 'id'],
      }),

      row('Approvals and escalations'),
      stat({
        title: 'Plans awaiting approval',
        w: 6,
        h: 4,
        thresholds: steps([1, 'orange']),
        sql: `SELECT countIf(state_now = 'awaiting_approval') AS awaiting FROM (${PLANS})`,
        columns: ['awaiting'],
      }),
      table({
        title: 'Remediation plans',
        description: 'Plans that need a person: awaiting approval first, then the most recent.',
        w: 18,
        h: 8,
        sql: `SELECT proposed_at, updated_at, cluster, plan_kind AS kind, state_now AS state, actor_now AS actor, reason_now AS reason, incident, id
FROM (${PLANS})
WHERE state_now = 'awaiting_approval' OR $__timeFilter(updated_at)
ORDER BY state_now = 'awaiting_approval' DESC, updated_at DESC LIMIT 200`,
        columns: ['proposed_at', 'updated_at', 'cluster', 'kind', 'state', 'actor', 'reason', 'incident', 'id'],
      }),
      table({
        title: 'Escalation log',
        w: 24,
        h: 8,
        sql: `SELECT ts, cluster, detector, subject, severity, reason, actor, incident_id
FROM incident_log
WHERE kind = 'state_changed' AND state = 'escalated' AND $__timeFilter(ts) AND ${CLUSTER}
ORDER BY ts DESC LIMIT 200`,
        columns: ['ts', 'cluster', 'detector', 'subject', 'severity', 'reason', 'actor', 'incident_id'],
      }),

      row('Agent tasks (queued in the range)'),
      table({
        title: 'Tasks by kind and result',
        w: 12,
        sql: `SELECT task_kind AS kind, count() AS tasks, countIf(state_now = 'succeeded') AS succeeded, countIf(state_now = 'failed') AS failed,
       countIf(state_now = 'expired') AS expired, countIf(state_now IN ('queued', 'dispatched')) AS in_flight
FROM (${TASKS})
GROUP BY kind ORDER BY failed + expired DESC, kind`,
        columns: ['kind', 'tasks', 'succeeded', 'failed', 'expired', 'in_flight'],
      }),
      table({
        title: 'Failed and expired tasks',
        w: 12,
        sql: `SELECT queued_at, cluster, node, task_kind AS kind, state_now AS state, error_now AS error, id
FROM (${TASKS})
WHERE state_now IN ('failed', 'expired')
ORDER BY queued_at DESC LIMIT 200`,
        columns: ['queued_at', 'cluster', 'node', 'kind', 'state', 'error', 'id'],
      }),
    ],
  });
}
