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
    const downFor = p.lastNonZeroTs !== null ? now - p.lastNonZeroTs : null;
    if (downFor !== null ? downFor < cfg.forMs : p.samples < cfg.minFailedSamples) continue;
    const since = downFor !== null ? `for ${humanDuration(downFor)}` : `for over ${humanDuration(cfg.lookbackMs)} (no success in the lookback)`;
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
          downSeconds: downFor !== null ? Math.round(downFor / 1000) : null,
          lastProbeAt: new Date(p.ts).toISOString(),
          failedSamplesInLookback: p.lastNonZeroTs === null ? p.samples : undefined,
        },
      }),
    );
  }
  return out;
}
