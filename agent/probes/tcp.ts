// TCP port probe: can a connection be opened within the timeout (e.g. the API server's 6443)?
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { point, type Collector, type Point } from '../collectors/types.ts';

export interface TcpProbeConfig {
  name: string;
  host: string;
  port: number;
  timeoutMs: number;
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export class TcpProbe implements Collector {
  readonly name: string;
  private readonly labels: Record<string, string>;

  constructor(private readonly cfg: TcpProbeConfig) {
    this.name = `probe_tcp/${cfg.name}`;
    const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
    this.labels = { probe: cfg.name, target: `${host}:${cfg.port}` };
  }

  async collect(): Promise<Point[]> {
    const started = performance.now();
    const ok = await canConnect(this.cfg.host, this.cfg.port, this.cfg.timeoutMs);
    return [
      point('probe_tcp_up', ok ? 1 : 0, this.labels),
      point('probe_tcp_duration_seconds', (performance.now() - started) / 1000, this.labels),
    ];
  }
}
