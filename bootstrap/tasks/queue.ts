// The management plane's side of agent tasks: work is queued per node, handed out to that node's
// agent on its (long) poll, and the caller awaits the reported result with a deadline. Parameters
// are checked against the task contract before anything is queued, and a reported result against
// the kind's result schema before the caller sees it. Every state change is appended to `agent_tasks`.
// An agent acknowledges each task it received before running it (`acknowledge`): a task handed to a
// poll is no proof that it arrived, since the connection may have been gone by then.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Task, TaskResult as TaskReport } from '../../core/types.ts';
import type { Store } from '../../store/store.ts';
import { checkParams, checkResult, planeTimeoutMs, type TaskKind, type TaskParamsInput, type TaskResult } from './contract.ts';

const key = (cluster: string, node: string) => `${cluster}/${node}`;

/** How a task ended: the kind's result as the contract types it, or why there is none. */
export type TaskOutcome<K extends TaskKind> = { ok: true; taskId: string; output: TaskResult<K> } | { ok: false; taskId: string; error: string };

interface Settled {
  state: 'succeeded' | 'failed';
  output?: unknown;
  error?: string;
}

interface Inflight {
  task: Task;
  /** Checks the agent's report against the kind's result schema and hands it to the caller. */
  settle: (report: TaskReport) => Settled;
  fail: (error: string) => void;
  timer: NodeJS.Timeout;
  dispatched: boolean;
  /** The agent said it received the task and is running it. */
  acknowledged: boolean;
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
  /** When the agent last did something: a poll arrived, a task was acknowledged or reported. */
  private readonly lastSeen = new Map<string, number>();
  private readonly polling = new Map<string, number>();

  constructor(
    private readonly store: Pick<Store, 'insert'>,
    private readonly log: Logger,
    private readonly defaultTimeoutMs = 60_000,
  ) {}

  private recording: Promise<void> = Promise.resolve();

  /**
   * Which agent's queue a (cluster, node) names. By default the pair itself; the fleet routes a pool
   * node attached to a cluster (or being attached) to the agent's own queue: the agent polls as the
   * node it registered as, the engine addresses it as a node of the cluster.
   */
  private router: (cluster: string, node: string) => string = key;

  setRouter(router: (cluster: string, node: string) => { cluster: string; node: string }): void {
    this.router = (cluster, node) => {
      const r = router(cluster, node);
      return key(r.cluster, r.node);
    };
  }

  private keyOf(cluster: string, node: string): string {
    return this.router(cluster, node);
  }

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

  /**
   * Queues a task and resolves with its outcome; a task nobody picks up or finishes fails at the
   * deadline (never shorter than the agent's own budget for the kind, see the contract).
   * Parameters that break the contract are a TaskError here, and nothing is queued.
   */
  async run<K extends TaskKind>(cluster: string, node: string, kind: K, params: TaskParamsInput<K>, requestedMs = this.defaultTimeoutMs): Promise<TaskOutcome<K>> {
    const timeoutMs = planeTimeoutMs(kind, requestedMs);
    const id = `task-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const checked = checkParams(kind, params);
    if (!checked.ok) throw new TaskError({ id, cluster, node, kind, params: {}, createdAt: Date.now() }, checked.error);
    const task: Task = { id, cluster, node, kind, params: checked.value, createdAt: Date.now() };
    // Recorded in order but off the critical path: a slow store must not slow every step.
    void this.record(task, 'queued');
    return new Promise<TaskOutcome<K>>((resolve) => {
      const fail = (error: string) => resolve({ taskId: id, ok: false, error });
      const settle = (report: TaskReport): Settled => {
        if (!report.ok) {
          fail(report.error ?? 'failed');
          return { state: 'failed', output: report.output, error: report.error };
        }
        const result = checkResult(kind, report.output);
        if (!result.ok) {
          const error = `the agent's result does not match the task contract: ${result.error}`;
          fail(error);
          return { state: 'failed', output: report.output, error };
        }
        resolve({ taskId: id, ok: true, output: result.value });
        return { state: 'succeeded', output: report.output };
      };
      const timer = setTimeout(() => {
        const f = this.inflight.get(id);
        if (!f) return;
        this.inflight.delete(id);
        const k = this.keyOf(cluster, node);
        this.pending.set(k, (this.pending.get(k) ?? []).filter((t) => t.id !== id));
        const error = f.acknowledged
          ? `no result from the agent on ${node} within ${timeoutMs} ms`
          : f.dispatched
            ? `handed to a poll of the agent on ${node}, but never acknowledged within ${timeoutMs} ms (its connection was gone, or it restarted)`
            : `the agent on ${node} did not pick up the task within ${timeoutMs} ms (is it running and authorized?)`;
        void this.record(task, 'expired', { error });
        fail(error);
      }, timeoutMs);
      this.inflight.set(id, { task, settle, fail, timer, dispatched: false, acknowledged: false });
      const k = this.keyOf(cluster, node);
      this.pending.set(k, [...(this.pending.get(k) ?? []), task]);
      for (const wake of this.waiters.get(k) ?? []) wake();
    });
  }

  /** Like run, but returns the result or throws a TaskError carrying the agent's message. */
  async runOk<K extends TaskKind>(cluster: string, node: string, kind: K, params: TaskParamsInput<K>, timeoutMs?: number): Promise<TaskResult<K>> {
    const r = await this.run(cluster, node, kind, params, timeoutMs);
    if (!r.ok) throw new TaskError({ id: r.taskId, cluster, node, kind, params: {}, createdAt: 0 }, r.error);
    return r.output;
  }

  /** The agent's poll: returns queued tasks at once, or waits up to `waitMs` for one. */
  async poll(cluster: string, node: string, waitMs: number, signal?: AbortSignal): Promise<Task[]> {
    const k = this.keyOf(cluster, node);
    this.lastSeen.set(k, Date.now());
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
      // Not "seen" here: the end of a poll is the plane's doing, and its answer may go nowhere.
      this.polling.set(k, (this.polling.get(k) ?? 1) - 1);
    }
  }

  /**
   * The answer to a poll that handed out `tasks` never fully left (the connection closed first): the
   * agent cannot have parsed it, so the tasks it has not acknowledged go back to the front of the
   * node's queue for its next poll.
   */
  undelivered(cluster: string, node: string, tasks: Task[]): void {
    const k = this.keyOf(cluster, node);
    const back = tasks.filter((t) => {
      const f = this.inflight.get(t.id);
      if (!f || f.acknowledged) return false;
      f.dispatched = false;
      return true;
    });
    if (!back.length) return;
    this.pending.set(k, [...back, ...(this.pending.get(k) ?? [])]);
    this.log.debug({ node, tasks: back.map((t) => t.kind) }, 'poll answer not delivered; tasks queued again');
    for (const wake of this.waiters.get(k) ?? []) wake();
  }

  /** The agent on `node` received the task and runs it now; a task the plane no longer waits for is 'unknown' (the agent drops it). */
  acknowledge(cluster: string, node: string, taskId: string): 'accepted' | 'unknown' | 'forbidden' {
    const f = this.inflight.get(taskId);
    if (!f) return 'unknown';
    if (this.keyOf(f.task.cluster, f.task.node) !== this.keyOf(cluster, node)) return 'forbidden';
    f.acknowledged = true;
    this.lastSeen.set(this.keyOf(cluster, node), Date.now());
    return 'accepted';
  }

  /** A result reported by the agent on `node`; results for another node's task are refused. */
  complete(cluster: string, node: string, report: TaskReport): 'accepted' | 'unknown' | 'forbidden' {
    const f = this.inflight.get(report.taskId);
    if (!f) return 'unknown';
    if (this.keyOf(f.task.cluster, f.task.node) !== this.keyOf(cluster, node)) return 'forbidden';
    this.lastSeen.set(this.keyOf(cluster, node), Date.now());
    clearTimeout(f.timer);
    this.inflight.delete(report.taskId);
    const settled = f.settle(report);
    this.log.debug({ task: f.task.kind, node, state: settled.state, ms: Date.now() - f.task.createdAt }, 'task done');
    void this.record(f.task, settled.state, settled);
    return 'accepted';
  }

  /**
   * True while the node's agent has a poll open, is running a task it acknowledged, or polled,
   * acknowledged or reported within `withinMs`. A task merely handed to a poll does not count: the
   * poll's connection may have been gone, and then nothing runs it.
   */
  agentAlive(cluster: string, node: string, withinMs: number): boolean {
    const k = this.keyOf(cluster, node);
    if ((this.polling.get(k) ?? 0) > 0) return true;
    for (const f of this.inflight.values()) if (f.acknowledged && this.keyOf(f.task.cluster, f.task.node) === k) return true;
    return Date.now() - (this.lastSeen.get(k) ?? 0) <= withinMs;
  }

  /** Fails every waiting task (shutdown); resolves once their records are written. */
  close(): Promise<void> {
    for (const f of this.inflight.values()) {
      clearTimeout(f.timer);
      f.fail('management plane is stopping');
    }
    this.inflight.clear();
    for (const set of this.waiters.values()) for (const wake of set) wake();
    return this.flush();
  }
}
