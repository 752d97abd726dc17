import { describe, expect, it } from 'vitest';
import type { KubeWorkloadState } from '../../../core/kube.ts';
import { NOW } from '../../testing/rows.ts';
import { dnsAddonFailureConfig } from './config.ts';
import { addonFindings, dnsProbeFindings } from './logic.ts';

const cfg = dnsAddonFailureConfig.parse({});
const dep = (name: string, desired: number, available: number, namespace = 'kube-system'): KubeWorkloadState => ({ kind: 'Deployment', namespace, name, desired, ready: available, available, updated: desired });

describe('dns-addon-failure: add-ons', () => {
  it('reports CoreDNS unavailable (critical) and degraded (warning); an absent kube-dns is fine', () => {
    expect(addonFindings('c1', NOW, [dep('coredns', 2, 0)], cfg)).toMatchObject([{ subject: 'addon:kube-system/Deployment/coredns', severity: 'critical' }]);
    expect(addonFindings('c1', NOW, [dep('coredns', 2, 1)], cfg)).toMatchObject([{ severity: 'warning' }]);
    expect(addonFindings('c1', NOW, [dep('coredns', 2, 2)], cfg)).toEqual([]);
  });

  it('watches configured add-ons, and reports a required one that is missing', () => {
    const c = dnsAddonFailureConfig.parse({ addons: [{ name: 'ingress-nginx-controller', namespace: 'ingress', required: true }, { kind: 'DaemonSet', name: 'kube-proxy' }] });
    const ds: KubeWorkloadState = { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy', desired: 3, ready: 0, available: 0, updated: 3 };
    const f = addonFindings('c1', NOW, [ds], c);
    expect(f.map((x) => [x.subject, x.severity])).toEqual([
      ['addon:ingress/Deployment/ingress-nginx-controller', 'critical'],
      ['addon:kube-system/DaemonSet/kube-proxy', 'critical'],
    ]);
  });
});

describe('dns-addon-failure: probes', () => {
  const probe = (reporting: number, failingNodes: string[], name = 'cluster-dns') => ({ probe: name, reporting, failing: failingNodes.length, failingNodes });
  it('reports when at least 30 % of reporting nodes fail the probe', () => {
    const f = dnsProbeFindings('c1', NOW, [probe(7, ['c', 'a', 'b'])], cfg);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ subject: 'dns-probe:cluster-dns', severity: 'critical' });
    expect(f[0]!.evidence).toMatchObject({ failingNodes: 3, reportingNodes: 7, failing: ['a', 'b', 'c'] });
  });

  it('is quiet below the share, for a single failing node, and for probes not asked for', () => {
    expect(dnsProbeFindings('c1', NOW, [probe(7, ['a'])], cfg)).toEqual([]);
    expect(dnsProbeFindings('c1', NOW, [probe(1, ['a'])], cfg)).toEqual([]);
    const only = dnsAddonFailureConfig.parse({ probeNames: ['other'] });
    expect(dnsProbeFindings('c1', NOW, [probe(4, ['a', 'b', 'c'])], only)).toEqual([]);
  });
});
