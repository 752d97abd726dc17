// kubelet-down from rows: the newest kubelet probe result per node with its last success.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding, type LatestRow } from '../../api.ts';
import type { KubeletDownConfig } from './config.ts';

export const ID = 'kubelet-down';

export function kubeletDownFindings(cluster: string, now: number, probes: readonly LatestRow[], cfg: KubeletDownConfig): Finding[] {
  const out: Finding[] = [];
  for (const p of probes) {
    if (p.name !== cfg.metric || (p.labels.probe ?? '') !== cfg.probeName) continue;
    if (p.value > 0 || now - p.ts > cfg.freshMs) continue;
    const downFor = now - (p.lastNonZeroTs ?? p.firstTs);
    if (downFor < cfg.forMs) continue;
    const since = p.lastNonZeroTs !== null ? `for ${humanDuration(downFor)}` : `for ${humanDuration(downFor)} or more (no success in the last ${humanDuration(cfg.lookbackMs)})`;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: p.node,
        severity: 'critical',
        summary: `kubelet on ${p.node} not answering its health probe ${since}`,
        labels: { node: p.node },
        evidence: {
          node: p.node,
          probe: cfg.probeName,
          target: p.labels.target ?? null,
          lastSuccessAt: p.lastNonZeroTs !== null ? new Date(p.lastNonZeroTs).toISOString() : null,
          downSeconds: Math.round(downFor / 1000),
          lastProbeAt: new Date(p.ts).toISOString(),
        },
      }),
    );
  }
  return out;
}
