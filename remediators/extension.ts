// The incidents + notifications stage as a Whistle extension. `whistle start` adds it; detectors
// report into `manager` (a FindingSink) and remediators use `manager` (subscribe, transition,
// appendHistory, isSuppressed) and `notifier.openTicket` once `ready()` resolves. Put it before the
// extensions that use it (they are created in order, so `current` is set by then):
//   const incidents = incidentsExtension();
//   extensions: [
//     incidents,
//     detectorsExtension({ sink: () => incidents.current!.manager }),
//     bootstrapExtension({ incidents: () => incidents.current!.manager, tickets: () => incidents.current!.notifier }),
//   ]
import type { AppContext } from '../app/context.ts';
import type { Extension } from '../app/whistle.ts';
import type { Component } from '../core/component.ts';
import type { RoutePlugin } from '../ingest/server.ts';
import { IncidentManager } from './incidents/manager.ts';
import { incidentRoutes } from './incidents/routes.ts';
import { createChannel } from './notify/channels/index.ts';
import { createNotifyMetrics } from './notify/metrics.ts';
import { Notifier } from './notify/notifier.ts';

export interface IncidentsHandle {
  manager: IncidentManager;
  notifier: Notifier;
}

export class IncidentsExtension implements Extension {
  readonly name = 'incidents';
  private handle: IncidentsHandle | null = null;
  private resolveReady!: (h: IncidentsHandle) => void;
  private readonly readyPromise = new Promise<IncidentsHandle>((resolve) => (this.resolveReady = resolve));

  async create(ctx: AppContext): Promise<{ components: Component[]; routes: RoutePlugin[] }> {
    const { config } = ctx;
    const manager = new IncidentManager({ store: ctx.store, config: config.incidents, log: ctx.log.child({ component: 'incidents' }), registry: ctx.registry });
    const metrics = createNotifyMetrics(ctx.registry);
    const notifyLog = ctx.log.child({ component: 'notify' });
    const channels = config.notifications.channels.map((c) => createChannel(c, { store: ctx.store, log: notifyLog, metrics }));
    const linkBase = config.notifications.linkBase ?? config.server.publicUrl ?? `http://${config.server.host}:${config.server.port}`;
    const notifier = new Notifier({ config: config.notifications, store: ctx.store, manager, channels, metrics, log: notifyLog, linkBase });
    this.handle = { manager, notifier };
    this.resolveReady(this.handle);
    // Components start in order: the manager (rebuilds state) before the notifier that reads it.
    return { components: [manager, notifier], routes: [incidentRoutes({ manager, outbox: notifier.outbox })] };
  }

  /** The manager and notifier, once `create` has run. */
  ready(): Promise<IncidentsHandle> {
    return this.readyPromise;
  }

  get current(): IncidentsHandle | null {
    return this.handle;
  }
}

export function incidentsExtension(): IncidentsExtension {
  return new IncidentsExtension();
}
