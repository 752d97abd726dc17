// Builds an incident manager and a notifier over a chDB dir, as `whistle start` does, with a
// captured logger and a fresh metrics registry.
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { IncidentManager } from '../../remediators/incidents/manager.ts';
import { notificationsSchema } from '../../remediators/notify/config.ts';
import { createChannel } from '../../remediators/notify/channels/index.ts';
import { createNotifyMetrics } from '../../remediators/notify/metrics.ts';
import { Notifier } from '../../remediators/notify/notifier.ts';
import type { Store } from '../../store/store.ts';
import type { Channel, Delivery, DeliveryResult } from '../../remediators/notify/channel.ts';
import { incidentsConfig } from '../incidents/helpers.ts';

export interface Stack {
  manager: IncidentManager;
  notifier: Notifier;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startStack(opts: { store: Store; log: Logger; notifications: unknown; now: () => number; channels?: Channel[] }): Promise<Stack> {
  const config = notificationsSchema.parse(opts.notifications);
  const registry = new Registry();
  const metrics = createNotifyMetrics(registry);
  const manager = new IncidentManager({ store: opts.store, config: incidentsConfig(), log: opts.log, registry, now: opts.now });
  const channels = opts.channels ?? config.channels.map((c) => createChannel(c, { store: opts.store, log: opts.log, metrics }));
  const notifier = new Notifier({ config, store: opts.store, manager, channels, metrics, log: opts.log, linkBase: 'https://whistle.example.test', now: opts.now });
  await manager.start();
  await notifier.start();
  return {
    manager,
    notifier,
    registry,
    async stop() {
      await notifier.stop();
      await manager.stop();
    },
  };
}

/** Waits until `check` holds (polling, no timing assertion). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** The sum over every series whose labels include `labels` (e.g. failures of a channel, any reason). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).filter((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val)).reduce((sum, x) => sum + x.value, 0);
}

/**
 * A channel that records what it is asked to deliver, for routing and timing tests (the real
 * channels are tested against their services; this tests the notifier's decisions).
 */
export class RecordingChannel implements Channel {
  readonly type = 'slack' as const;
  readonly takesNotes = true;
  readonly received: { kind: string; subject: string; incident: string }[] = [];
  /** Throw for deliveries this returns true for. */
  failWhen: (d: Delivery) => boolean = () => false;

  constructor(readonly id: string) {}

  private record(d: Delivery): Promise<DeliveryResult> {
    if (this.failWhen(d)) return Promise.reject(new Error(`refused ${d.kind} for ${d.incident.subject}`));
    this.received.push({ kind: d.kind, subject: d.incident.subject, incident: d.incident.id });
    return Promise.resolve({ ref: d.ref ?? `${this.id}-${d.incident.id}` });
  }

  send(d: Delivery) {
    return this.record(d);
  }
  update(d: Delivery) {
    return this.record(d);
  }
  resolve(d: Delivery) {
    return this.record(d);
  }

  kinds(subject: string): string[] {
    return this.received.filter((r) => r.subject === subject).map((r) => r.kind);
  }
}
