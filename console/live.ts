// Live updates: the incident manager's events (opened, updated, state changed, resolved), new
// history lines (notes, actions, deliveries) and the console's own changes (silences, nodes) go
// to every open page as server-sent events. A page that hears one re-reads its live parts
// (console.js); the stream carries only what changed, never page content.
import type { ServerResponse } from 'node:http';
import type { IncidentManager } from '../remediators/incidents/manager.ts';

export interface LiveEvent {
  type: 'incident' | 'history' | 'silence' | 'node' | 'plan' | 'cluster';
  id?: string;
  cluster?: string;
  state?: string;
}

/** Comment lines keep proxies from closing an idle stream and let the browser notice a dead one. */
const HEARTBEAT_MS = 15_000;

export class LiveHub {
  /** Each open stream, with the session it belongs to (signing out ends it). */
  private readonly clients = new Map<ServerResponse, string>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly incidents: IncidentManager) {}

  start(): void {
    this.unsubscribe.push(
      this.incidents.subscribe({
        onIncidentEvent: async (e) => this.publish({ type: 'incident', id: e.incident.id, cluster: e.incident.cluster, state: e.incident.state }),
      }),
      this.incidents.onHistory((id) => this.publish({ type: 'history', id })),
    );
    this.timer = setInterval(() => this.broadcast(': ping\n\n'), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Ends every stream (the server is stopping). */
  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(res: ServerResponse, session: string): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write('retry: 2000\n\n');
    this.clients.set(res, session);
    res.on('close', () => this.clients.delete(res));
  }

  /** Ends the streams of a session that ended (signed out, operator removed). */
  endSession(session: string): void {
    for (const [c, s] of this.clients) if (s === session) c.end();
  }

  publish(e: LiveEvent): void {
    this.broadcast(`event: change\ndata: ${JSON.stringify(e)}\n\n`);
  }

  private broadcast(chunk: string): void {
    for (const c of this.clients.keys()) c.write(chunk);
  }
}
