// DNS probe: resolve a name against a configured resolver (e.g. the cluster's CoreDNS service IP) or,
// without one, the system resolvers. Any answer of the asked type counts as up; NXDOMAIN, SERVFAIL,
// no data and timeouts are down.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { point, type Collector, type Point } from '../collectors/types.ts';

export interface DnsProbeConfig {
  name: string;
  query: string;
  resolver?: string | undefined;
  type: 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'SRV' | 'TXT';
  timeoutMs: number;
}

/** Why a resolver address is unusable, or undefined when it is fine: "IP", "IP:port", "[IPv6]:port". */
export function resolverProblem(s: string): string | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  const host = m ? m[1]! : s; // a bare IPv6 address has colons and matches neither form
  const port = m?.[2];
  if (!isIP(host)) return `"${s}" is not an IP address (optionally with :port)`;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `"${s}" has an invalid port`;
  return undefined;
}

export class DnsProbe implements Collector {
  readonly name: string;
  private readonly labels: Record<string, string>;
  private readonly resolver: Resolver;

  constructor(private readonly cfg: DnsProbeConfig) {
    this.name = `probe_dns/${cfg.name}`;
    this.labels = { probe: cfg.name, query: cfg.query, type: cfg.type, resolver: cfg.resolver ?? 'system' };
    // One try with the probe's timeout: retries would hide a slow resolver, which is what we measure.
    this.resolver = new Resolver({ timeout: cfg.timeoutMs, tries: 1 });
    if (cfg.resolver) this.resolver.setServers([cfg.resolver]);
  }

  async collect(): Promise<Point[]> {
    const started = performance.now();
    let answers = 0;
    let ok = false;
    // c-ares applies its timeout per attempt; the guard makes sure the probe itself always ends.
    const guard = setTimeout(() => this.resolver.cancel(), this.cfg.timeoutMs + 1000);
    try {
      const result: unknown = await this.resolver.resolve(this.cfg.query, this.cfg.type);
      answers = Array.isArray(result) ? result.length : 1;
      ok = answers > 0;
    } catch {
      ok = false;
    } finally {
      clearTimeout(guard);
    }
    return [
      point('probe_dns_up', ok ? 1 : 0, this.labels),
      point('probe_dns_duration_seconds', (performance.now() - started) / 1000, this.labels),
      point('probe_dns_answers', answers, this.labels),
    ];
  }
}
