// Builds channels from their configuration.
import type { Logger } from 'pino';
import type { Store } from '../../../store/store.ts';
import type { Channel } from '../channel.ts';
import type { ChannelConfig } from '../config.ts';
import type { NotifyMetrics } from '../metrics.ts';
import { EmailChannel } from './email.ts';
import { JiraChannel } from './jira.ts';
import { SlackChannel } from './slack.ts';

export function createChannel(cfg: ChannelConfig, deps: { store: Store; log: Logger; metrics: NotifyMetrics }): Channel {
  switch (cfg.type) {
    case 'slack':
      return new SlackChannel(cfg, { log: deps.log, onRateLimited: () => deps.metrics.rateLimited.inc({ channel: cfg.id }) });
    case 'email':
      return new EmailChannel(cfg);
    case 'jira':
      return new JiraChannel(cfg, deps.store, deps.log.child({ channel: cfg.id }));
  }
}
