// Whistle as `whistle start` builds it, from a YAML file, plus N lightweight agents (one per "node":
// its own 127.0.x.y address and data dir) running real etcd members with TLS. Each agent long-polls
// for tasks (the agent's real task poller and runner) and reports etcd telemetry through etcd3
// every `telemetryMs`. The chain under test is the shipped one: the detector engine runs
// etcd-quorum at its tick, incidents open, etcd-member-replace acts through agent tasks, tickets go
// to a Jira stand-in. Internals are reached only through `whistle.service(ref)`. With `external`,
// Whistle is a real `whistle start` process instead (test/harness/whistle-process.ts) that a test
// may SIGKILL and start again; then only its HTTP API is there. Everything listens on loopback and
// is stopped by `close()`.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { createTaskPoller } from '../../agent/tasks/poller.ts';
import type { Task, TaskResult } from '../../core/types.ts';
import { WhistleProcess } from '../harness/whistle-process.ts';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import { paths, type NodeEnv } from '../../agent/tasks/node-env.ts';
import { loadConfig } from '../../app/config.ts';
import { Whistle } from '../../app/whistle.ts';
import { EtcdTelemetry } from '../../bootstrap/etcd/telemetry.ts';
import { bootstrapServices } from '../../bootstrap/services.ts';
import type { Component } from '../../core/component.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { coreServices } from '../../core/services.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { JiraStandin } from '../standins/jira.ts';

export const OPERATOR_TOKEN = 'etcd-test-operator-token-0123456789';
const JOIN_TOKEN = 'etcd-test-join-token-0123456789';
const JIRA = { email: 'whistle@example.com', token: 'jira-test-token' };

export interface HarnessOptions {
  cluster?: string;
  /** Third octet of the node addresses (127.0.<subnet>.<i>); keep test files apart. */
  subnet: number;
  members: number;
  spares?: number;
  /** Configured nodes that have no agent (unreachable). */
  ghosts?: number;
  telemetryMs?: number;
  /** The `remediation:` section, over the harness's own (a high rate limit). */
  remediation?: Record<string, unknown>;
  snapshotIntervalS?: number;
  clientPort?: number;
  peerPort?: number;
  /** Run Whistle as a real `whistle start` process (`h.process`), not in this one. */
  external?: boolean;
  /** Every task an agent ran, with its result, just before the result is reported. */
  onTaskRun?: (node: string, task: Task, result: TaskResult) => void;
  /** A task an agent did not run because the plane did not confirm it still waits for it. */
  onTaskDropped?: (node: string, task: Task, why: string) => void;
}

export interface TestAgent {
  env: NodeEnv;
  token: string;
  poller: Component;
  telemetryTimer: NodeJS.Timeout | null;
  alive: boolean;
}

export class EtcdHarness {
  readonly dir: string;
  readonly cluster: string;
  /** The YAML Whistle was started from. */
  readonly configFile: string;
  agents: TestAgent[] = [];
  whistle!: Whistle;
  /** With `external`: the Whistle process. */
  process?: WhistleProcess;
  private readonly leftPolls = new AbortController();
  readonly jira = new JiraStandin(JIRA.email, JIRA.token);
  url = '';
  readonly log = pino({ level: process.env.WHISTLE_TEST_LOG ?? 'silent' });

  constructor(readonly opts: HarnessOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'whistle-etcd-'));
    this.cluster = opts.cluster ?? 'etcd-test';
    this.configFile = join(this.dir, 'whistle.yaml');
  }

  address(i: number): string {
    return `127.0.${this.opts.subnet}.${i + 1}`;
  }

  nodeName(i: number): string {
    return `n${i + 1}`;
  }

  /** The configuration, as an operator would write it for this machine. */
  private config(): Record<string, unknown> {
    const total = this.opts.members + (this.opts.spares ?? 0) + (this.opts.ghosts ?? 0);
    const config = {
      dataDir: this.dir,
      server: { host: '127.0.0.1', port: 0, operatorTokens: [{ name: 'tester', token: OPERATOR_TOKEN }] },
      writer: { flushIntervalMs: 100 },
      clusters: [{ name: this.cluster, joinToken: JOIN_TOKEN }],
      agent: { enabled: false },
      // Healing wants detection within about a second: a short tick, and a member whose reports
      // stopped 5 s ago is no longer current. The other detectors have nothing to read here and
      // would only compete for the two cores with 100 ms etcd heartbeats.
      detectors: onlyDetectors({ etcdQuorum: { freshMs: 5_000 } }, { tickMs: 500 }),
      incidents: { resolveWindowMs: 3_000, minOpenMs: 0, reopenWindowMs: 10_000, refreshMs: 1_000 },
      notifications: {
        groupWaitMs: 0,
        tickMs: 200,
        retry: { initialMs: 100, maxMs: 1_000 },
        channels: [{ type: 'jira', id: 'jira', url: this.jira.url, email: JIRA.email, apiToken: JIRA.token, project: 'OPS' }],
      },
      remediation: { rateLimit: { maxActions: 100, windowS: 600 }, ...(this.opts.remediation ?? {}) },
      etcd: {
        taskTimeoutMs: 30_000,
        agentGoneMs: 5_000,
        verifyTimeoutMs: 45_000,
        clusters: [
          {
            cluster: this.cluster,
            clientPort: this.opts.clientPort ?? 2379,
            peerPort: this.opts.peerPort ?? 2380,
            snapshots: { intervalS: this.opts.snapshotIntervalS ?? 0, retain: 3 },
            nodes: Array.from({ length: total }, (_, i) => ({ node: this.nodeName(i), address: this.address(i), role: i < this.opts.members ? 'member' : 'spare' })),
          },
        ],
      },
    };
    return config;
  }

  async start(): Promise<void> {
    await this.jira.start();
    if (this.opts.external) {
      // The process writes the same file (whistle.yaml in the data dir), with its port filled in.
      this.process = new WhistleProcess({ dir: this.dir, config: this.config() });
      this.url = await this.process.start();
    } else {
      writeFileSync(this.configFile, stringify(this.config()));
      // No environment overrides: the file alone says how this Whistle runs.
      this.whistle = await Whistle.create(loadConfig(this.configFile, {}), { logger: this.log });
      this.url = await this.whistle.start();
    }
    const total = this.opts.members + (this.opts.spares ?? 0);
    for (let i = 0; i < total; i++) this.agents.push(await this.startAgent(i));
  }


  get store() {
    return this.whistle.service(coreServices.store);
  }

  get engine() {
    return this.whistle.service(bootstrapServices.etcdEngine);
  }

  get recorder() {
    return this.whistle.service(remediationServices.recorder);
  }

  get approvals() {
    return this.whistle.service(remediationServices.approvals);
  }

  get incidents() {
    return this.whistle.service(incidentServices.manager);
  }

  async api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  private async startAgent(i: number): Promise<TestAgent> {
    const env: NodeEnv = { cluster: this.cluster, node: this.nodeName(i), address: this.address(i), dataRoot: join(this.dir, 'nodes', this.nodeName(i)), backupDir: join(this.dir, 'backups') };
    const reg = await fetch(`${this.url}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cluster: this.cluster, node: env.node, joinToken: JOIN_TOKEN, address: env.address }),
    });
    const { token } = (await reg.json()) as { token: string };
    const auth = await this.api('POST', `/v1/nodes/${this.cluster}/${env.node}/authorize`);
    if (auth.status !== 200) throw new Error(`authorize ${env.node}: ${JSON.stringify(auth.body)}`);
    const agent: TestAgent = { env, token, poller: createTaskPoller({
        server: this.url,
        token,
        runner: new TaskRunner({ env, timeoutMs: 60_000 }),
        waitMs: 10_000,
        onResult: (task, result) => this.opts.onTaskRun?.(env.node, task, result),
        onDropped: (task, why) => this.opts.onTaskDropped?.(env.node, task, why),
      }), telemetryTimer: null, alive: true };
    await agent.poller.start();
    this.startTelemetry(agent);
    return agent;
  }

  private startTelemetry(agent: TestAgent): void {
    const c = this.opts;
    const f = paths(agent.env);
    let telemetry: EtcdTelemetry | null = null;
    let busy = false;
    agent.telemetryTimer = setInterval(() => {
      if (busy || !existsSync(f.clientCert)) return;
      busy = true;
      telemetry ??= new EtcdTelemetry({
        cluster: this.cluster,
        node: agent.env.node,
        endpoint: `https://${agent.env.address}:${c.clientPort ?? 2379}`,
        tls: { ca: f.ca, cert: f.clientCert, key: f.key },
        quotaBackendBytes: 2 * 1024 ** 3,
        timeoutMs: 800,
      });
      void telemetry
        .collect()
        .then((samples) =>
          fetch(`${this.url}/v1/telemetry`, {
            method: 'POST',
            headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ cluster: this.cluster, node: agent.env.node, samples: samples.map(({ name, value, ts, labels }) => ({ name, value, ts, labels })) }),
          }),
        )
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, c.telemetryMs ?? 1_000);
  }

  async incidentList(detector = 'etcd-quorum'): Promise<IncidentView[]> {
    return this.incidents.list({ detector });
  }

  incident(id: string): IncidentView | undefined {
    return this.incidents.get(id);
  }

  /** The etcd pid on node i, if running. */
  pid(i: number): number | undefined {
    try {
      const pid = Number(readFileSync(paths(this.agents[i]!.env).pidFile, 'utf8'));
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /** Kills node i's etcd with SIGKILL (the agent stays up). */
  killMember(i: number): void {
    const pid = this.pid(i);
    if (pid) process.kill(pid, 'SIGKILL');
  }

  async bootstrap(): Promise<void> {
    const init = await this.api('POST', `/v1/etcd/${this.cluster}/init`, { node: this.nodeName(0) });
    if (init.status !== 200) throw new Error(`init: ${JSON.stringify(init.body)}`);
    for (let i = 1; i < this.opts.members; i++) {
      const r = await this.api('POST', `/v1/etcd/${this.cluster}/join`, { node: this.nodeName(i) });
      if (r.status !== 200) throw new Error(`join ${this.nodeName(i)}: ${JSON.stringify(r.body)}`);
    }
  }

  /** The whole node dies: its agent stops polling and reporting, and its etcd is killed. */
  async killNode(i: number): Promise<void> {
    const a = this.agents[i]!;
    if (a.telemetryTimer) clearInterval(a.telemetryTimer);
    a.telemetryTimer = null;
    await a.poller.stop();
    a.alive = false;
    this.killMember(i);
  }

  /**
   * Node i dies, but the plane keeps seeing its agent poll for tasks: what a node that died behind a
   * half-open connection (or with a wedged task runner) looks like. Whatever it is handed is never
   * run or answered.
   */
  async killNodeLeavingPoll(i: number): Promise<void> {
    await this.killNode(i);
    const { token } = this.agents[i]!;
    const signal = this.leftPolls.signal;
    void (async () => {
      while (!signal.aborted) {
        await fetch(`${this.url}/v1/agent/tasks?waitMs=1000`, { headers: { authorization: `Bearer ${token}` }, signal })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
      }
    })();
  }

  /** TLS files of node i's client certificate, for test clients. */
  tls(i = 0) {
    const f = paths(this.agents[i]!.env);
    return { ca: f.ca, cert: f.clientCert, key: f.key };
  }

  credentials(i = 0) {
    const t = this.tls(i);
    return { rootCertificate: readFileSync(t.ca), certChain: readFileSync(t.cert), privateKey: readFileSync(t.key) };
  }

  endpoints(): string[] {
    return this.agents.slice(0, this.opts.members + (this.opts.spares ?? 0)).map((a) => `https://${a.env.address}:${this.opts.clientPort ?? 2379}`);
  }

  async close(): Promise<void> {
    this.leftPolls.abort();
    for (const a of this.agents) {
      if (a.telemetryTimer) clearInterval(a.telemetryTimer);
      await a.poller.stop().catch(() => undefined);
    }
    for (let i = 0; i < this.agents.length; i++) {
      const pid = this.pid(i);
      if (pid) process.kill(pid, 'SIGKILL');
    }
    await this.whistle?.stop().catch(() => undefined);
    await this.process?.kill().catch(() => undefined);
    await this.jira.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
