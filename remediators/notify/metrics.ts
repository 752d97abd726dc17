// Notification metrics on the app's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface NotifyMetrics {
  failures: Counter<'channel' | 'reason'>;
  delivered: Counter<'channel' | 'kind'>;
  rateLimited: Counter<'channel'>;
  pending: Gauge<'channel'>;
}

export function createNotifyMetrics(registry: Registry): NotifyMetrics {
  return {
    failures: new Counter({ name: 'whistle_notify_failures_total', help: 'Failed notification delivery attempts (each is retried), by cause (channel.ts FailureReason)', labelNames: ['channel', 'reason'], registers: [registry] }),
    delivered: new Counter({ name: 'whistle_notify_delivered_total', help: 'Notifications delivered', labelNames: ['channel', 'kind'], registers: [registry] }),
    rateLimited: new Counter({ name: 'whistle_notify_rate_limited_total', help: 'Rate-limit answers (429) from a channel, waited out', labelNames: ['channel'], registers: [registry] }),
    pending: new Gauge({ name: 'whistle_notify_pending', help: 'Notifications in the outbox not delivered yet', labelNames: ['channel'], registers: [registry] }),
  };
}
