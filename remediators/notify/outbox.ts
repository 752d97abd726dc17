// The durable notification outbox. A notification is written here before any attempt to deliver
// it, and stays pending until a `delivered` row with its key is in `notify_log`. Keys are
// deterministic (incident, channel, what, when), so deciding the same notification twice, e.g.
// after a restart, enqueues it once. What each channel returned (Slack ts, Jira key) is kept as
// `ref` for later deliveries about the same incident.
import { retry } from '../../core/backoff.ts';
import type { Store } from '../../store/store.ts';
import type { Delivery, DeliveryKind } from './channel.ts';

export interface OutboxEntry extends Delivery {
  channel: string;
  enqueuedAt: number;
  /** The incident's revision when this was decided. */
  revision: number;
}

/** What has been decided for one incident on one channel. */
export interface ChannelIncidentState {
  keys: Set<string>;
  /** The incident revision in the latest opened/updated/resolved notification. */
  lastRevision: number;
  /** When the latest opened/updated/repeat notification was decided (repeat interval counts from it). */
  lastNotifiedAt: number;
  ref?: string;
}

interface OutboxRow {
  key: string;
  channel: string;
  incident_id: string;
  kind: string;
  payload: string;
  ms: number;
}

export class Outbox {
  private readonly state = new Map<string, ChannelIncidentState>();
  private readonly pending = new Map<string, OutboxEntry[]>();
  private readonly loadedIncidents = new Set<string>();

  constructor(private readonly store: Store) {}

  private static sk(incidentId: string, channel: string): string {
    return `${incidentId}|${channel}`;
  }

  /** Loads every undelivered entry (in order) and the decision state of the given incidents. */
  async load(incidentIds: string[]): Promise<void> {
    const pending = await this.store.query<OutboxRow>(
      `SELECT key, channel, incident_id, kind, payload, toUnixTimestamp64Milli(ts) AS ms FROM notify_outbox
       WHERE key NOT IN (SELECT key FROM notify_log WHERE status = 'delivered')
       ORDER BY ts, key`,
    );
    const ids = new Set([...incidentIds, ...pending.map((p) => p.incident_id)]);
    await this.loadIncidents([...ids]);
    // Left by an earlier process: it may have been delivered just before that process stopped.
    for (const row of pending) this.pushPending({ ...this.entryOf(row), uncertain: true });
  }

  /** Loads the decision state of incidents not seen yet (a no-op for known ones). */
  async loadIncidents(ids: string[]): Promise<void> {
    const fresh = ids.filter((id) => !this.loadedIncidents.has(id));
    if (fresh.length === 0) return;
    const rows = await this.store.query<OutboxRow>(
      `SELECT key, channel, incident_id, kind, payload, toUnixTimestamp64Milli(ts) AS ms FROM notify_outbox
       WHERE incident_id IN {ids:Array(String)} ORDER BY ts, key`,
      { ids: fresh },
    );
    for (const row of rows) this.remember(this.entryOf(row));
    const refs = await this.store.query<{ incident_id: string; channel: string; last_ref: string }>(
      `SELECT incident_id, channel, argMax(ref, ts) AS last_ref FROM notify_log
       WHERE incident_id IN {ids:Array(String)} AND status = 'delivered' AND ref != '' GROUP BY incident_id, channel`,
      { ids: fresh },
    );
    for (const r of refs) this.stateOf(r.incident_id, r.channel).ref = r.last_ref;
    for (const id of fresh) this.loadedIncidents.add(id);
  }

  stateOf(incidentId: string, channel: string): ChannelIncidentState {
    const k = Outbox.sk(incidentId, channel);
    let s = this.state.get(k);
    if (!s) {
      s = { keys: new Set(), lastRevision: 0, lastNotifiedAt: 0 };
      this.state.set(k, s);
    }
    return s;
  }

  has(incidentId: string, channel: string, key: string): boolean {
    return this.stateOf(incidentId, channel).keys.has(key);
  }

  /** Durably records a decided notification; returns false when that key was already enqueued. */
  async enqueue(e: OutboxEntry): Promise<boolean> {
    return (await this.enqueueMany([e])).length === 1;
  }

  /** Records several decided notifications with one insert; returns those that were new. */
  async enqueueMany(entries: OutboxEntry[]): Promise<OutboxEntry[]> {
    const seen = new Set<string>();
    const fresh = entries.filter((e) => !this.has(e.incident.id, e.channel, e.key) && !seen.has(e.key) && seen.add(e.key));
    if (fresh.length === 0) return [];
    await this.store.insert(
      'notify_outbox',
      fresh.map((e) => {
        const { ref: _ref, uncertain: _u, ...payload } = e;
        return { ts: e.enqueuedAt, key: e.key, channel: e.channel, incident_id: e.incident.id, kind: e.kind, payload: JSON.stringify(payload) };
      }),
    );
    for (const e of fresh) {
      this.remember(e);
      this.pushPending(e);
    }
    return fresh;
  }

  /** Undelivered entries of a channel, oldest first. */
  pendingList(channel: string): readonly OutboxEntry[] {
    return this.pending.get(channel) ?? [];
  }

  /** The entry with the latest ref the channel returned for its incident. */
  withRef(e: OutboxEntry): OutboxEntry {
    const ref = this.stateOf(e.incident.id, e.channel).ref;
    return ref ? { ...e, ref } : { ...e };
  }

  pendingCount(channel: string): number {
    return this.pending.get(channel)?.length ?? 0;
  }

  /**
   * Records a delivery. Memory is updated first: if the store write fails too (after retries), the
   * entry is not re-sent by this process (that would spam the channel), only once after a restart.
   */
  async markDelivered(e: OutboxEntry, attempt: number, ref: string | undefined, ts: number): Promise<void> {
    if (ref) this.stateOf(e.incident.id, e.channel).ref = ref;
    const q = this.pending.get(e.channel);
    const at = q?.findIndex((x) => x.key === e.key) ?? -1;
    if (q && at >= 0) q.splice(at, 1);
    await retry(
      () =>
        this.store.insert('notify_log', [
          { ts, key: e.key, channel: e.channel, incident_id: e.incident.id, kind: e.kind, status: 'delivered', attempt, ref: ref ?? '', error: '' },
        ]),
      { initialMs: 100, maxMs: 2_000, maxAttempts: 5 },
    );
  }

  async markFailed(e: OutboxEntry, attempt: number, error: string, ts: number): Promise<void> {
    await this.store.insert('notify_log', [
      { ts, key: e.key, channel: e.channel, incident_id: e.incident.id, kind: e.kind, status: 'failed', attempt, ref: '', error },
    ]);
  }

  /** Deliveries recorded for an incident (API: the incident's notifications). */
  async deliveries(incidentId: string): Promise<{ ts: number; key: string; channel: string; kind: string; status: string; attempt: number; ref: string; error: string }[]> {
    const rows = await this.store.query<{ ms: number; key: string; channel: string; kind: string; status: string; attempt: number; ref: string; error: string }>(
      `SELECT toUnixTimestamp64Milli(ts) AS ms, key, channel, kind, status, attempt, ref, error FROM notify_log WHERE incident_id = {id:String} ORDER BY ts, attempt`,
      { id: incidentId },
    );
    return rows.map(({ ms, ...r }) => ({ ts: Number(ms), ...r, attempt: Number(r.attempt) }));
  }

  /** Forgets the decision state of incidents outside `keep` with nothing pending (memory bound). */
  prune(keep: Set<string>): void {
    const pendingIds = new Set([...this.pending.values()].flatMap((q) => q.map((e) => e.incident.id)));
    for (const [k, _] of this.state) {
      const id = k.slice(0, k.lastIndexOf('|'));
      if (!keep.has(id) && !pendingIds.has(id)) {
        this.state.delete(k);
        this.loadedIncidents.delete(id);
      }
    }
  }

  private remember(e: OutboxEntry): void {
    const s = this.stateOf(e.incident.id, e.channel);
    s.keys.add(e.key);
    if (e.kind === 'opened' || e.kind === 'updated' || e.kind === 'resolved') s.lastRevision = Math.max(s.lastRevision, e.revision ?? 0);
    if (e.kind === 'opened' || e.kind === 'updated' || e.kind === 'repeat') s.lastNotifiedAt = Math.max(s.lastNotifiedAt, e.enqueuedAt);
  }

  private pushPending(e: OutboxEntry): void {
    let q = this.pending.get(e.channel);
    if (!q) {
      q = [];
      this.pending.set(e.channel, q);
    }
    if (!q.some((x) => x.key === e.key)) q.push(e);
  }

  private entryOf(row: OutboxRow): OutboxEntry {
    const payload = JSON.parse(row.payload) as Omit<OutboxEntry, 'ref'>;
    return { ...payload, kind: row.kind as DeliveryKind, channel: row.channel, key: row.key, enqueuedAt: Number(row.ms) };
  }
}
