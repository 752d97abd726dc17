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

export type { EndpointStatus, MemberInfo } from './contract/etcd-members.ts';
export { snapshotStatus, type VerifiedSnapshot } from './contract/etcd-lifecycle.ts';

export interface TaskSpec {
  /** Strict: an unknown parameter is refused, never ignored. */
  params: z.ZodType;
  /** Not strict: a newer agent may report more than this plane reads. */
  result: z.ZodType;
}

export const TASKS = { ...pkiTasks, ...preflightTasks, ...etcdLifecycleTasks, ...etcdMemberTasks, ...nodeOpsTasks } satisfies Record<string, TaskSpec>;

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
