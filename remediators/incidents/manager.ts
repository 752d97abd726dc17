// The incident manager: turns detector reports into incidents, one per fingerprint.
//
// Lifecycle: a finding with a new fingerprint opens an incident; later findings attach to it (a
// severity change is an "updated" transition). It resolves when the detector that reports it ran
// and stopped reporting it for the resolve window, and only after the minimum open time. Flapping
// is damped twice: a fingerprint that returns within the reopen window reopens its incident (same
// id, same Slack message, same ticket), and each reopen doubles the resolve window.
//
// Durability: every transition is first appended to `incident_log` (with a snapshot of the
// incident) and only then applied in memory and announced to listeners. At start the current
// state is rebuilt from the latest snapshot of each incident, so a restart loses nothing and
// announces nothing again.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Component } from '../../core/component.ts';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts';
import type { DetectorReport, FindingSink, IncidentEvent, IncidentEventKind, IncidentListener, IncidentView } from '../../core/pipeline.ts';
import type { Finding, IncidentState } from '../../core/types.ts';
import type { Store } from '../../store/store.ts';
import type { IncidentsConfig } from './config.ts';
import { fromFinding, INCIDENT_STATES, severityRank, toView, type HistoryEntry, type HistoryInput, type IncidentRecord } from './model.ts';
import { Suppressions, type Suppression, type Suppressor } from './silences.ts';

export interface IncidentManagerOptions {
  store: Store;
  config: IncidentsConfig;
  log: Logger;
  registry?: Registry;
  /** The clock; tests drive it. Report timestamps are used for detection decisions. */
  now?: () => number;
}

export interface IncidentFilters {
  cluster?: string;
  detector?: string;
  severity?: string;
  state?: string;
  /** Only incidents that are not resolved. */
  active?: boolean;
  limit?: number;
}

type LogRow = {
  ts: number;
  incident_id: string;
  seq: number;
  fingerprint: string;
  cluster: string;
  detector: string;
  subject: string;
  severity: string;
  state: string;
  kind: string;
  reason: string;
  actor: string;
  detail: string;
  snapshot: string;
};

function newIncidentId(): string {
  return `inc-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Longer than any detector tick can take (the engine's timeouts are far shorter). */
const STALE_TICK_MS = 10 * 60_000;

export class IncidentManager implements FindingSink, Component {
  /** Resolution times of incidents already forgotten (prune), so a stale tick cannot open them anew. */
  private readonly recentlyResolved = new Map<string, number>();
  readonly name = 'incidents';
  readonly suppressions: Suppressions;
  private readonly store: Store;
  private readonly cfg: IncidentsConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Active incidents and those resolved within the reopen window. */
  private readonly incidents = new Map<string, IncidentRecord>();
  private readonly byFingerprint = new Map<string, string>();
  private readonly listeners = new Set<IncidentListener>();
  private readonly historyListeners = new Set<(incidentId: string, seq: number, entry: HistoryInput) => void>();
  private lock: Promise<unknown> = Promise.resolve();
  private emitting: Promise<void> = Promise.resolve();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly transitions?: Counter<'kind'>;

  constructor(opts: IncidentManagerOptions) {
    this.store = opts.store;
    this.cfg = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.suppressions = new Suppressions(opts.store, this.now);
    if (opts.registry) {
      this.transitions = new Counter({ name: 'whistle_incident_transitions_total', help: 'Incident transitions by kind', labelNames: ['kind'], registers: [opts.registry] });
      const incidents = this.incidents;
      new Gauge({
        name: 'whistle_incidents_open',
        help: 'Incidents not resolved, by severity',
        labelNames: ['severity'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const s of ['info', 'warning', 'critical']) this.set({ severity: s }, 0);
          for (const i of incidents.values()) if (i.state !== 'resolved') this.inc({ severity: i.severity });
        },
      });
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Rebuilds the current state from the incident log. Called by start(); idempotent. */
  async load(): Promise<void> {
    if (this.loaded) return;
    await this.suppressions.load();
    const since = this.now() - this.cfg.reopenWindowMs;
    const rows = await this.store.query<{ snap: string; max_seq: number }>(
      `SELECT incident_id, max(seq) AS max_seq, argMaxIf(snapshot, seq, snapshot != '') AS snap
       FROM incident_log
       GROUP BY incident_id
       HAVING argMaxIf(state, seq, snapshot != '') != 'resolved'
           OR toUnixTimestamp64Milli(argMaxIf(ts, seq, snapshot != '')) >= {since:Int64}`,
      { since },
    );
    const now = this.now();
    for (const row of rows) {
      const rec = JSON.parse(row.snap) as IncidentRecord;
      rec.seq = Number(row.max_seq);
      rec.revision ??= 0;
      // We cannot know whether it was seen between its last snapshot and the restart: count the
      // resolve window from now rather than resolve something that may still be happening.
      if (rec.state !== 'resolved') rec.lastSeenAt = Math.max(rec.lastSeenAt, now);
      this.put(rec);
    }
    this.loaded = true;
    this.log.info({ incidents: rows.length }, 'incident state rebuilt from the incident log');
  }

  async start(): Promise<void> {
    await this.load();
    this.timer = setInterval(() => void this.refresh(), this.cfg.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.lock.catch(() => undefined);
    await this.idle();
  }

  /** Resolves once every event emitted so far has been handled by the listeners. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.emitting;
      await current;
    } while (current !== this.emitting);
  }

  /** Re-reads silences and maintenance windows and forgets old resolved incidents (on a timer; tests call it). */
  async refresh(): Promise<void> {
    try {
      await this.suppressions.load();
      this.prune();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'refreshing silences failed');
    }
  }

  /** Forgets resolved incidents beyond the reopen window (they stay in the log). */
  private prune(): void {
    const now = this.now();
    const cutoff = now - this.cfg.reopenWindowMs;
    for (const [id, rec] of this.incidents) {
      if (rec.state === 'resolved' && (rec.resolvedAt ?? 0) < cutoff) {
        this.incidents.delete(id);
        if (this.byFingerprint.get(rec.fingerprint) === id) this.byFingerprint.delete(rec.fingerprint);
        this.recentlyResolved.set(rec.fingerprint, rec.resolvedAt ?? 0);
      }
    }
    // No tick runs this long: older resolutions cannot be raced by one any more.
    for (const [fp, at] of this.recentlyResolved) if (at < now - STALE_TICK_MS) this.recentlyResolved.delete(fp);
  }

  // ---- listeners ---------------------------------------------------------------------------------

  /** Registers a listener for every incident event; returns an unsubscribe function. */
  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events are delivered in order, one at a time, after the transition is durable. Delivery is not
   * awaited by the transition itself, so a listener may call back into the manager (transition,
   * appendHistory) from its handler without deadlocking.
   */
  private emit(kind: IncidentEventKind, rec: IncidentRecord): void {
    const event: IncidentEvent = { kind, incident: toView(rec) };
    this.emitting = this.emitting.then(async () => {
      for (const l of this.listeners) {
        try {
          await l.onIncidentEvent(event);
        } catch (err) {
          this.log.error({ err: (err as Error).message, incident: rec.id, kind }, 'incident listener failed');
        }
      }
    });
  }

  // ---- detector reports --------------------------------------------------------------------------

  async report(report: DetectorReport): Promise<void> {
    await this.exclusive(() => this.applyReport(report));
  }

  /**
   * One report is one batch: every transition it causes is written with one insert per table
   * (a fleet-wide problem opening thousands of incidents at once costs two inserts, not thousands).
   */
  private async applyReport(report: DetectorReport): Promise<void> {
    if (!this.loaded) await this.load();
    const ts = report.ts;
    const batch = new Batch();
    // One finding per fingerprint: if a detector says the same thing twice, the worst one counts.
    const byFp = new Map<string, Finding>();
    for (const f of report.findings) {
      if (!f.fingerprint) {
        this.log.warn({ detector: report.detector, cluster: report.cluster, subject: f.subject }, 'finding without fingerprint ignored');
        continue;
      }
      const prev = byFp.get(f.fingerprint);
      if (!prev || severityRank(f.severity) > severityRank(prev.severity)) byFp.set(f.fingerprint, f);
    }

    for (const f of byFp.values()) {
      const id = this.byFingerprint.get(f.fingerprint);
      const rec = id ? this.incidents.get(id) : undefined;
      // A tick that began before the incident was resolved (a remediator verified the fix while
      // the detector was still reading) says nothing new: it must not reopen what was just fixed.
      const resolvedAt = rec ? (rec.state === 'resolved' ? rec.resolvedAt : undefined) : this.recentlyResolved.get(f.fingerprint);
      if (resolvedAt !== undefined && ts < resolvedAt) continue;
      if (!rec || (rec.state === 'resolved' && ts - (rec.resolvedAt ?? 0) > this.cfg.reopenWindowMs)) this.open(batch, f, ts);
      else if (rec.state === 'resolved') this.reopen(batch, rec, f, ts);
      else this.attach(batch, rec, f, ts);
    }

    // The detector ran: what it no longer reports may resolve.
    for (const rec of this.incidents.values()) {
      if (rec.state === 'resolved' || rec.cluster !== report.cluster || rec.detector !== report.detector) continue;
      if (byFp.has(rec.fingerprint)) continue;
      const window = this.cfg.resolveWindowMs * 2 ** Math.min(rec.reopenCount, this.cfg.maxFlapDoublings);
      if (ts - rec.lastSeenAt < window || ts - rec.activeSince < this.cfg.minOpenMs) continue;
      const next = { ...rec, state: 'resolved' as const, resolvedAt: ts, updatedAt: ts, lastEvent: 'resolved' as const };
      this.stage(batch, next, 'resolved', `not reported by ${rec.detector} for ${Math.round((ts - rec.lastSeenAt) / 1000)} s`, 'whistle', {});
    }
    await this.flush(batch);
  }

  private open(batch: Batch, f: Finding, ts: number): void {
    const rec = fromFinding(newIncidentId(), f, ts);
    batch.finding(rec.id, f);
    this.stage(batch, rec, 'opened', f.summary, 'whistle', { severity: f.severity });
  }

  private reopen(batch: Batch, rec: IncidentRecord, f: Finding, ts: number): void {
    const next: IncidentRecord = {
      ...rec,
      state: 'open',
      severity: f.severity,
      summary: f.summary,
      evidence: structuredClone(f.evidence),
      labels: { ...f.labels },
      updatedAt: ts,
      lastSeenAt: f.ts,
      activeSince: ts,
      reopenCount: rec.reopenCount + 1,
      lastEvent: 'state_changed',
    };
    delete next.resolvedAt;
    batch.finding(rec.id, f);
    this.stage(batch, next, 'reopened', `reported again within ${Math.round(this.cfg.reopenWindowMs / 60_000)} min of resolving: ${f.summary}`, 'whistle', {
      reopenCount: next.reopenCount,
    });
  }

  private attach(batch: Batch, rec: IncidentRecord, f: Finding, ts: number): void {
    if (f.severity !== rec.severity) {
      const next: IncidentRecord = { ...rec, severity: f.severity, summary: f.summary, evidence: structuredClone(f.evidence), labels: { ...f.labels }, updatedAt: ts, lastSeenAt: f.ts, lastEvent: 'updated' };
      batch.finding(rec.id, f);
      this.stage(batch, next, 'updated', `severity ${rec.severity} -> ${f.severity}: ${f.summary}`, 'whistle', { from: rec.severity, to: f.severity });
      return;
    }
    // Same problem, same severity: refresh what we show without a transition.
    rec.lastSeenAt = Math.max(rec.lastSeenAt, f.ts);
    rec.summary = f.summary;
    rec.evidence = structuredClone(f.evidence);
  }

  // ---- remediators' interface --------------------------------------------------------------------

  /** Moves an incident to another state (remediating, awaiting_approval, escalated, open, resolved). */
  async transition(id: string, state: IncidentState, reason: string, actor: string): Promise<IncidentView> {
    if (!INCIDENT_STATES.includes(state)) throw new InputError(`state: must be one of ${INCIDENT_STATES.join(', ')}`);
    return this.exclusive(async () => {
      const rec = this.incidents.get(id);
      if (!rec) throw new NotFoundError(`no active incident "${id}"`);
      if (rec.state === 'resolved') throw new ConflictError(`incident "${id}" is resolved`);
      if (rec.state === state) return toView(rec);
      const ts = this.now();
      const kind: IncidentEventKind = state === 'resolved' ? 'resolved' : 'state_changed';
      const next: IncidentRecord = { ...rec, state, updatedAt: ts, lastEvent: kind };
      if (state === 'resolved') next.resolvedAt = ts;
      await this.commit(next, state === 'resolved' ? 'resolved' : 'state_changed', reason, actor, { from: rec.state, to: state });
      return toView(next);
    });
  }

  /** Adds a line to an incident's history (remediation actions, deliveries) without changing it. */
  async appendHistory(id: string, entry: HistoryInput): Promise<void> {
    await this.exclusive(async () => {
      const rec = this.incidents.get(id);
      const seq = rec ? rec.seq + 1 : await this.nextSeqFromStore(id);
      await this.store.insert('incident_log', [
        {
          ts: this.now(),
          incident_id: id,
          seq,
          fingerprint: rec?.fingerprint ?? '',
          cluster: rec?.cluster ?? '',
          detector: rec?.detector ?? '',
          subject: rec?.subject ?? '',
          severity: rec?.severity ?? '',
          state: rec?.state ?? '',
          kind: entry.kind,
          reason: entry.message,
          actor: entry.actor ?? 'whistle',
          detail: JSON.stringify(entry.detail ?? {}),
          snapshot: '',
        } satisfies LogRow,
      ]);
      if (rec) rec.seq = seq;
      for (const l of this.historyListeners) l(id, seq, entry);
    });
  }

  /**
   * Hears every history line added through appendHistory (remediators' actions), after it is
   * durable. The notifier uses it to post "what happens next" to Slack threads and tickets.
   */
  onHistory(listener: (incidentId: string, seq: number, entry: HistoryInput) => void): () => void {
    this.historyListeners.add(listener);
    return () => this.historyListeners.delete(listener);
  }

  private async nextSeqFromStore(id: string): Promise<number> {
    const rows = await this.store.query<{ n: number; s: number }>('SELECT count() AS n, max(seq) AS s FROM incident_log WHERE incident_id = {id:String}', { id });
    if (!rows[0] || Number(rows[0].n) === 0) throw new NotFoundError(`no incident "${id}"`);
    return Number(rows[0].s) + 1;
  }

  private readonly suppressors = new Set<Suppressor>();

  /** Registers another stage's suppression (a rollout's expected findings); returns a function that removes it. */
  addSuppressor(s: Suppressor): () => void {
    this.suppressors.add(s);
    return () => this.suppressors.delete(s);
  }

  /** What holds the incident back now, if anything: a rollout it is expected from, a silence, a maintenance window. */
  suppressedBy(incident: IncidentView | string): Suppression | null {
    const view = typeof incident === 'string' ? this.incidents.get(incident) : incident;
    if (!view) return null;
    for (const s of this.suppressors) {
      const hit = s(view);
      if (hit) return hit;
    }
    return this.suppressions.suppressedBy(view);
  }

  /** True while a silence or maintenance window applies: no notification, no remediation. */
  isSuppressed(incident: IncidentView | string): boolean {
    return this.suppressedBy(incident) !== null;
  }

  get(id: string): IncidentView | undefined {
    const rec = this.incidents.get(id);
    return rec ? toView(rec) : undefined;
  }

  /** The internal record of an incident held in memory (a copy). */
  record(id: string): IncidentRecord | undefined {
    const r = this.incidents.get(id);
    return r ? { ...r, labels: { ...r.labels } } : undefined;
  }

  /** Incidents held in memory: active ones and those resolved within the reopen window. */
  current(): IncidentRecord[] {
    return [...this.incidents.values()].map((r) => ({ ...r, labels: { ...r.labels } }));
  }

  // ---- reading the log (API) ---------------------------------------------------------------------

  async list(filters: IncidentFilters = {}): Promise<IncidentView[]> {
    const rows = await this.store.query<{ incident_id: string; snap: string }>(
      `SELECT incident_id, argMaxIf(snapshot, seq, snapshot != '') AS snap
       FROM incident_log
       WHERE ({cluster:String} = '' OR cluster = {cluster:String}) AND ({detector:String} = '' OR detector = {detector:String})
       GROUP BY incident_id
       HAVING snap != ''
          AND ({severity:String} = '' OR argMaxIf(severity, seq, snapshot != '') = {severity:String})
          AND ({state:String} = '' OR argMaxIf(state, seq, snapshot != '') = {state:String})
          AND (NOT {active:Bool} OR argMaxIf(state, seq, snapshot != '') != 'resolved')
       ORDER BY min(ts) DESC
       LIMIT {limit:UInt32}`,
      {
        cluster: filters.cluster ?? '',
        detector: filters.detector ?? '',
        severity: filters.severity ?? '',
        state: filters.state ?? '',
        active: filters.active ?? false,
        limit: filters.limit ?? 100,
      },
    );
    return rows.map((r) => {
      const live = this.incidents.get(r.incident_id);
      return live ? toView(live) : toView(JSON.parse(r.snap) as IncidentRecord);
    });
  }

  /**
   * Remediation steps recorded for an incident in the `actions` table (remediators/policy), the
   * latest state of each step. Empty when no remediator is installed.
   */
  async actions(id: string): Promise<{ id: string; ts: number; kind: string; state: string; reason: string; actor: string; dryRun: boolean; detail: Record<string, unknown> }[]> {
    let rows: { id: string; ms: number; kind: string; state: string; reason: string; actor: string; dry_run: number; detail: string }[];
    try {
      rows = await this.store.query(
        `SELECT id, toUnixTimestamp64Milli(max(ts)) AS ms, argMax(kind, ts) AS kind, argMax(state, ts) AS state, argMax(reason, ts) AS reason,
                argMax(actor, ts) AS actor, argMax(dry_run, ts) AS dry_run, argMax(detail, ts) AS detail
         FROM actions WHERE incident_id = {id:String} GROUP BY id ORDER BY ms`,
        { id },
      );
    } catch (err) {
      // The table belongs to the remediation stage's migrations; without it there are no actions.
      this.log.debug({ err: (err as Error).message }, 'reading actions failed');
      return [];
    }
    return rows.map((r) => ({
      id: r.id,
      ts: Number(r.ms),
      kind: r.kind,
      state: r.state,
      reason: r.reason,
      actor: r.actor,
      dryRun: Number(r.dry_run) === 1,
      detail: JSON.parse(r.detail || '{}') as Record<string, unknown>,
    }));
  }

  /** One incident with its findings and full history (transitions, actions, deliveries). */
  async show(id: string): Promise<{ incident: IncidentView; findings: unknown[]; history: HistoryEntry[] }> {
    const live = this.incidents.get(id);
    const logRows = await this.store.query<LogRow & { ms: number }>(
      `SELECT toUnixTimestamp64Milli(ts) AS ms, seq, kind, state, reason, actor, detail, snapshot FROM incident_log WHERE incident_id = {id:String} ORDER BY seq`,
      { id },
    );
    if (logRows.length === 0) throw new NotFoundError(`no incident "${id}"`);
    let incident: IncidentView | undefined = live ? toView(live) : undefined;
    if (!incident) {
      const last = [...logRows].reverse().find((r) => r.snapshot !== '');
      if (!last) throw new NotFoundError(`no incident "${id}"`);
      incident = toView(JSON.parse(last.snapshot) as IncidentRecord);
    }
    const findings = await this.store.query<{ ms: number; finding: string }>(
      `SELECT toUnixTimestamp64Milli(ts) AS ms, finding FROM incident_findings WHERE incident_id = {id:String} ORDER BY ts DESC LIMIT 100`,
      { id },
    );
    return {
      incident,
      findings: findings.map((f) => JSON.parse(f.finding) as unknown),
      history: logRows.map((r) => ({
        ts: Number(r.ms),
        seq: Number(r.seq),
        kind: r.kind,
        state: r.state as IncidentState,
        reason: r.reason,
        actor: r.actor,
        detail: JSON.parse(r.detail || '{}') as Record<string, unknown>,
      })),
    };
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** Serializes every mutation: reports and remediators' transitions never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private put(rec: IncidentRecord): void {
    this.incidents.set(rec.id, rec);
    this.byFingerprint.set(rec.fingerprint, rec.id);
  }

  /** Prepares a transition: numbered after the incident's current state, not applied yet. */
  private stage(batch: Batch, next: IncidentRecord, kind: string, reason: string, actor: string, detail: Record<string, unknown>): void {
    const prev = this.incidents.get(next.id);
    next.seq = (prev?.seq ?? 0) + 1;
    next.revision = (prev?.revision ?? 0) + 1;
    batch.transitions.push({ next, kind });
    batch.logRows.push({
      ts: next.updatedAt,
      incident_id: next.id,
      seq: next.seq,
      fingerprint: next.fingerprint,
      cluster: next.cluster,
      detector: next.detector,
      subject: next.subject,
      severity: next.severity,
      state: next.state,
      kind,
      reason,
      actor,
      detail: JSON.stringify(detail),
      snapshot: JSON.stringify(next),
    });
  }

  /** Durable first: the log rows are written before memory changes and before anyone is told. */
  private async flush(batch: Batch): Promise<void> {
    if (batch.findingRows.length > 0) await this.store.insert('incident_findings', batch.findingRows);
    if (batch.logRows.length === 0) return;
    await this.store.insert('incident_log', batch.logRows);
    for (const { next, kind } of batch.transitions) {
      this.put(next);
      this.transitions?.inc({ kind });
      this.log.info({ incident: next.id, kind, state: next.state, severity: next.severity, cluster: next.cluster, detector: next.detector, subject: next.subject }, `incident ${kind}`);
      this.emit(next.lastEvent, next);
    }
  }

  private async commit(next: IncidentRecord, kind: string, reason: string, actor: string, detail: Record<string, unknown>): Promise<void> {
    const batch = new Batch();
    this.stage(batch, next, kind, reason, actor, detail);
    await this.flush(batch);
  }
}

/** Rows and transitions of one report (or one remediator call), written together. */
class Batch {
  readonly logRows: LogRow[] = [];
  readonly findingRows: Record<string, unknown>[] = [];
  readonly transitions: { next: IncidentRecord; kind: string }[] = [];

  finding(id: string, f: Finding): void {
    this.findingRows.push({ ts: f.ts, incident_id: id, fingerprint: f.fingerprint, severity: f.severity, summary: f.summary, finding: JSON.stringify(f) });
  }
}
