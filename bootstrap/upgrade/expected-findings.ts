// Which incidents a rollout explains: those of the expected detectors (a node going NotReady, its
// kubelet or agent falling silent) about a node being upgraded, opened between the start of its
// upgrade and its return to service. Pure, so the incident manager's suppression, the health gate
// and the plan all decide the same way. An incident opened after the node came back is not
// explained: it pages, and it fails the node's health gate.
import type { IncidentView } from '../../core/pipeline.ts';
import type { Suppression } from '../../remediators/incidents/silences.ts';
import type { Rollout } from './rollout-store.ts';

export function explainedBy(rollouts: Iterable<Pick<Rollout, 'id' | 'cluster' | 'release' | 'nodes'>>, expectedDetectors: readonly string[], incident: IncidentView): Suppression | null {
  if (!expectedDetectors.includes(incident.detector)) return null;
  for (const r of rollouts) {
    if (r.cluster !== incident.cluster) continue;
    const n = r.nodes.find((x) => x.node === incident.subject);
    if (!n || n.startedAt === null) continue;
    if (incident.openedAt >= n.startedAt && (n.backAt === null || incident.openedAt <= n.backAt)) {
      return { kind: 'rollout', id: r.id, comment: `expected while ${n.node} is upgraded to ${r.release}` };
    }
  }
  return null;
}
