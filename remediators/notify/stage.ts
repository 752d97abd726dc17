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
    const scheme = deps.server.tls.enabled ? 'https' : 'http';
    const linkBase = config.linkBase ?? deps.server.publicUrl ?? `${scheme}://${deps.server.host}:${deps.server.port}`;
    const notifier = new Notifier({ config, store: deps.store, manager: deps.manager, channels, metrics, log, linkBase });
    deps.timeline.add('notifications', (id) => notifier.outbox.deliveries(id));
    return { services: { notifier }, components: [notifier] };
  },
});
