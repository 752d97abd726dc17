// Scheduled snapshots: one per cluster every `snapshots.intervalS`, retention applied by the task.
// A cluster without quorum is skipped (logged), never retried in a tight loop; so is a cluster
// another operation holds (recorded as skipped): the snapshot waits for the next period.
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import type { EtcdConfig } from './config.ts';
import type { EtcdEngine } from './engine.ts';

export class SnapshotScheduler implements Component {
  readonly name = 'etcd-snapshots';
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(
    private readonly cfg: EtcdConfig,
    private readonly engine: EtcdEngine,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.timers.length) return;
    for (const c of this.cfg.clusters) {
      if (c.snapshots.intervalS <= 0) continue;
      let busy = false;
      const t = setInterval(() => {
        // One snapshot at a time per cluster: a slow save must not pile up behind the schedule.
        if (busy) return;
        busy = true;
        const p = this.engine
          .snapshot(c.cluster, { actor: 'schedule', skipIfBusy: true })
          .then((r) => this.log.info({ cluster: c.cluster, file: r.detail?.file, changed: r.changed }, r.changed ? 'scheduled etcd snapshot saved' : `scheduled etcd snapshot ${r.plan.summary}`))
          .catch((err) => this.log.warn({ cluster: c.cluster, err: (err as Error).message }, 'scheduled etcd snapshot failed'))
          .finally(() => (busy = false));
        this.running.add(p);
        void p.finally(() => this.running.delete(p));
      }, c.snapshots.intervalS * 1000);
      t.unref();
      this.timers.push(t);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
  }
}
