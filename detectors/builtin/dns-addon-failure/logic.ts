// dns-addon-failure from rows: workload availability (when Kubernetes data exists) and the newest
// DNS probe result per node.
import type { Finding } from '../../../core/types.ts';
import { makeFinding } from '../../api.ts';
import type { KubeWorkloadState } from '../../../core/kube.ts';
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

/** One DNS probe across the cluster's nodes, aggregated in ClickHouse (index.ts). */
export interface DnsProbeSummary {
  probe: string;
  /** Nodes with a current result for this probe. */
  reporting: number;
  failing: number;
  /** Some of the failing nodes, sorted. */
  failingNodes: string[];
}

export function dnsProbeFindings(cluster: string, now: number, probes: readonly DnsProbeSummary[], cfg: DnsAddonFailureConfig): Finding[] {
  const out: Finding[] = [];
  for (const p of probes) {
    if (cfg.probeNames.length > 0 && !cfg.probeNames.includes(p.probe)) continue;
    if (p.reporting === 0) continue;
    const share = p.failing / p.reporting;
    if (p.failing < cfg.minFailingNodes || share < cfg.failShare) continue;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: `dns-probe:${p.probe}`,
        severity: 'critical',
        summary: `DNS probe "${p.probe}" failing on ${p.failing} of ${p.reporting} nodes (${Math.round(share * 100)}%)`,
        labels: { probe: p.probe },
        evidence: {
          probe: p.probe,
          failingNodes: p.failing,
          reportingNodes: p.reporting,
          share: Math.round(share * 1000) / 1000,
          threshold: cfg.failShare,
          failing: [...p.failingNodes].sort().slice(0, cfg.maxListed),
        },
      }),
    );
  }
  return out;
}
