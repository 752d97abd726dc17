// Runs the task poller inside the full node agent: it waits until the agent holds a node token,
// polls with it, and starts over with the new one when the agent re-registers.
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import { sleep } from '../../core/backoff.ts';
import type { NodeEnv } from './node-env.ts';
import { createTaskPoller } from './poller.ts';
import { TaskRunner } from './runner.ts';

export interface AgentTaskWorkerOptions {
  server: string;
  env: NodeEnv;
  token: () => string | undefined;
  taskTimeoutMs: number;
  logger: Logger;
  /** How often to look for a (new) token. */
  checkEveryMs?: number;
  /** The agent's transport to the plane (pinned CA and client certificate over HTTPS); default: fetch. */
  fetch?: typeof fetch;
}

export class AgentTaskWorker implements Component {
  readonly name = 'agent-tasks';
  private readonly runner: TaskRunner;
  private poller: ReturnType<typeof createTaskPoller> | undefined;
  private token: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly ac = new AbortController();

  constructor(private readonly opts: AgentTaskWorkerOptions) {
    this.runner = new TaskRunner({ env: opts.env, timeoutMs: opts.taskTimeoutMs });
  }

  async start(): Promise<void> {
    this.loop ??= this.watchToken();
  }

  private async watchToken(): Promise<void> {
    while (!this.ac.signal.aborted) {
      const token = this.opts.token();
      if (token && token !== this.token) {
        await this.poller?.stop();
        this.token = token;
        this.poller = createTaskPoller({
          server: this.opts.server,
          token,
          runner: this.runner,
          fetch: this.opts.fetch,
          onError: (err) => this.opts.logger.debug({ err: err.message }, 'task poll failed; retrying'),
          onResult: (task, result) => this.opts.logger.info({ task: task.kind, id: task.id, ok: result.ok, error: result.error }, 'task done'),
        });
        await this.poller.start();
        this.opts.logger.info({ node: this.opts.env.node }, 'polling for bootstrap tasks');
      }
      await sleep(this.opts.checkEveryMs ?? 1_000, this.ac.signal);
    }
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.loop;
    await this.poller?.stop();
  }
}
