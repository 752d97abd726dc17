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

  it('without any success in the lookback needs a few failed samples', () => {
    const one = latest('n', 'probe_http_up', 0, probe, { lastNonZeroTs: null, samples: 1 });
    const many = latest('n', 'probe_http_up', 0, probe, { lastNonZeroTs: null, samples: 5 });
    expect(kubeletDownFindings('c1', NOW, [one], cfg)).toEqual([]);
    expect(kubeletDownFindings('c1', NOW, [many], cfg)).toHaveLength(1);
  });

  it('ignores stale probes and other probes', () => {
    const stale = latest('n', 'probe_http_up', 0, probe, { ts: NOW - 5 * MIN, lastNonZeroTs: NOW - 10 * MIN });
    const other = latest('n', 'probe_http_up', 0, { probe: 'ingress' }, { lastNonZeroTs: NOW - 10 * MIN });
    expect(kubeletDownFindings('c1', NOW, [stale, other], cfg)).toEqual([]);
  });
});
