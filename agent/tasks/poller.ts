// The agent's side of the task channel: long-polls GET /v1/agent/tasks with the node token, runs
// each task in order through the runner, and POSTs the result. Before running a task it acknowledges
// it (when the plane asks for that): the plane counts the agent alive on that, and a task the plane
// no longer waits for (expired, or the plane restarted and forgot it) is dropped, not run. A step
// nobody awaits would otherwise be carried out behind the back of whoever plans the next one.
// A full agent embeds this; on its own it is the lightweight agent the etcd tests run per node.
import type { Component } from '../../core/component.ts';
import { Backoff, sleep } from '../../core/backoff.ts';
import type { Task, TaskResult } from '../../core/types.ts';
import type { TaskRunner } from './runner.ts';
import { withDeadline } from '../../core/deadline.ts';

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
  /** A task that was not run because the plane did not confirm it still waits for it. */
  onDropped?: (task: Task, why: string) => void;
}

/** How long the agent tries to acknowledge a task before dropping it. */
const ACK_TRY_MS = 5_000;

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
        const status = await withDeadline(signal, 10_000, async (s) => {
          const res = await send(`${base}/v1/agent/tasks/${encodeURIComponent(task.id)}/result`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(result),
            signal: s,
          });
          await res.arrayBuffer();
          return res.status;
        });
        if ((status >= 200 && status < 300) || (status >= 400 && status < 500)) return;
      } catch (err) {
        if (signal.aborted) return;
        opts.onError?.(err as Error);
      }
      await sleep(backoff.next(), signal);
    }
  }

  /** True when the plane confirms it waits for the task; false (and why) when it does not or cannot be reached. */
  async function acknowledge(task: Task, signal: AbortSignal): Promise<{ ok: true } | { ok: false; why: string }> {
    const deadline = Date.now() + ACK_TRY_MS;
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 });
    let why = 'no answer';
    while (!signal.aborted && Date.now() < deadline) {
      try {
        const res = await withDeadline(signal, Math.max(1, deadline - Date.now()), async (s) => {
          const r = await send(`${base}/v1/agent/tasks/${encodeURIComponent(task.id)}/ack`, { method: 'POST', headers, signal: s });
          return { ok: r.ok, status: r.status, text: await r.text() };
        });
        if (res.ok) return { ok: true };
        why = `${res.status} ${res.text.slice(0, 200)}`;
        if (res.status >= 400 && res.status < 500) return { ok: false, why };
      } catch (err) {
        if (signal.aborted) break;
        why = (err as Error).message;
      }
      await sleep(Math.min(backoff.next(), Math.max(0, deadline - Date.now())), signal);
    }
    return { ok: false, why };
  }

  async function run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5_000 });
    while (!signal.aborted) {
      try {
        const { tasks, ack } = await withDeadline(signal, waitMs + 10_000, async (s) => {
          const res = await send(`${base}/v1/agent/tasks?waitMs=${waitMs}`, { headers, signal: s });
          if (!res.ok) throw new Error(`GET /v1/agent/tasks: ${res.status} ${await res.text()}`);
          return (await res.json()) as { tasks: Task[]; ack?: boolean };
        });
        backoff.reset();
        for (const task of tasks) {
          if (ack) {
            const acked = await acknowledge(task, signal);
            if (signal.aborted) return;
            if (!acked.ok) {
              opts.onDropped?.(task, acked.why);
              continue;
            }
          }
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
