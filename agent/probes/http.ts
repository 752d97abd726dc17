// HTTP health probe (e.g. kubelet /healthz). Uses node:http(s) rather than fetch because `insecure`
// must skip certificate verification for this one request only (self-signed kubelet serving certs),
// which global fetch cannot do without a custom undici dispatcher.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { point, type Collector, type Point } from '../collectors/types.ts';

export interface HttpProbeConfig {
  name: string;
  url: string;
  timeoutMs: number;
  insecure: boolean;
}

/** The URL as a label: credentials in it are never copied into telemetry. */
export function redactUrl(raw: string): string {
  const u = new URL(raw);
  u.username = '';
  u.password = '';
  return u.toString();
}

function statusOf(cfg: HttpProbeConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(cfg.url);
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(
      url,
      { method: 'GET', agent: false, signal: AbortSignal.timeout(cfg.timeoutMs), rejectUnauthorized: !cfg.insecure },
      (res) => {
        res.resume(); // the body is not needed; drain it so the socket closes
        res.on('error', () => {});
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export class HttpProbe implements Collector {
  readonly name: string;
  private readonly labels: Record<string, string>;

  constructor(private readonly cfg: HttpProbeConfig) {
    this.name = `probe_http/${cfg.name}`;
    this.labels = { probe: cfg.name, target: redactUrl(cfg.url) };
  }

  async collect(): Promise<Point[]> {
    const started = performance.now();
    let status = 0;
    try {
      status = await statusOf(this.cfg);
    } catch {
      status = 0; // refused, reset, TLS failure or timeout: the endpoint is not healthy
    }
    const seconds = (performance.now() - started) / 1000;
    return [
      point('probe_http_up', status >= 200 && status < 400 ? 1 : 0, this.labels),
      point('probe_http_status_code', status, this.labels),
      point('probe_http_duration_seconds', seconds, this.labels),
    ];
  }
}
