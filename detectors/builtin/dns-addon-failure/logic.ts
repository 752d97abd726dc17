// dns-addon-failure from rows: workload availability (when Kubernetes data exists) and the newest
// DNS probe result per node.
import type { Finding } from '../../../core/types.ts';
import { makeFinding, type LatestRow } from '../../api.ts';
import type { KubeWorkloadState } from '../../cluster-state.ts';
import type { DnsAddonFailureConfig } from './config.ts';

export const ID = 'dns-addon-failure';

export function addonFindings(cluster: string, now: number, workloads: readonly KubeWorkloadState[], cfg: DnsAddonFailureConfig): Finding[] {
  const out: Finding[] = [];
  for (const a of cfg.addons) {
    const w = workloads.find((x) => x.kind === a.kind && x.namespace === a.namespace && x.name === a.name);
    const subject = `addon:${a.namespace}/${a.kind}/${a.name}`;
    const labels = { namespace: a.namespace, workload: `${a.kind}/${a.name}` };
    if (!w) {
      if (a.required) {
        out.push(makeFinding(ID, cluster, now, { subject, severity: 'critical', summary: `add-on ${a.namespace}/${a.name} (${a.kind}) is missing`, labels, evidence: { ...a, present: false } }));
      }
      continue;
    }
    const evidence = { kind: a.kind, namespace: a.namespace, name: a.name, desired: w.desired, available: w.available, updated: w.updated, minAvailable: a.minAvailable };
    if (w.available < a.minAvailable) {
      out.push(
        makeFinding(ID, cluster, now, {
          subject,
          severity: 'critical',
          summary: `add-on ${a.namespace}/${a.name} unavailable: ${w.available} of ${w.desired} replicas available (needs ${a.minAvailable})`,
          labels,
          evidence,
        }),
      );
    } else if (cfg.warnDegraded && w.available < w.desired) {
      out.push(
        makeFinding(ID, cluster, now, {
          subject,
          severity: 'warning',
          summary: `add-on ${a.namespace}/${a.name} degraded: ${w.available} of ${w.desired} replicas available`,
          labels,
          evidence,
        }),
      );
    }
  }
  return out;
}

export function dnsProbeFindings(cluster: string, now: number, probes: readonly LatestRow[], cfg: DnsAddonFailureConfig): Finding[] {
  const byProbe = new Map<string, { ok: string[]; failing: string[] }>();
  for (const p of probes) {
    if (p.name !== cfg.probeMetric || now - p.ts > cfg.freshMs) continue;
    const name = p.labels.probe ?? '';
    if (cfg.probeNames.length > 0 && !cfg.probeNames.includes(name)) continue;
    let e = byProbe.get(name);
    if (!e) byProbe.set(name, (e = { ok: [], failing: [] }));
    (p.value > 0 ? e.ok : e.failing).push(p.node);
  }
  const out: Finding[] = [];
  for (const [name, { ok, failing }] of byProbe) {
    const total = ok.length + failing.length;
    const share = failing.length / total;
    if (failing.length < cfg.minFailingNodes || share < cfg.failShare) continue;
    failing.sort();
    out.push(
      makeFinding(ID, cluster, now, {
        subject: `dns-probe:${name}`,
        severity: 'critical',
        summary: `DNS probe "${name}" failing on ${failing.length} of ${total} nodes (${Math.round(share * 100)}%)`,
        labels: { probe: name },
        evidence: { probe: name, failingNodes: failing.length, reportingNodes: total, share: Math.round(share * 1000) / 1000, threshold: cfg.failShare, failing: failing.slice(0, cfg.maxListed) },
      }),
    );
  }
  return out;
}
