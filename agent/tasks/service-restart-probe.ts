// After a restart: wait, bounded, for the unit's probe to answer. The agent's own HTTP and TCP
// probes do the asking, so "answers" means here what probe_http_up / probe_tcp_up mean in the
// telemetry the plane later verifies with.
import { performance } from 'node:perf_hooks';
import { sleep } from '../../core/backoff.ts';
import type { Collector } from '../collectors/types.ts';
import { HttpProbe } from '../probes/http.ts';
import { TcpProbe } from '../probes/tcp.ts';
import type { ServiceProbe } from './service-restart-config.ts';

export interface ProbeWait {
  ok: boolean;
  waitedMs: number;
}

function collectorFor(unit: string, p: ServiceProbe): { collector: Collector; upMetric: string } {
  if (p.url !== undefined) return { collector: new HttpProbe({ name: unit, url: p.url, timeoutMs: p.timeoutMs, insecure: p.insecure }), upMetric: 'probe_http_up' };
  if (p.tcp !== undefined) return { collector: new TcpProbe({ name: unit, host: p.tcp.host, port: p.tcp.port, timeoutMs: p.timeoutMs }), upMetric: 'probe_tcp_up' };
  throw new Error(`${unit}: probe has neither url nor tcp`);
}

export async function waitForProbe(unit: string, p: ServiceProbe, signal: AbortSignal): Promise<ProbeWait> {
  const { collector, upMetric } = collectorFor(unit, p);
  const started = performance.now();
  const deadline = started + p.waitMs;
  for (;;) {
    signal.throwIfAborted();
    const points = await collector.collect(Date.now());
    const waitedMs = Math.round(performance.now() - started);
    if (points.some((pt) => pt.name === upMetric && pt.value === 1)) return { ok: true, waitedMs };
    const left = deadline - performance.now();
    if (left <= 0) return { ok: false, waitedMs };
    await sleep(Math.min(p.intervalMs, left), signal);
  }
}
