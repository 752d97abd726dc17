// A task handler does one contract kind's work on this node. The contract fixes what it receives
// (already checked by the runner, defaults filled in) and what it must return.
import type { TaskKind, TaskParams, TaskResult } from '../../bootstrap/tasks/contract.ts';
import type { NodeEnv } from './node-env.ts';

export type TaskHandler<K extends TaskKind> = (params: TaskParams<K>, env: NodeEnv, signal: AbortSignal) => Promise<TaskResult<K>>;

/** Exactly one handler per contract kind: a missing or an extra kind does not compile. */
export type TaskHandlers = { [K in TaskKind]: TaskHandler<K> };
