// Routing: which channels hear about an incident, with which timing. Routes are tried in order; the
// first that matches wins unless it says `continue` (as in Alertmanager). Nothing matched: the
// default channels.
import type { IncidentView } from '../../core/pipeline.ts';
import type { NotificationsConfig, RouteConfig } from './config.ts';

export interface Target {
  channel: string;
  groupWaitMs: number;
  repeatIntervalMs: number;
  sendResolved: boolean;
}

function matches(r: RouteConfig, i: IncidentView): boolean {
  const m = r.match;
  if (m.severity.length > 0 && !m.severity.includes(i.severity)) return false;
  if (m.cluster.length > 0 && !m.cluster.includes(i.cluster)) return false;
  if (m.detector.length > 0 && !m.detector.includes(i.detector)) return false;
  return Object.entries(m.labels).every(([k, v]) => i.labels[k] === v);
}

export class Router {
  constructor(private readonly cfg: NotificationsConfig) {}

  route(i: IncidentView): Target[] {
    const out = new Map<string, Target>();
    const add = (channel: string, r?: RouteConfig) => {
      if (out.has(channel)) return;
      out.set(channel, {
        channel,
        groupWaitMs: r?.groupWaitMs ?? this.cfg.groupWaitMs,
        repeatIntervalMs: r?.repeatIntervalMs ?? this.cfg.repeatIntervalMs,
        sendResolved: r?.sendResolved ?? this.cfg.sendResolved,
      });
    };
    let matched = false;
    for (const r of this.cfg.routes) {
      if (!matches(r, i)) continue;
      matched = true;
      for (const c of r.channels) add(c, r);
      if (!r.continue) break;
    }
    if (!matched) for (const c of this.cfg.defaultChannels) add(c);
    return [...out.values()];
  }
}
