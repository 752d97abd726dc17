// The agent's collector set, built from the `agent` config section: the machine collectors always,
// one probe collector per configured probe.
import type { AgentConfig } from '../config.ts';
import { ConfigError } from '../../core/errors.ts';
import { CertProbe } from '../probes/cert.ts';
import { DnsProbe, resolverProblem } from '../probes/dns.ts';
import { HttpProbe } from '../probes/http.ts';
import { TcpProbe } from '../probes/tcp.ts';
import { CpuCollector } from './cpu.ts';
import { FilesystemsCollector } from './filesystems.ts';
import { LoadCollector } from './load.ts';
import { MemoryCollector } from './memory.ts';
import type { Collector } from './types.ts';
import { UptimeCollector } from './uptime.ts';

export function defaultCollectors(cfg: AgentConfig, procRoot = '/proc'): Collector[] {
  const problems = cfg.probes.dns.flatMap((p, i) => {
    const problem = p.resolver === undefined ? undefined : resolverProblem(p.resolver);
    return problem ? [`agent.probes.dns.${i}.resolver: ${problem}`] : [];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return [
    new FilesystemsCollector({ procRoot, excludeMountPoints: cfg.excludeMountPoints, minFilesystemBytes: cfg.minFilesystemBytes }),
    new MemoryCollector(procRoot),
    new LoadCollector(procRoot),
    new CpuCollector(procRoot),
    new UptimeCollector(procRoot),
    ...cfg.probes.http.map((p) => new HttpProbe(p)),
    ...cfg.probes.tcp.map((p) => new TcpProbe(p)),
    ...cfg.probes.dns.map((p) => new DnsProbe(p)),
    ...cfg.probes.certs.map((p) => new CertProbe(p)),
  ];
}
