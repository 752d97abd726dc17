// The notifier: decides what each channel should be told about each incident and delivers it.
//
// Deciding is level-triggered: on every incident event and on a tick, each incident's current
// state is compared with what was already decided for each of its routed channels (the outbox),
// and what is missing is enqueued under a deterministic key. That one rule gives Alertmanager-like
// timing (group wait before the first message, repeat interval, notify on resolve), makes restarts
// safe (nothing decided twice, nothing missed between a transition and its notification), and lets
// a silence that ends release what it held back.
//
// Delivering: one worker per channel takes the outbox in order (an update never overtakes the
// message it updates), retries with backoff until the channel takes it, and records each attempt;
// failures are counted in /metrics and written to the incident's history.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import { Backoff, sleep } from '../../core/backoff.ts';
import { InputError } from '../../core/errors.ts';
import type { IncidentEvent, IncidentListener, IncidentView } from '../../core/pipeline.ts';
import type { IncidentManager } from '../incidents/manager.ts';
import type { IncidentRecord } from '../incidents/model.ts';
import { toView } from '../incidents/model.ts';
import { failureReason, type Channel, type Delivery, type DeliveryKind, type FailureReason } from './channel.ts';
import type { NotificationsConfig } from './config.ts';
import { incidentLink } from './format.ts';
import type { NotifyMetrics } from './metrics.ts';
import { Outbox, type OutboxEntry } from './outbox.ts';
import { Router } from './router.ts';
import type { Store } from '../../store/store.ts';

export interface NotifierOptions {
  config: NotificationsConfig;
  store: Store;
  manager: IncidentManager;
  channels: Channel[];
  metrics: NotifyMetrics;
  log: Logger;
  /** The address people open Whistle at (server.publicUrl); links go to its console. None: no links. */
  linkBase?: string;
  now?: () => number;
}

export class Notifier implements Component, IncidentListener {
  readonly name = 'notifier';
  readonly outbox: Outbox;
  private readonly router: Router;
  private readonly channels = new Map<string, Channel>();
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private readonly wakers = new Map<string, () => void>();
  private readonly workers: Promise<void>[] = [];
  private readonly suppressedNoted = new Set<string>();
  private readonly deliveredWaiters = new Map<string, (() => void)[]>();
  /** Incidents with events not evaluated yet, and the pass that will evaluate them. */
  private readonly dirty = new Set<string>();
  private flushing: Promise<void> | null = null;
  /** Channel → key of the delivery (and its bookkeeping) in progress. */
  private readonly busy = new Map<string, string>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: NotifierOptions) {
    this.outbox = new Outbox(opts.store);
    this.router = new Router(opts.config);
    this.now = opts.now ?? Date.now;
    for (const c of opts.channels) this.channels.set(c.id, c);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.opts.manager.load();
    await this.outbox.load(this.opts.manager.current().map((i) => i.id));
    const unsubscribe = this.opts.manager.subscribe(this);
    const unHistory = this.opts.manager.onHistory((id, seq, entry) => {
      if (entry.actor === 'notifier' || this.stopped) return;
      void this.exclusive(() => this.note(id, seq, `${entry.actor ?? 'whistle'}: ${entry.message}`)).catch((err: Error) =>
        this.opts.log.error({ err: err.message, incident: id }, 'queuing a history note failed'),
      );
    });
    this.unsubscribe = () => {
      unsubscribe();
      unHistory();
    };
    for (const id of this.channels.keys()) this.workers.push(this.work(id));
    // Catch up on anything decided-but-missing from before a restart, then keep timing on a tick.
    await this.evaluateAll();
    this.timer = setInterval(() => void this.evaluateAll().catch((err: Error) => this.opts.log.error({ err: err.message }, 'notification tick failed')), this.opts.config.tickMs);
    this.timer.unref();
  }

  /** Stops deciding and delivering; what is pending stays in the outbox for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    while (this.flushing) await this.flushing;
    await this.lock.catch(() => undefined);
    this.abort.abort();
    for (const w of this.wakers.values()) w();
    await Promise.all(this.workers);
    for (const c of this.channels.values()) await c.close?.();
  }

  /**
   * Marks the incident for evaluation and returns at once: events that arrive together (a storm,
   * or an open quickly followed by an update) are evaluated in one pass with one outbox insert,
   * and the incident manager's event delivery never waits on the store.
   */
  async onIncidentEvent(event: IncidentEvent): Promise<void> {
    if (this.stopped) return;
    this.dirty.add(event.incident.id);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.stopped) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        this.exclusive(async () => {
          const ids = [...this.dirty];
          this.dirty.clear();
          const batch: OutboxEntry[] = [];
          for (const id of ids) {
            const rec = this.opts.manager.record(id);
            if (rec) await this.evaluate(rec, batch);
          }
          await this.enqueueBatch(batch);
        }),
      )
      .catch((err: Error) => this.opts.log.error({ err: err.message }, 'evaluating incident events failed'))
      .finally(() => {
        this.flushing = null;
        if (this.dirty.size > 0) this.scheduleFlush();
      });
  }

  /** Evaluates every incident the manager holds (group wait elapsed, repeat due, silence ended). */
  async evaluateAll(): Promise<void> {
    if (this.stopped) return;
    await this.exclusive(async () => {
      const current = this.opts.manager.current();
      const batch: OutboxEntry[] = [];
      for (const rec of current) await this.evaluate(rec, batch);
      await this.enqueueBatch(batch);
      const keep = new Set(current.map((r) => r.id));
      this.outbox.prune(keep);
      for (const k of this.suppressedNoted) if (!keep.has(k.slice(0, k.indexOf('|')))) this.suppressedNoted.delete(k);
    });
  }

  /**
   * Escalation from a remediator: a ticket for this incident (created once, even across restarts)
   * with the plan as a comment. Returns once it is durably queued; `delivered(key)` waits for it.
   */
  async openTicket(incident: IncidentView, plan: string | Record<string, unknown>): Promise<{ key: string; channel: string }> {
    const channel = this.opts.config.escalationChannel ?? [...this.channels.values()].find((c) => c.type === 'jira')?.id;
    if (!channel || !this.channels.has(channel)) throw new InputError('notifications.escalationChannel: no ticket channel configured');
    const text = typeof plan === 'string' ? plan : JSON.stringify(plan, null, 2);
    const key = `${incident.id}|${channel}|escalation|${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    await this.exclusive(async () => {
      await this.outbox.loadIncidents([incident.id]);
      await this.enqueue(channel, 'escalation', incident, 0, key, undefined, text);
    });
    return { key, channel };
  }

  /** The ticket key (or Slack ref) a channel holds for an incident, once delivered. */
  refOf(incidentId: string, channel: string): string | undefined {
    return this.outbox.stateOf(incidentId, channel).ref;
  }

  /** Resolves when the outbox entry with this key has been delivered (or the notifier stops). */
  delivered(key: string): Promise<void> {
    const [incidentId = '', channel = ''] = key.split('|');
    if (this.outbox.has(incidentId, channel, key) && !this.outbox.pendingList(channel).some((e) => e.key === key) && this.busy.get(channel) !== key) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.deliveredWaiters.get(key) ?? [];
      list.push(resolve);
      this.deliveredWaiters.set(key, list);
      this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Resolves once every channel's outbox is empty. For tests and orderly shutdown. */
  async drained(): Promise<void> {
    while (this.flushing) await this.flushing;
    while (!this.stopped && [...this.channels.keys()].some((c) => this.outbox.pendingCount(c) > 0 || this.busy.has(c))) await sleep(20);
  }

  /** The console's page for an incident, or undefined without a public URL. */
  linkFor(id: string): string | undefined {
    return incidentLink(this.opts.linkBase, id);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Decides what is missing for one incident; the entries are added to `batch` for one insert. */
  private async evaluate(rec: IncidentRecord, batch: OutboxEntry[]): Promise<void> {
    const targets = this.router.route(rec);
    if (targets.length === 0) return;
    await this.outbox.loadIncidents([rec.id]);
    const now = this.now();
    const suppression = this.opts.manager.suppressedBy(rec);
    for (const t of targets) {
      if (!this.channels.has(t.channel)) continue;
      const st = this.outbox.stateOf(rec.id, t.channel);
      const openedKey = `${rec.id}|${t.channel}|opened`;
      const opened = st.keys.has(openedKey);
      let want: { kind: DeliveryKind; key: string; note?: string } | null = null;
      if (!opened) {
        // Never told: a blip that resolved within the group wait is never sent at all (the wait
        // counts from the latest (re)opening, so a never-told blip that returns waits again).
        if (rec.state !== 'resolved' && now - rec.activeSince >= t.groupWaitMs) want = { kind: 'opened', key: openedKey };
      } else if (rec.state === 'resolved') {
        const key = `${rec.id}|${t.channel}|resolved|${rec.revision}`;
        if (t.sendResolved && !st.keys.has(key)) want = { kind: 'resolved', key };
      } else if (rec.revision > st.lastRevision) {
        want = { kind: 'updated', key: `${rec.id}|${t.channel}|updated|${rec.revision}`, note: await this.lastChange(rec) };
      } else if (this.channels.get(t.channel)!.type !== 'jira' && now - st.lastNotifiedAt >= t.repeatIntervalMs) {
        // (A ticket is not re-notified: it stays open in the ticket system.)
        want = { kind: 'repeat', key: `${rec.id}|${t.channel}|repeat|${st.lastNotifiedAt + t.repeatIntervalMs}` };
      }
      if (!want) continue;
      if (suppression) {
        // Held back, not dropped: evaluated again on every tick until the suppression ends.
        const noteKey = `${rec.id}|${suppression.id}`;
        if (!this.suppressedNoted.has(noteKey)) {
          this.suppressedNoted.add(noteKey);
          await this.history(rec.id, 'notification_suppressed', `notifications held back by ${suppression.kind} ${suppression.id}${suppression.comment ? ` (${suppression.comment})` : ''}`, {
            suppression,
          });
        }
        continue;
      }
      batch.push(this.entry(t.channel, want.kind, toView(rec), rec.revision, want.key, want.note));
    }
  }

  /** A remediator's history line goes where the incident was already announced (thread, ticket). */
  private async note(incidentId: string, seq: number, text: string): Promise<void> {
    const rec = this.opts.manager.record(incidentId);
    if (!rec || this.opts.manager.isSuppressed(rec)) return;
    await this.outbox.loadIncidents([rec.id]);
    for (const t of this.router.route(rec)) {
      const channel = this.channels.get(t.channel);
      if (!channel?.takesNotes || !this.outbox.has(rec.id, t.channel, `${rec.id}|${t.channel}|opened`)) continue;
      await this.enqueue(t.channel, 'note', toView(rec), rec.revision, `${rec.id}|${t.channel}|note|${seq}`, text);
    }
  }

  /** The reason of the incident's latest transition, shown as "what changed" in updates. */
  private async lastChange(rec: IncidentRecord): Promise<string | undefined> {
    const rows = await this.opts.store.query<{ kind: string; reason: string; actor: string }>(
      `SELECT kind, reason, actor FROM incident_log WHERE incident_id = {id:String} AND snapshot != '' ORDER BY seq DESC LIMIT 1`,
      { id: rec.id },
    );
    const r = rows[0];
    return r ? `${r.kind}${r.actor && r.actor !== 'whistle' ? ` by ${r.actor}` : ''}: ${r.reason}` : undefined;
  }

  private entry(channel: string, kind: DeliveryKind, incident: IncidentView, revision: number, key: string, note?: string, plan?: string): OutboxEntry {
    const entry: OutboxEntry = { key, kind, channel, incident, revision, enqueuedAt: this.now() };
    const link = this.linkFor(incident.id);
    if (link) entry.link = link;
    if (note) entry.note = note;
    if (plan) entry.plan = plan;
    return entry;
  }

  private async enqueue(channel: string, kind: DeliveryKind, incident: IncidentView, revision: number, key: string, note?: string, plan?: string): Promise<void> {
    await this.enqueueBatch([this.entry(channel, kind, incident, revision, key, note, plan)]);
  }

  private async enqueueBatch(entries: OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const fresh = await this.outbox.enqueueMany(entries);
    for (const channel of new Set(fresh.map((e) => e.channel))) {
      this.opts.metrics.pending.set({ channel }, this.outbox.pendingCount(channel));
      this.wakers.get(channel)?.();
    }
  }

  /**
   * One worker per channel. Per incident, entries go in order (an update never overtakes the
   * message it updates); across incidents, one that keeps failing (a bad payload) does not hold
   * up the others. Each entry is retried with its own backoff until the channel takes it.
   */
  private async work(channelId: string): Promise<void> {
    const channel = this.channels.get(channelId)!;
    const retry = this.opts.config.retry;
    const signal = this.abort.signal;
    const retries = new Map<string, { attempt: number; backoff: Backoff; nextAt: number; reason?: FailureReason }>();
    while (!signal.aborted) {
      const now = Date.now();
      const seen = new Set<string>();
      let pick: OutboxEntry | undefined;
      let earliest = Infinity;
      const pending = this.outbox.pendingList(channelId);
      for (const e of pending) {
        if (seen.has(e.incident.id)) continue;
        seen.add(e.incident.id);
        const r = retries.get(e.key);
        if (!r || r.nextAt <= now) {
          pick = e;
          break;
        }
        earliest = Math.min(earliest, r.nextAt);
      }
      if (!pick) {
        const woken = new Promise<void>((resolve) => this.wakers.set(channelId, resolve));
        await (pending.length === 0 ? woken : Promise.race([woken, sleep(earliest - now, signal)]));
        continue;
      }
      const r = retries.get(pick.key) ?? { attempt: 0, backoff: new Backoff({ initialMs: retry.initialMs, maxMs: retry.maxMs }), nextAt: 0 };
      retries.set(pick.key, r);
      r.attempt++;
      const entry = this.outbox.withRef(pick);
      if (r.attempt > 1) entry.uncertain = true;
      this.busy.set(channelId, entry.key);
      try {
        const result = await this.deliver(channel, entry);
        retries.delete(entry.key);
        await this.delivered_(channelId, entry, r.attempt, result.ref);
      } catch (err) {
        r.nextAt = Date.now() + r.backoff.next();
        await this.failed(channelId, entry, r.attempt, err, r.reason);
        r.reason = failureReason(err);
      } finally {
        this.busy.delete(channelId);
      }
    }
  }

  private async delivered_(channelId: string, entry: OutboxEntry, attempt: number, ref: string | undefined): Promise<void> {
    this.opts.metrics.delivered.inc({ channel: channelId, kind: entry.kind });
    try {
      await this.outbox.markDelivered(entry, attempt, ref, Date.now());
      await this.history(entry.incident.id, 'notification', `${entry.kind} notification delivered to ${channelId}${attempt > 1 ? ` after ${attempt} attempts` : ''}`, {
        channel: channelId,
        kind: entry.kind,
        ref: ref ?? entry.ref ?? '',
        attempt,
      });
    } catch (err) {
      this.opts.log.error({ err: errorMessage(err), channel: channelId, key: entry.key }, 'recording a delivery failed; it may be sent again after a restart');
    } finally {
      this.opts.metrics.pending.set({ channel: channelId }, this.outbox.pendingCount(channelId));
      for (const w of this.deliveredWaiters.get(entry.key) ?? []) w();
      this.deliveredWaiters.delete(entry.key);
    }
  }

  private async failed(channelId: string, entry: OutboxEntry, attempt: number, err: unknown, previous: FailureReason | undefined): Promise<void> {
    const message = errorMessage(err);
    const reason = failureReason(err);
    this.opts.metrics.failures.inc({ channel: channelId, reason });
    this.opts.log.warn({ channel: channelId, incident: entry.incident.id, kind: entry.kind, attempt, reason, err: message }, 'notification delivery failed; will retry');
    try {
      await this.outbox.markFailed(entry, attempt, message, Date.now());
      // The first failure, every tenth, and whenever the cause changes (an outage that turns into
      // a refused token), so a long outage does not flood the history but a new cause is seen.
      if (attempt === 1 || attempt % 10 === 0 || reason !== previous)
        await this.history(entry.incident.id, 'notification_failed', `${entry.kind} notification to ${channelId} failed (attempt ${attempt}, ${reason}): ${message}`, {
          channel: channelId,
          kind: entry.kind,
          attempt,
          reason,
          error: message,
        });
    } catch (storeErr) {
      this.opts.log.error({ err: errorMessage(storeErr) }, 'recording a failed delivery failed');
    }
  }

  private deliver(channel: Channel, d: Delivery): Promise<{ ref?: string }> {
    switch (d.kind) {
      case 'opened':
        return channel.send(d);
      case 'resolved':
        return channel.resolve(d);
      default:
        return channel.update(d);
    }
  }

  private async history(incidentId: string, kind: string, message: string, detail: Record<string, unknown>): Promise<void> {
    try {
      await this.opts.manager.appendHistory(incidentId, { kind, message, actor: 'notifier', detail });
    } catch (err) {
      this.opts.log.warn({ incident: incidentId, err: errorMessage(err) }, 'writing incident history failed');
    }
  }
}

function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 500 ? `${msg.slice(0, 497)}...` : msg;
}
