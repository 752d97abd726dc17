import { describe, expect, it } from 'vitest';
import { latest, MIN, NOW } from '../../testing/rows.ts';
import { kubeletDownConfig } from './config.ts';
import { kubeletDownFindings } from './logic.ts';

const cfg = kubeletDownConfig.parse({});
const probe = { probe: 'kubelet', target: 'https://127.0.0.1:10250/healthz' };

describe('kubelet-down', () => {
  it('reports a node whose kubelet probe has failed since its last success more than forMs ago', () => {
    const rows = [
      latest('up', 'probe_http_up', 1, probe),
      latest('down', 'probe_http_up', 0, probe, { lastNonZeroTs: NOW - 2 * MIN }),
      latest('blip', 'probe_http_up', 0, probe, { lastNonZeroTs: NOW - 15_000 }),
    ];
    const f = kubeletDownFindings('c1', NOW, rows, cfg);
    expect(f.map((x) => x.subject)).toEqual(['down']);
    expect(f[0]).toMatchObject({ severity: 'critical', labels: { node: 'down' } });
    expect(f[0]!.evidence).toMatchObject({ downSeconds: 120, probe: 'kubelet' });
  });

  it('without any success in the lookback, counts from when the probe was first reported', () => {
    const fresh = latest('n', 'probe_http_up', 0, probe, { lastNonZeroTs: null, firstTs: NOW - 10_000 });
    const long = latest('n', 'probe_http_up', 0, probe, { lastNonZeroTs: null, firstTs: NOW - 5 * MIN });
    expect(kubeletDownFindings('c1', NOW, [fresh], cfg)).toEqual([]);
    const f = kubeletDownFindings('c1', NOW, [long], cfg);
    expect(f).toHaveLength(1);
    expect(f[0]!.summary).toMatch(/for 5 min or more \(no success in the last 5 min\)/);
  });

  it('ignores stale probes and other probes', () => {
    const stale = latest('n', 'probe_http_up', 0, probe, { ts: NOW - 5 * MIN, lastNonZeroTs: NOW - 10 * MIN });
    const other = latest('n', 'probe_http_up', 0, { probe: 'ingress' }, { lastNonZeroTs: NOW - 10 * MIN });
    expect(kubeletDownFindings('c1', NOW, [stale, other], cfg)).toEqual([]);
  });
});
