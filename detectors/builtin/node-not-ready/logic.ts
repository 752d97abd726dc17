// node-not-ready from rows: node conditions as the Kubernetes watchers last saw them.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding } from '../../api.ts';
import type { KubeNodeState } from '../../../core/kube.ts';
import type { NodeNotReadyConfig } from './config.ts';

export const ID = 'node-not-ready';

export function nodeNotReadyFindings(cluster: string, now: number, nodes: readonly KubeNodeState[], cfg: NodeNotReadyConfig): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    const ready = n.conditions.find((c) => c.type === 'Ready');
    const pressures = n.conditions.filter((c) => cfg.pressureConditions.includes(c.type) && c.status === 'True');
    const notReadyFor = n.ready !== 'True' ? (ready?.lastTransitionTime !== undefined ? now - ready.lastTransitionTime : null) : 0;
    const notReady = n.ready !== 'True' && (notReadyFor === null || notReadyFor >= cfg.forMs);
    if (!notReady && pressures.length === 0) continue;
    const pressureText = pressures.map((c) => c.type).join(', ');
    const summary = notReady
      ? `node ${n.name} NotReady (Ready=${n.ready}${ready?.reason ? `, ${ready.reason}` : ''})${notReadyFor !== null ? ` for ${humanDuration(notReadyFor)}` : ''}${pressureText ? `; ${pressureText}` : ''}`
      : `node ${n.name} under ${pressureText}`;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: n.name,
        severity: notReady ? 'critical' : 'warning',
        summary,
        labels: { node: n.name },
        evidence: {
          node: n.name,
          ready: n.ready,
          readyReason: ready?.reason ?? null,
          readyMessage: ready?.message ?? null,
          notReadySince: ready?.lastTransitionTime !== undefined && n.ready !== 'True' ? new Date(ready.lastTransitionTime).toISOString() : null,
          pressure: pressures.map((c) => ({ type: c.type, reason: c.reason ?? null, message: c.message ?? null })),
          unschedulable: n.unschedulable,
        },
      }),
    );
  }
  return out;
}
