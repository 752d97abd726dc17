// Workers that share one store (scaled out behind Kafka) each keep the cluster catalog and the node
// registry in memory. This reads them again at an interval, so that a cluster created, or a node
// authorized or attached, through one worker's API is known to every worker within that interval,
// without a restart. A failed read is logged and tried at the next tick (the store may be away).
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';

export function sharedStateRefresh(everyMs: number, refreshers: (() => Promise<unknown>)[], log: Logger): Component {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    for (const refresh of refreshers) {
      await refresh().catch((err) => log.warn({ err: (err as Error).message }, 'reading the shared cluster and node state again failed; next try in one interval'));
    }
  };
  return {
    name: 'fleet-refresh',
    start: async () => {
      if (everyMs <= 0) return;
      timer = setInterval(() => {
        // One read at a time: a slow store does not pile them up.
        running = running.then(tick);
      }, everyMs);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
