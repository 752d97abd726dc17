// A real Whistle process for crash tests: `whistle start -c <dir>/whistle.yaml --no-agent` as a
// child process on a fixed loopback port, started, killed with SIGKILL (no drain, no goodbye) and
// started again on the same data directory. Its output goes to <dir>/whistle-<n>.log for the
// failure message. Stopped by the test (`stop`), never left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';

const BIN = resolve('bin/whistle.js');

export interface WhistleProcessOptions {
  /** Data directory and where the config file and logs are written. */
  dir: string;
  /** The YAML config (as an object); `server.port` and `dataDir` are filled in. */
  config: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** How long `start` waits for /healthz. */
  startTimeoutMs?: number;
}

export class WhistleProcess {
  private proc: ChildProcess | null = null;
  private runs = 0;
  port = 0;
  url = '';

  constructor(private readonly opts: WhistleProcessOptions) {}

  get configPath(): string {
    return join(this.opts.dir, 'whistle.yaml');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<string> {
    if (this.proc) throw new Error('already running');
    this.port ||= await freePort();
    const server = { ...((this.opts.config.server as object | undefined) ?? {}), host: '127.0.0.1', port: this.port };
    writeFileSync(this.configPath, stringify({ dataDir: this.opts.dir, ...this.opts.config, server }));
    const log = createWriteStream(join(this.opts.dir, `whistle-${++this.runs}.log`));
    const proc = spawn(process.execPath, [BIN, 'start', '-c', this.configPath, '--no-agent'], {
      cwd: this.opts.dir,
      env: { ...process.env, WHISTLE_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
    this.proc = proc;
    this.url = `http://127.0.0.1:${this.port}`;
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`whistle exited with ${proc.exitCode} while starting; see ${join(this.opts.dir, `whistle-${this.runs}.log`)}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return this.url;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.kill();
    throw new Error(`whistle did not answer /healthz within ${this.opts.startTimeoutMs ?? 120_000} ms`);
  }

  /** SIGKILL: the process gets no chance to drain, flush or answer. Resolves once it is gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: the orderly stop `whistle start` does on Ctrl-C. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(sig);
    await exited;
  }
}
