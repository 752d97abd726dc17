// The management plane's side of agent tasks: work is queued per node, handed out to that node's
// agent on its (long) poll, and the caller awaits the reported result with a deadline. Every state
// change is appended to `agent_tasks`.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Task, TaskResult } from '../../core/types.ts';
import type { Store } from '../../store/store.ts';

const key = (cluster: string, node: string) => `${cluster}/${node}`;

interface Inflight {
  task: Task;
  resolve: (r: TaskResult) => void;
  timer: NodeJS.Timeout;
  dispatched: boolean;
}

export class TaskError extends Error {
  constructor(
    readonly task: Task,
    message: string,
  ) {
    super(`${task.node}: ${task.kind}: ${message}`);
    this.name = 'TaskError';
  }
}

export class TaskQueue {
  private readonly pending = new Map<string, Task[]>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly inflight = new Map<string, Inflight>();
  private readonly lastPoll = new Map<string, number>();
  private readonly polling = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly defaultTimeoutMs = 60_000,
  ) {}

  private recording: Promise<void> = Promise.resolve();

  /** Appends a task state row; rows are written one after another, so their order is kept. */
  private record(task: Task, state: string, extra: { output?: unknown; error?: string } = {}): Promise<void> {
    this.recording = this.recording.then(() => this.write(task, state, extra));
    return this.recording;
  }

  /** Resolves once every task state so far is written. */
  flush(): Promise<void> {
    return this.recording;
  }

  private async write(task: Task, state: string, extra: { output?: unknown; error?: string }): Promise<void> {
    try {
      await this.store.insert('agent_tasks', [
        {
          ts: Date.now(),
          id: task.id,
          cluster: task.cluster,
          node: task.node,
          kind: task.kind,
          state,
          params: state === 'queued' ? JSON.stringify(task.params) : '',
          output: extra.output === undefined ? '' : JSON.stringify(extra.output),
          error: extra.error ?? '',
        },
      ]);
    } catch (err) {
      this.log.error({ err: (err as Error).message, task: task.id }, 'recording task state failed');
    }
  }

  /** Queues a task and resolves with its result; a task nobody picks up or finishes fails at the deadline. */
  async run(cluster: string, node: string, kind: string, params: Record<string, unknown> = {}, timeoutMs = this.defaultTimeoutMs): Promise<TaskResult> {
    const task: Task = { id: `task-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`, cluster, node, kind, params, createdAt: Date.now() };
    // Recorded in order but off the critical path: a slow store must not slow every step.
    void this.record(task, 'queued');
    return new Promise<TaskResult>((resolve) => {
      const timer = setTimeout(() => {
        const f = this.inflight.get(task.id);
        if (!f) return;
        this.inflight.delete(task.id);
        const k = key(cluster, node);
        this.pending.set(k, (this.pending.get(k) ?? []).filter((t) => t.id !== task.id));
        const error = f.dispatched
          ? `no result from the agent on ${node} within ${timeoutMs} ms`
          : `the agent on ${node} did not pick up the task within ${timeoutMs} ms (is it running and authorized?)`;
        void this.record(task, 'expired', { error });
        resolve({ taskId: task.id, ok: false, output: {}, error, finishedAt: Date.now() });
      }, timeoutMs);
      this.inflight.set(task.id, { task, resolve, timer, dispatched: false });
      const k = key(cluster, node);
      this.pending.set(k, [...(this.pending.get(k) ?? []), task]);
      for (const wake of this.waiters.get(k) ?? []) wake();
    });
  }

  /** Like run, but returns the output or throws a TaskError carrying the agent's message. */
  async runOk<T = Record<string, unknown>>(cluster: string, node: string, kind: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const r = await this.run(cluster, node, kind, params, timeoutMs);
    if (!r.ok) throw new TaskError({ id: r.taskId, cluster, node, kind, params, createdAt: 0 }, r.error ?? 'failed');
    return r.output as T;
  }

  /** The agent's poll: returns queued tasks at once, or waits up to `waitMs` for one. */
  async poll(cluster: string, node: string, waitMs: number, signal?: AbortSignal): Promise<Task[]> {
    const k = key(cluster, node);
    this.lastPoll.set(k, Date.now());
    this.polling.set(k, (this.polling.get(k) ?? 0) + 1);
    try {
      if (!(this.pending.get(k)?.length) && waitMs > 0) {
        await new Promise<void>((resolve) => {
          const set = this.waiters.get(k) ?? new Set();
          this.waiters.set(k, set);
          const done = () => {
            clearTimeout(timer);
            set.delete(done);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          set.add(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
      const tasks = this.pending.get(k) ?? [];
      this.pending.set(k, []);
      if (signal?.aborted) {
        // The agent went away before it got them: keep them for its next poll.
        this.pending.set(k, [...tasks, ...(this.pending.get(k) ?? [])]);
        return [];
      }
      for (const t of tasks) {
        const f = this.inflight.get(t.id);
        if (f) f.dispatched = true;
        void this.record(t, 'dispatched');
      }
      return tasks;
    } finally {
      this.lastPoll.set(k, Date.now());
      this.polling.set(k, (this.polling.get(k) ?? 1) - 1);
    }
  }

  /** A result reported by the agent on `node`; results for another node's task are refused. */
  complete(cluster: string, node: string, result: TaskResult): 'accepted' | 'unknown' | 'forbidden' {
    const f = this.inflight.get(result.taskId);
    if (!f) return 'unknown';
    if (f.task.cluster !== cluster || f.task.node !== node) return 'forbidden';
    clearTimeout(f.timer);
    this.inflight.delete(result.taskId);
    this.log.debug({ task: f.task.kind, node, ok: result.ok, ms: Date.now() - f.task.createdAt }, 'task done');
    void this.record(f.task, result.ok ? 'succeeded' : 'failed', { output: result.output, error: result.error });
    f.resolve(result);
    return 'accepted';
  }

  /** True while the node's agent is polling, running a task it took, or polled within `withinMs`. */
  agentAlive(cluster: string, node: string, withinMs: number): boolean {
    const k = key(cluster, node);
    if ((this.polling.get(k) ?? 0) > 0) return true;
    for (const f of this.inflight.values()) if (f.dispatched && f.task.cluster === cluster && f.task.node === node) return true;
    return Date.now() - (this.lastPoll.get(k) ?? 0) <= withinMs;
  }

  /** Fails every waiting task (shutdown); resolves once their records are written. */
  close(): Promise<void> {
    for (const [id, f] of this.inflight) {
      clearTimeout(f.timer);
      f.resolve({ taskId: id, ok: false, output: {}, error: 'management plane is stopping', finishedAt: Date.now() });
    }
    this.inflight.clear();
    for (const set of this.waiters.values()) for (const wake of set) wake();
    return this.flush();
  }
}
