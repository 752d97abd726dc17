// The detector engine: on every tick, runs each enabled detector for each cluster and hands every
// successful run's complete verdict to the FindingSink. A run that throws, times out, returns
// something that is not a list of findings, or is still busy from the previous tick produces no
// report (so its incidents neither open nor resolve on a guess), is counted in
// whistle_detector_errors_total, and does not hold up the others: a timed-out run is abandoned (its
// AbortSignal fires) and its slot is freed. Ticks never overlap.
import type { Logger } from 'pino';
import type { Component } from '../core/component.ts';
import type { ClusterStateReader } from '../core/kube.ts';
import type { Registry } from '../core/metrics.ts';
import type { FindingSink } from '../core/pipeline.ts';
import type { Finding, RegisteredNode } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { DetectorContext, RegisteredNodeInfo } from './api.ts';
import type { DetectorsConfig } from './config.ts';
import { SqlTelemetry } from './context.ts';
import type { LoadedDetector } from './loader.ts';
import { createDetectorMetrics, type DetectorErrorReason, type DetectorMetrics } from './metrics.ts';

export interface EngineOptions {
  store: Store;
  config: DetectorsConfig;
  detectors: LoadedDetector[];
  sink: FindingSink;
  registry: Registry;
  log: Logger;
  /** Clusters from the configuration; clusters with registered nodes are added. */
  clusters: () => readonly string[];
  /** The node registry (ingest/node-registry.ts) or anything listing registered nodes. */
  nodes: { list(cluster?: string): RegisteredNode[] };
  /** Kubernetes state (ingest/kube/state-reader.ts); a cluster that is not watched reads as no data. */
  clusterState: ClusterStateReader;
  now?: () => number;
}

export type RunOutcome = 'ok' | DetectorErrorReason;

export interface RunResult {
  cluster: string;
  detector: string;
  outcome: RunOutcome;
  findings: number;
  ms: number;
  error?: string;
}

export interface TickResult {
  ts: number;
  ms: number;
  runs: RunResult[];
}

const SEVERITIES = new Set(['info', 'warning', 'critical']);

export class DetectorEngine implements Component {
  readonly name = 'detectors';
  private readonly metrics: DetectorMetrics;
  private readonly telemetry = new Map<string, SqlTelemetry>();
  private readonly running = new Set<string>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<TickResult> | null = null;
  private stopped = false;
  private started = false;
  /** Listeners for each finished tick (benchmarks, tests). */
  readonly onTick: ((t: TickResult) => void)[] = [];
  /** Called after every telemetry query (benchmarks); empty in production, so no timing is kept. */
  readonly onQuery: ((label: string, ms: number, rows: number) => void)[] = [];

  constructor(private readonly opts: EngineOptions) {
    this.metrics = createDetectorMetrics(opts.registry);
    this.now = opts.now ?? Date.now;
    if (opts.store.dialect !== 'modern') {
      opts.log.error('detectors need the modern ClickHouse schema (chDB or a ClickHouse server >= 22); they will not run on this legacy server');
    }
  }

  get enabled(): string[] {
    return this.opts.detectors.filter((d) => d.enabled).map((d) => d.detector.id);
  }

  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    if (this.opts.store.dialect !== 'modern') return;
    this.opts.log.info({ detectors: this.enabled, tickMs: this.opts.config.tickMs }, 'detector engine started');
    this.schedule(this.opts.config.tickMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const started = Date.now();
      this.tick()
        .catch((err: unknown) => this.opts.log.error({ err: (err as Error).message }, 'detector tick failed'))
        .finally(() => this.schedule(Math.max(0, this.opts.config.tickMs - (Date.now() - started))));
    }, delayMs);
    this.timer.unref?.();
  }

  /** Stops scheduling and waits for the tick in progress (not for abandoned, timed-out runs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.catch(() => {});
  }

  /** Clusters to evaluate: the configured ones plus any with registered nodes. */
  clusters(): string[] {
    const set = new Set(this.opts.clusters());
    for (const n of this.opts.nodes.list()) set.add(n.cluster);
    return [...set].sort();
  }

  /** Runs one complete tick now (the scheduler calls it; tests and benchmarks may too). Ticks queue, never overlap. */
  async tick(): Promise<TickResult> {
    const prev = this.current ?? Promise.resolve(null);
    const next = prev.catch(() => null).then(() => this.runTick());
    this.current = next;
    return next;
  }

  private async runTick(): Promise<TickResult> {
    const ts = this.now();
    const started = performance.now();
    const tasks: (() => Promise<RunResult>)[] = [];
    const allNodes = this.opts.nodes.list();
    for (const cluster of this.clusters()) {
      let tel = this.telemetry.get(cluster);
      if (!tel) {
        tel = new SqlTelemetry(this.opts.store, cluster, { ...this.opts.config.queries, onQuery: this.onQuery.length > 0 ? (l, ms, rows) => this.onQuery.forEach((f) => f(l, ms, rows)) : undefined });
        this.telemetry.set(cluster, tel);
      }
      const nodes: RegisteredNodeInfo[] = allNodes
        .filter((n) => n.cluster === cluster)
        .map((n) => ({ node: n.node, status: n.status, registeredAt: n.registeredAt, updatedAt: n.updatedAt }));
      const view = tel.at(ts);
      const kube = this.opts.clusterState.forCluster(cluster);
      for (const d of this.opts.detectors) {
        if (!d.enabled) continue;
        tasks.push(() => this.run(d, cluster, ts, (signal) => ({ cluster, now: ts, telemetry: view, kube, registeredNodes: () => nodes, signal })));
      }
    }
    const runs = await pool(tasks, this.opts.config.concurrency);
    const ms = performance.now() - started;
    this.metrics.tick.observe(ms / 1000);
    const perDetector = new Map<string, number>();
    for (const r of runs) if (r.outcome === 'ok') perDetector.set(r.detector, (perDetector.get(r.detector) ?? 0) + r.findings);
    for (const [detector, n] of perDetector) this.metrics.findings.set({ detector }, n);
    const result = { ts, ms, runs };
    for (const l of this.onTick) l(result);
    return result;
  }

  private async run(d: LoadedDetector, cluster: string, now: number, makeCtx: (signal: AbortSignal) => DetectorContext): Promise<RunResult> {
    const id = d.detector.id;
    const key = `${id}\u0000${cluster}`;
    const fail = (outcome: DetectorErrorReason, ms: number, error?: string): RunResult => {
      this.metrics.errors.inc({ detector: id, reason: outcome });
      this.opts.log.warn({ detector: id, cluster, reason: outcome, err: error }, 'detector run produced no verdict');
      return { cluster, detector: id, outcome, findings: 0, ms, error };
    };
    if (this.running.has(key)) return fail('overrun', 0, 'previous run still going');
    const abort = new AbortController();
    const started = performance.now();
    this.running.add(key);
    const evaluation = (async () => d.detector.evaluate(makeCtx(abort.signal), d.config))();
    // The run is "running" until it settles, even after its timeout: the next tick must not pile on.
    evaluation.then(
      () => this.running.delete(key),
      () => this.running.delete(key),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), d.timeoutMs);
    });
    let findings: Finding[];
    try {
      const r = await Promise.race([evaluation, timeout]);
      if (r === 'timeout') {
        abort.abort(new Error(`detector ${id} timed out after ${d.timeoutMs} ms`));
        evaluation.catch(() => {}); // abandoned; its late failure is not news
        return fail('timeout', performance.now() - started, `no verdict within ${d.timeoutMs} ms`);
      }
      findings = r;
    } catch (err) {
      return fail('error', performance.now() - started, (err as Error)?.message ?? String(err));
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - started;
    this.metrics.duration.observe({ detector: id }, ms / 1000);
    const invalid = validate(findings, id, cluster);
    if (invalid) return fail('invalid_output', ms, invalid);
    try {
      await this.opts.sink.report({ cluster, detector: id, ts: now, findings });
    } catch (err) {
      return fail('sink', ms, (err as Error).message);
    }
    return { cluster, detector: id, outcome: 'ok', findings: findings.length, ms };
  }
}

/** Why the output is not a usable verdict, or null when it is. */
function validate(findings: unknown, detector: string, cluster: string): string | null {
  if (!Array.isArray(findings)) return 'evaluate must resolve to an array of findings';
  const seen = new Set<string>();
  for (const f of findings as Partial<Finding>[]) {
    if (typeof f !== 'object' || f === null) return 'a finding is not an object';
    if (f.detector !== detector || f.cluster !== cluster) return `finding for ${f.detector}/${f.cluster}, expected ${detector}/${cluster} (use makeFinding)`;
    if (typeof f.fingerprint !== 'string' || f.fingerprint.length === 0) return 'finding without fingerprint';
    if (typeof f.subject !== 'string' || typeof f.summary !== 'string' || !SEVERITIES.has(f.severity as string)) return 'finding without subject, summary or a valid severity';
    if (seen.has(f.fingerprint)) return `two findings with fingerprint ${f.fingerprint} (subject ${f.subject})`;
    seen.add(f.fingerprint);
  }
  return null;
}

/** Runs tasks with at most `limit` at once, results in task order. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
