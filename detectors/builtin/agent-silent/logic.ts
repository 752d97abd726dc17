// agent-silent from rows: registered nodes and when each last sent a sample. A node authorized but
// never heard from is silent once the grace period since its authorization has passed.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding, type RegisteredNodeInfo } from '../../api.ts';
import type { AgentSilentConfig } from './config.ts';

export const ID = 'agent-silent';

export function silentAfterMs(cfg: AgentSilentConfig): number {
  return cfg.intervalMs * cfg.intervals;
}

export function agentSilentFindings(
  cluster: string,
  now: number,
  nodes: readonly RegisteredNodeInfo[],
  lastSeen: ReadonlyMap<string, number>,
  cfg: AgentSilentConfig,
): Finding[] {
  const limit = silentAfterMs(cfg);
  const authorized = nodes.filter((n) => n.status === 'authorized');
  const out: Finding[] = [];
  for (const n of authorized) {
    const seen = lastSeen.get(n.node);
    // Silence counts from the later of the last sample and the authorization: a node just authorized
    // (or re-authorized after a revocation) gets a full grace period.
    const since = Math.max(seen ?? 0, n.updatedAt);
    const silentFor = now - since;
    if (silentFor < limit) continue;
    const severity = silentFor >= cfg.criticalAfterMs ? 'critical' : 'warning';
    const when = seen !== undefined ? `last sample ${humanDuration(now - seen)} ago` : `nothing received since authorization ${humanDuration(now - n.updatedAt)} ago`;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: n.node,
        severity,
        summary: `agent on ${n.node} silent for ${humanDuration(silentFor)} (${when})`,
        labels: { node: n.node },
        evidence: {
          node: n.node,
          lastSampleAt: seen !== undefined ? new Date(seen).toISOString() : null,
          silentSeconds: Math.round(silentFor / 1000),
          expectedIntervalSeconds: cfg.intervalMs / 1000,
          authorizedAt: new Date(n.updatedAt).toISOString(),
          silentNodes: 0,
          authorizedNodes: authorized.length,
        },
      }),
    );
  }
  // Many silent agents at once usually means the path to Whistle is broken, not every node: say so.
  for (const f of out) f.evidence.silentNodes = out.length;
  return out;
}
