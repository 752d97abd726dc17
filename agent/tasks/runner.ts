// Runs one task: the kind must be in the task contract (the allow-list), the parameters must pass
// the kind's strict schema (the error names the bad field), and the work is bounded by a timeout.
// Never throws: every outcome becomes a TaskResult to report.
import { checkParams, isTaskKind, TASK_KINDS, type TaskKind, type TaskResult as KindResult } from '../../bootstrap/tasks/contract.ts';
import type { Task, TaskResult } from '../../core/types.ts';
import { POOL } from '../../core/clusters/pool.ts';
import type { NodeEnv } from './node-env.ts';
import { TASK_HANDLERS } from './registry.ts';

export interface TaskRunnerOptions {
  env: NodeEnv;
  timeoutMs?: number;
}

type Prepared<K extends TaskKind> = { ok: true; run: (signal: AbortSignal) => Promise<KindResult<K>> } | { ok: false; error: string };

export class TaskRunner {
  readonly env: NodeEnv;
  private readonly timeoutMs: number;

  constructor(opts: TaskRunnerOptions) {
    this.env = opts.env;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  async run(task: Task): Promise<TaskResult> {
    const done = (ok: boolean, output: Record<string, unknown>, error?: string): TaskResult => ({ taskId: task.id, ok, output, error, finishedAt: Date.now() });
    if (!isTaskKind(task.kind)) return done(false, {}, `task kind "${task.kind}" is not allowed (allowed: ${TASK_KINDS.join(', ')})`);
    // A pool node runs the tasks of whichever cluster it is attached to: the plane routes them to it by its token.
    if ((task.cluster !== this.env.cluster && this.env.cluster !== POOL) || task.node !== this.env.node) return done(false, {}, `task is for ${task.cluster}/${task.node}, this agent is ${this.env.cluster}/${this.env.node}`);
    const checked = this.prepare(task.kind, task.params ?? {});
    if (!checked.ok) return done(false, {}, `${task.kind}: ${checked.error}`);
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const output = await Promise.race([
        checked.run(ac.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            ac.abort();
            reject(new Error(`${task.kind} timed out after ${this.timeoutMs} ms`));
          }, this.timeoutMs);
        }),
      ]);
      return done(true, output);
    } catch (err) {
      return done(false, {}, (err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Checks the parameters against the contract and binds them to the kind's handler. */
  private prepare<K extends TaskKind>(kind: K, params: unknown): Prepared<K> {
    const checked = checkParams(kind, params);
    if (!checked.ok) return checked;
    const handler = TASK_HANDLERS[kind];
    return { ok: true, run: (signal) => handler(checked.value, this.env, signal) };
  }
}
