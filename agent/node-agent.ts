// The node agent (`whistle agent`): every intervalMs it runs all collectors and probes, stamps the
// results with one timestamp and appends them to the on-disk spool; a sender drains the spool to the
// management plane independently. Collection never waits for the network, and the network never
// loses what was collected (see spool.ts and sender.ts for the guarantees).
//
//   collectors ──tick──> spool (stateDir/spool) ──sender──> POST /v1/telemetry
//                              └── rejected for good ──> stateDir/dead-letter
//
// Over HTTPS the sender and the task poller share one connection (plane-connection.ts): the plane's
// CA pinned in stateDir/plane-ca.crt, this node's client certificate in stateDir/tls.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { AgentConfig } from './config.ts';
import type { Component } from '../core/component.ts';
import type { Logger } from '../core/log.ts';
import { defaultCollectors } from './collectors/index.ts';
import { ComponentVersionsCollector } from './collectors/component-versions.ts';
import { EtcdCollector } from './collectors/etcd.ts';
import { AgentTaskWorker } from './tasks/agent-task-worker.ts';
import type { NodeEnv } from './tasks/node-env.ts';
import type { Collector, Point, WireSample } from './collectors/types.ts';
import { DeadLetter } from './dead-letter.ts';
import { plainConnection, TlsPlaneConnection, type PlaneConnection } from './plane-connection.ts';
import { AGENT_VERSION, defaultAddress, defaultNodeName } from './identity.ts';
import { Sender } from './sender.ts';
import { Spool } from './spool.ts';
import { AgentStats } from './stats.ts';
import { TokenStore } from './token-store.ts';

export interface NodeAgentOptions {
  logger: Logger;
  /** Where the agent's own whistle_agent_* metrics are registered as well (e.g. the process /metrics). */
  registry?: Registry;
  /** Replaces the transport to the plane (tests inject faults); the config's TLS settings are then not used. */
  fetch?: typeof fetch;
  /** Replaces the collectors built from the config (tests use deterministic ones). */
  collectors?: Collector[];
  /** Registration details; default to this machine's. */
  address?: string;
  /** Add the whistle_agent_* self-monitoring samples to every collection (default true). */
  selfMetrics?: boolean;
}

/** A collector that does not answer within this long is counted as failed for the tick. */
const MIN_COLLECTOR_DEADLINE_MS = 10_000;

export class NodeAgent implements Component {
  readonly name = 'agent';
  readonly cluster: string;
  readonly node: string;
  readonly stateDir: string;
  readonly stats: AgentStats;
  private readonly collectors: Collector[];
  private readonly log: Logger;
  private spool: Spool | undefined;
  private sender: Sender | undefined;
  private connection: PlaneConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private currentTick: Promise<void> | undefined;
  private nextAt = 0;
  private starting: Promise<void> | undefined;
  private tasks: AgentTaskWorker | undefined;
  private readonly taskEnv: NodeEnv | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly opts: NodeAgentOptions,
  ) {
    this.cluster = cfg.cluster;
    this.node = cfg.node ?? defaultNodeName();
    this.stateDir = resolve(cfg.stateDir);
    this.log = opts.logger;
    this.stats = new AgentStats(opts.registry);
    this.collectors = opts.collectors ?? defaultCollectors(cfg);
    const dataRoot = resolve(cfg.tasks.dataRoot ?? join(this.stateDir, 'node'));
    // Versions are telemetry: reported whenever components are configured, tasks on or off.
    if (!opts.collectors && cfg.tasks.packages.length > 0) this.collectors.push(new ComponentVersionsCollector(cfg.tasks.packages, dataRoot));
    if (cfg.tasks.enabled) {
      this.taskEnv = {
        cluster: this.cluster,
        node: this.node,
        address: cfg.tasks.address,
        dataRoot,
        backupDir: resolve(cfg.tasks.backupDir ?? join(this.stateDir, 'backups')),
        diskCleanup: cfg.tasks.diskCleanup,
        services: cfg.tasks.services,
        packages: cfg.tasks.packages,
      };
      if (!opts.collectors && cfg.tasks.etcdMember) this.collectors.push(new EtcdCollector(this.taskEnv, cfg.tasks.etcdClientPort, cfg.tasks.etcdQuotaBackendBytes));
    }
  }

  /** The spool, once started (tests and the CLI look at its depth). */
  get queue(): Spool | undefined {
    return this.spool;
  }

  /** The node token issued at registration, once there is one (the task poller authenticates with it). */
  get nodeToken(): string | undefined {
    return this.sender?.nodeToken;
  }

  start(): Promise<void> {
    this.starting ??= this.startNow();
    return this.starting;
  }

  private async startNow(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const deadLetter = new DeadLetter(join(this.stateDir, 'dead-letter'), this.cfg.maxDeadLetterFiles);
    await deadLetter.init();
    const spool = await Spool.open({
      dir: join(this.stateDir, 'spool'),
      maxBytes: this.cfg.maxSpoolBytes,
      maxBatchSamples: this.cfg.maxBatchSamples,
      maxBatchBytes: this.cfg.maxBatchBytes,
      deadLetter,
      logger: this.log,
    });
    this.spool = spool;
    this.stats.watchSpool(() => ({ bytes: spool.bytes, batches: spool.batches, samples: spool.samples, droppedSamples: spool.droppedSamples }));
    if (this.stopping) return;
    const connection = this.connect();
    this.connection = connection;
    this.sender = new Sender({
      server: this.cfg.server,
      cluster: this.cluster,
      node: this.node,
      joinToken: this.cfg.joinToken,
      address: this.opts.address ?? this.registrationAddress(),
      agentVersion: AGENT_VERSION,
      zone: this.cfg.zone,
      requestTimeoutMs: this.cfg.requestTimeoutMs,
      retryInitialMs: this.cfg.retryInitialMs,
      retryMaxMs: this.cfg.retryMaxMs,
      spool,
      deadLetter,
      tokens: new TokenStore(this.stateDir),
      stats: this.stats,
      logger: this.log,
      connection,
    });
    await this.sender.start();
    if (this.taskEnv) {
      this.tasks = new AgentTaskWorker({
        server: this.cfg.server,
        env: this.taskEnv,
        token: () => this.nodeToken,
        taskTimeoutMs: this.cfg.tasks.taskTimeoutMs,
        logger: this.log,
        fetch: connection.fetch,
      });
      await this.tasks.start();
    }
    this.log.info(
      { cluster: this.cluster, node: this.node, server: this.cfg.server, stateDir: this.stateDir, intervalMs: this.cfg.intervalMs, collectors: this.collectors.map((c) => c.name), spooledSamples: spool.samples },
      'node agent started',
    );
    this.nextAt = Date.now();
    this.runTick();
  }

  /** Stops collecting, finishes the tick in progress (its samples reach the spool), lets the request in flight finish. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    await this.starting?.catch(() => {});
    clearTimeout(this.timer);
    await this.tasks?.stop();
    await this.currentTick;
    await this.sender?.stop();
    this.connection?.close();
    await this.spool?.flush();
    if (this.starting) this.log.info({ spooledSamples: this.spool?.samples ?? 0 }, 'node agent stopped');
  }

  /**
   * The address the plane records for this node: the one etcd binds when the node runs bootstrap
   * tasks on an address of its own (peers and preflight dial it), else this machine's.
   */
  private registrationAddress(): string {
    return this.cfg.tasks.enabled && this.cfg.tasks.address !== '127.0.0.1' ? this.cfg.tasks.address : defaultAddress();
  }

  private connect(): PlaneConnection {
    if (this.opts.fetch) return plainConnection(this.opts.fetch);
    if (new URL(this.cfg.server).protocol !== 'https:') return plainConnection(fetch);
    if (!this.cfg.caCertHash) throw new Error(`agent.caCertHash is needed to talk to ${this.cfg.server}: whistle join-command prints it`);
    return new TlsPlaneConnection({
      server: this.cfg.server,
      caCertHash: this.cfg.caCertHash,
      stateDir: this.stateDir,
      timeoutMs: this.cfg.requestTimeoutMs,
      cluster: this.cluster,
      node: this.node,
      logger: this.log,
    });
  }

  private runTick(): void {
    this.currentTick = this.tick().finally(() => {
      this.currentTick = undefined;
      this.scheduleNext();
    });
  }

  /** Fixed cadence; a tick that overran is followed at once, not by a burst of catch-up ticks. */
  private scheduleNext(): void {
    if (this.stopping) return;
    const now = Date.now();
    this.nextAt = Math.max(this.nextAt + this.cfg.intervalMs, now);
    this.timer = setTimeout(() => this.runTick(), this.nextAt - now);
  }

  /** One collection: every collector in parallel, one timestamp, appended to the spool. */
  async tick(): Promise<void> {
    const ts = Date.now();
    const started = performance.now();
    const deadline = Math.max(this.cfg.intervalMs, MIN_COLLECTOR_DEADLINE_MS);
    const results = await Promise.allSettled(this.collectors.map((c) => withDeadline(c.collect(ts), deadline, c.name)));
    const points: Point[] = [];
    results.forEach((r, i) => {
      const name = this.collectors[i]!.name;
      if (r.status === 'fulfilled') {
        points.push(...r.value);
      } else {
        this.stats.collectorError(name);
        this.log.warn({ collector: name, err: r.reason as unknown }, 'collector failed');
      }
    });
    this.stats.lastCollectionSeconds = (performance.now() - started) / 1000;
    if (this.opts.selfMetrics ?? true) points.push(...this.stats.points(this.collectors.map((c) => c.name)));
    // JSON has no NaN/Infinity: one such value would make the server reject the whole batch.
    const samples: WireSample[] = [];
    for (const p of points) {
      if (Number.isFinite(p.value)) samples.push({ name: p.name, value: p.value, ts, labels: p.labels });
      else this.log.debug({ name: p.name, labels: p.labels }, 'dropping a non-finite value');
    }
    try {
      await this.spool!.append(samples);
      this.stats.collected(samples.length);
    } catch (err) {
      this.log.error({ err, samples: samples.length, dir: join(this.stateDir, 'spool') }, 'cannot write the collection to the spool: it is lost');
    }
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function createNodeAgent(cfg: AgentConfig, opts: NodeAgentOptions): NodeAgent {
  return new NodeAgent(cfg, opts);
}
