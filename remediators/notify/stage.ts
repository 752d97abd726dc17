// The notifications stage: routing and channels (Slack, email, tickets) behind a durable outbox,
// reacting to the incident manager's events. Adds each incident's deliveries to its timeline.
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { incidentServices } from '../incidents/services.ts';
import { createChannel } from './channels/index.ts';
import { notificationsSchema } from './config.ts';
import { createNotifyMetrics } from './metrics.ts';
import { Notifier } from './notifier.ts';
import { notifyServices } from './services.ts';

export const notifyStage = defineStage({
  id: 'notify',
  needsFullSchema: true,
  config: { section: 'notifications', schema: notificationsSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    registry: coreServices.metrics,
    server: coreServices.server,
    manager: incidentServices.manager,
    timeline: incidentServices.timeline,
  },
  provides: { notifier: notifyServices.notifier },
  async create({ config, deps }) {
    const metrics = createNotifyMetrics(deps.registry);
    const log = deps.logger.child({ component: 'notify' });
    const channels = config.channels.map((c) => createChannel(c, { store: deps.store, log, metrics }));
    // Links go to the console at the address people reach Whistle by. The bind address is not that
    // address (0.0.0.0, a port behind a proxy), so without one a message carries no link at all.
    const linkBase = config.linkBase ?? deps.server.publicUrl;
    if (!linkBase && config.channels.length > 0)
      log.warn('server.publicUrl is not set: notifications carry no link to the console; set it to the address people open Whistle at (e.g. https://whistle.example.com)');
    const notifier = new Notifier({ config, store: deps.store, manager: deps.manager, channels, metrics, log, linkBase });
    deps.timeline.add('notifications', (id) => notifier.outbox.deliveries(id));
    return { services: { notifier }, components: [notifier] };
  },
});
