// TODO(detectors engine): an interim runner for the detectors engineer's `etcd-quorum` detector, so
// etcd healing works before the detector engine is wired into the app. It evaluates only that
// detector, for the etcd clusters in config, on a short tick, and hands complete reports to the
// incident manager. Remove it once the engine runs `etcd-quorum` (set etcd.detector.enabled=false).
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import type { FindingSink } from '../../core/pipeline.ts';
import type { Store } from '../../store/store.ts';
import etcdQuorum from '../../detectors/builtin/etcd-quorum/index.ts';
import { etcdQuorumConfig } from '../../detectors/builtin/etcd-quorum/config.ts';
import { SqlTelemetry } from '../../detectors/context.ts';
import type { DetectorContext } from '../../detectors/api.ts';

export class InterimEtcdQuorumRunner implements Component {
  readonly name = 'etcd-quorum-interim';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly telemetry = new Map<string, SqlTelemetry>();
  private readonly cfg = etcdQuorumConfig.parse({});

  constructor(
    private readonly store: Store,
    private readonly sink: FindingSink,
    private readonly clusters: () => string[],
    private readonly intervalMs: number,
    private readonly freshMs: number,
    private readonly log: Logger,
  ) {
    this.cfg = etcdQuorumConfig.parse({ freshMs: freshMs, lookbackMs: Math.max(freshMs, 15 * 60_000) });
  }

  async tick(now = Date.now()): Promise<void> {
    for (const cluster of this.clusters()) {
      let t = this.telemetry.get(cluster);
      if (!t) this.telemetry.set(cluster, (t = new SqlTelemetry(this.store, cluster)));
      const ctx = {
        cluster,
        now,
        telemetry: t.at(now),
        kube: undefined as never,
        registeredNodes: () => [],
        signal: AbortSignal.timeout(this.intervalMs * 5),
      } satisfies DetectorContext;
      try {
        const findings = await etcdQuorum.evaluate(ctx, this.cfg);
        await this.sink.report({ cluster, detector: etcdQuorum.id, ts: now, findings });
      } catch (err) {
        this.log.warn({ cluster, err: (err as Error).message }, 'etcd-quorum evaluation failed');
      }
    }
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.tick());
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
