// Runs one task: the kind must be on the allow-list, the parameters must pass the kind's strict
// schema (the error names the bad field), and the work is bounded by a timeout. Never throws: every
// outcome becomes a TaskResult to report.
import type { Task, TaskResult } from '../../core/types.ts';
import type { NodeEnv } from './node-env.ts';
import { ALLOWED_TASKS } from './registry.ts';
import type { TaskKind } from './task-kind.ts';

export interface TaskRunnerOptions {
  env: NodeEnv;
  timeoutMs?: number;
  kinds?: readonly TaskKind[];
}

export class TaskRunner {
  private readonly kinds: Map<string, TaskKind>;
  readonly env: NodeEnv;
  private readonly timeoutMs: number;

  constructor(opts: TaskRunnerOptions) {
    this.env = opts.env;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.kinds = new Map((opts.kinds ?? ALLOWED_TASKS).map((k) => [k.kind, k]));
  }

  async run(task: Task): Promise<TaskResult> {
    const done = (ok: boolean, output: Record<string, unknown>, error?: string): TaskResult => ({ taskId: task.id, ok, output, error, finishedAt: Date.now() });
    const kind = this.kinds.get(task.kind);
    if (!kind) return done(false, {}, `task kind "${task.kind}" is not allowed (allowed: ${[...this.kinds.keys()].join(', ')})`);
    if (task.cluster !== this.env.cluster || task.node !== this.env.node) return done(false, {}, `task is for ${task.cluster}/${task.node}, this agent is ${this.env.cluster}/${this.env.node}`);
    const parsed = kind.schema.safeParse(task.params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `params.${issue.path.join('.')}` : 'params';
      return done(false, {}, `${task.kind}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const output = await Promise.race([
        kind.run(parsed.data, this.env, ac.signal),
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
}
