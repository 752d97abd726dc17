// The agent's side of the task channel: long-polls GET /v1/agent/tasks with the node token, runs
// each task in order through the runner, and POSTs the result. A full agent embeds this; on its own
// it is the lightweight agent the etcd tests run per node.
import type { Component } from '../../core/component.ts';
import { Backoff, sleep } from '../../core/backoff.ts';
import type { Task, TaskResult } from '../../core/types.ts';
import type { TaskRunner } from './runner.ts';

export interface TaskPollerOptions {
  server: string;
  token: string;
  runner: Pick<TaskRunner, 'run'>;
  /** How requests reach the plane: the agent's pinned-CA HTTPS client, or fetch (the default). */
  fetch?: typeof fetch;
  /** How long one poll may wait on the server for work. */
  waitMs?: number;
  onError?: (err: Error) => void;
  onResult?: (task: Task, result: TaskResult) => void;
}

export function createTaskPoller(opts: TaskPollerOptions): Component & { readonly running: boolean } {
  const base = opts.server.replace(/\/$/, '');
  const waitMs = opts.waitMs ?? 20_000;
  let ac: AbortController | undefined;
  let loop: Promise<void> | undefined;
  const headers = { authorization: `Bearer ${opts.token}` };
  const send = opts.fetch ?? fetch;

  async function report(task: Task, result: TaskResult, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5_000 });
    // A result must not be lost: retry until the server takes it (or we are stopped).
    while (!signal.aborted) {
      try {
        const res = await send(`${base}/v1/agent/tasks/${encodeURIComponent(task.id)}/result`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(result),
          signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
        });
        if (res.ok || (res.status >= 400 && res.status < 500)) return;
      } catch (err) {
        if (signal.aborted) return;
        opts.onError?.(err as Error);
      }
      await sleep(backoff.next(), signal);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5_000 });
    while (!signal.aborted) {
      try {
        const res = await send(`${base}/v1/agent/tasks?waitMs=${waitMs}`, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(waitMs + 10_000)]) });
        if (!res.ok) throw new Error(`GET /v1/agent/tasks: ${res.status} ${await res.text()}`);
        const { tasks } = (await res.json()) as { tasks: Task[] };
        backoff.reset();
        for (const task of tasks) {
          const result = await opts.runner.run(task);
          opts.onResult?.(task, result);
          await report(task, result, signal);
        }
      } catch (err) {
        if (signal.aborted) return;
        opts.onError?.(err as Error);
        await sleep(backoff.next(), signal);
      }
    }
  }

  return {
    name: 'task-poller',
    get running() {
      return loop !== undefined;
    },
    async start() {
      if (loop) return;
      ac = new AbortController();
      loop = run(ac.signal);
    },
    async stop() {
      ac?.abort();
      await loop;
      loop = undefined;
    },
  };
}
