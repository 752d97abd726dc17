// The agent task contract: every task kind a node agent runs for the management plane (the
// allow-list), each with a schema for its parameters and one for its result. The plane's queue and
// the agent's runner both import it, so the two sides cannot drift apart. Only zod and core here:
// the agent depends on this file, never the other way round.
import { z } from 'zod';
import { formatIssues } from '../../core/config/load.ts';
import { etcdLifecycleTasks } from './contract/etcd-lifecycle.ts';
import { etcdMemberTasks } from './contract/etcd-members.ts';
import { nodeOpsTasks } from './contract/node-ops.ts';
import { pkiTasks } from './contract/pki.ts';
import { preflightTasks } from './contract/preflight.ts';
import { upgradeTasks } from './contract/upgrade.ts';

export type { EndpointStatus, MemberInfo } from './contract/etcd-members.ts';
export { snapshotStatus, type VerifiedSnapshot } from './contract/etcd-lifecycle.ts';

export interface TaskSpec {
  /** Strict: an unknown parameter is refused, never ignored. */
  params: z.ZodType;
  /** Not strict: a newer agent may report more than this plane reads. */
  result: z.ZodType;
}

export const TASKS = { ...pkiTasks, ...preflightTasks, ...etcdLifecycleTasks, ...etcdMemberTasks, ...nodeOpsTasks, ...upgradeTasks } satisfies Record<string, TaskSpec>;

export type TaskKind = keyof typeof TASKS;
/** Parameters as a caller writes them (defaults may be left out). */
export type TaskParamsInput<K extends TaskKind> = z.input<(typeof TASKS)[K]['params']>;
/** Parameters as a handler receives them (defaults filled in). */
export type TaskParams<K extends TaskKind> = z.output<(typeof TASKS)[K]['params']>;
export type TaskResult<K extends TaskKind> = z.output<(typeof TASKS)[K]['result']>;

/** The same schemas, typed per kind, so a lookup by a generic kind keeps that kind's types. */
const SCHEMAS: { [K in TaskKind]: { params: z.ZodType<TaskParams<K>, TaskParamsInput<K>>; result: z.ZodType<TaskResult<K>> } } = TASKS;

export const TASK_KINDS = Object.keys(TASKS) as TaskKind[];

export function isTaskKind(kind: string): kind is TaskKind {
  return Object.hasOwn(TASKS, kind);
}

/**
 * How long the agent may work on a task of these kinds. They run etcdctl, which can hang up to its
 * own limit on a member that is being removed or re-joined; the agent stops within this budget, and
 * the plane waits at least the budget plus `TASK_REPORT_MARGIN_MS`. Otherwise the plane could give
 * up on a task the agent is still running, and since an agent runs its tasks one at a time, the
 * next task (a reset, a join step) would wait behind it and fail as "not picked up".
 */
export const TASK_AGENT_BUDGET_MS: Partial<Record<TaskKind, number>> = {
  'etcd.snapshot': 30_000,
  'etcd.snapshot-verify': 20_000,
  'etcd.restore': 45_000,
};

/** Time the plane allows beyond the agent's budget for handing out the task and reporting its result. */
export const TASK_REPORT_MARGIN_MS = 10_000;

export function agentBudgetMs(kind: TaskKind): number | undefined {
  return TASK_AGENT_BUDGET_MS[kind];
}

/** The plane's deadline for a task of `kind`: what was asked for, never less than the agent's budget plus the margin. */
export function planeTimeoutMs(kind: TaskKind, requestedMs: number): number {
  const budget = TASK_AGENT_BUDGET_MS[kind];
  return budget === undefined ? requestedMs : Math.max(requestedMs, budget + TASK_REPORT_MARGIN_MS);
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): Checked<T> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: formatIssues(r.error.issues, where).join('; ') };
}

/** Parameters checked against the kind's schema; the error names the field (`params.file: ...`). */
export function checkParams<K extends TaskKind>(kind: K, params: unknown): Checked<TaskParams<K>> {
  return check(SCHEMAS[kind].params, params, 'params');
}

/** An agent's output checked against the kind's result schema; the error names the field (`result.members.0.id: ...`). */
export function checkResult<K extends TaskKind>(kind: K, output: unknown): Checked<TaskResult<K>> {
  return check(SCHEMAS[kind].result, output, 'result');
}
