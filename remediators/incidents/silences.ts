// Silences (label matchers with an end time) and per-cluster maintenance windows. While one applies
// to an incident, nothing is notified and nothing is remediated. Both expire on their own (the
// check is against the clock) or early through `expire`. Kept in memory, written through to
// ClickHouse, re-read periodically so several replicas agree.
import { randomBytes } from 'node:crypto';
import type { IncidentView } from '../../core/pipeline.ts';
import { InputError, NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';

export interface Matcher {
  /** cluster, detector, subject, severity, fingerprint, or a label name. */
  name: string;
  value: string;
  /** Full-match regular expression instead of equality. */
  regex?: boolean;
  /** Match when the value does NOT match. */
  negate?: boolean;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  /** Set when expired early by an operator. */
  expiredBy?: string;
}

export interface MaintenanceWindow {
  id: string;
  cluster: string;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  expiredBy?: string;
}

export type Suppression =
  | { kind: 'silence'; id: string; comment: string }
  | { kind: 'maintenance'; id: string; comment: string }
  /** Expected while a node is upgraded (bootstrap/upgrade/): `id` is the rollout's. */
  | { kind: 'rollout'; id: string; comment: string };

/** Another stage's reason to hold an incident back (the upgrade engine's expected findings). */
export type Suppressor = (incident: IncidentView) => Suppression | null;

const FIELDS = new Set(['cluster', 'detector', 'subject', 'severity', 'fingerprint']);

function fieldOf(incident: IncidentView, name: string): string | undefined {
  if (FIELDS.has(name)) return String(incident[name as keyof IncidentView]);
  return incident.labels[name];
}

/** Compiles a matcher once; invalid regexes are reported as a bad field, not a crash. */
export function compileMatcher(m: Matcher, where = 'matchers'): (incident: IncidentView) => boolean {
  let test: (v: string) => boolean;
  if (m.regex) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.value})$`);
    } catch (err) {
      throw new InputError(`${where}.value: invalid regular expression (${(err as Error).message})`);
    }
    test = (v) => re.test(v);
  } else test = (v) => v === m.value;
  return (incident) => {
    const v = fieldOf(incident, m.name) ?? '';
    return test(v) !== Boolean(m.negate);
  };
}

function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

interface SilenceRow {
  id: string;
  v: number;
  matchers: string;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
  expired_by: string;
}
interface WindowRow extends Omit<SilenceRow, 'matchers'> {
  cluster: string;
}

type Versioned<T> = T & { version: number };
type LiveSilence = Versioned<Silence & { test: (i: IncidentView) => boolean }>;

export class Suppressions {
  private readonly silences = new Map<string, LiveSilence>();
  private readonly windows = new Map<string, Versioned<MaintenanceWindow>>();
  private version = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Re-reads both tables (current version of each id) and merges by version, so a write made here
   * while the read was in flight is not lost, and changes made by another replica are picked up.
   */
  async load(): Promise<void> {
    const sil = await this.store.query<SilenceRow>(
      `SELECT id, max(version) AS v, argMax(matchers, version) AS matchers, toUnixTimestamp64Milli(argMax(starts_at, version)) AS starts_at,
              toUnixTimestamp64Milli(argMax(ends_at, version)) AS ends_at, argMax(comment, version) AS comment,
              argMax(created_by, version) AS created_by, toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at,
              argMax(expired_by, version) AS expired_by
       FROM silences GROUP BY id`,
    );
    for (const r of sil) {
      const version = Number(r.v);
      if ((this.silences.get(r.id)?.version ?? -1) >= version) continue;
      const s = fromRow(r, JSON.parse(r.matchers) as Matcher[]);
      this.silences.set(s.id, { ...s, test: compileAll(s.matchers), version });
    }
    const win = await this.store.query<WindowRow>(
      `SELECT id, max(version) AS v, argMax(cluster, version) AS cluster, toUnixTimestamp64Milli(argMax(starts_at, version)) AS starts_at,
              toUnixTimestamp64Milli(argMax(ends_at, version)) AS ends_at, argMax(comment, version) AS comment,
              argMax(created_by, version) AS created_by, toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at,
              argMax(expired_by, version) AS expired_by
       FROM maintenance_windows GROUP BY id`,
    );
    for (const r of win) {
      const version = Number(r.v);
      if ((this.windows.get(r.id)?.version ?? -1) >= version) continue;
      const { matchers: _m, ...base } = fromRow(r, []);
      this.windows.set(r.id, { ...base, cluster: r.cluster, version });
    }
  }

  async createSilence(input: { matchers: Matcher[]; startsAt?: number; endsAt: number; comment: string; createdBy: string }): Promise<Silence> {
    if (input.matchers.length === 0) throw new InputError('matchers: at least one matcher is required');
    const test = compileAll(input.matchers);
    const now = this.now();
    const startsAt = input.startsAt ?? now;
    if (input.endsAt <= startsAt) throw new InputError('endsAt: must be after startsAt');
    if (input.endsAt <= now) throw new InputError('endsAt: must be in the future');
    const s: Silence = { id: newId('sil'), matchers: input.matchers, startsAt, endsAt: input.endsAt, comment: input.comment, createdBy: input.createdBy, createdAt: now };
    const version = await this.writeSilence(s);
    this.silences.set(s.id, { ...s, test, version });
    return s;
  }

  /** Ends a silence now. Expiring an already ended one is a no-op that returns it. */
  async expireSilence(id: string, actor: string): Promise<Silence> {
    const s = this.silences.get(id);
    if (!s) throw new NotFoundError(`no silence "${id}"`);
    const now = this.now();
    if (s.endsAt <= now) return publicSilence(s);
    const ended = { ...s, endsAt: Math.max(now, s.startsAt), expiredBy: actor };
    ended.version = await this.writeSilence(ended);
    this.silences.set(id, ended);
    return publicSilence(ended);
  }

  listSilences(opts: { activeOnly?: boolean } = {}): Silence[] {
    const now = this.now();
    return [...this.silences.values()]
      .filter((s) => !opts.activeOnly || (s.startsAt <= now && now < s.endsAt))
      .map(publicSilence)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async createMaintenance(input: { cluster: string; startsAt: number; endsAt: number; comment: string; createdBy: string }): Promise<MaintenanceWindow> {
    if (input.endsAt <= input.startsAt) throw new InputError('end: must be after start');
    if (input.endsAt <= this.now()) throw new InputError('end: must be in the future');
    const w: MaintenanceWindow = { id: newId('mw'), ...input, createdAt: this.now() };
    const version = await this.writeWindow(w);
    this.windows.set(w.id, { ...w, version });
    return w;
  }

  async expireMaintenance(id: string, actor: string): Promise<MaintenanceWindow> {
    const w = this.windows.get(id);
    if (!w) throw new NotFoundError(`no maintenance window "${id}"`);
    const now = this.now();
    if (w.endsAt <= now) return publicWindow(w);
    const ended = { ...w, endsAt: Math.max(now, w.startsAt), expiredBy: actor };
    ended.version = await this.writeWindow(ended);
    this.windows.set(id, ended);
    return publicWindow(ended);
  }

  listMaintenance(opts: { activeOnly?: boolean; cluster?: string } = {}): MaintenanceWindow[] {
    const now = this.now();
    return [...this.windows.values()]
      .filter((w) => (!opts.activeOnly || (w.startsAt <= now && now < w.endsAt)) && (!opts.cluster || w.cluster === opts.cluster))
      .map(publicWindow)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /** The silence or maintenance window that applies to this incident now, if any. */
  suppressedBy(incident: IncidentView, at = this.now()): Suppression | null {
    for (const w of this.windows.values()) {
      if (w.cluster === incident.cluster && w.startsAt <= at && at < w.endsAt) return { kind: 'maintenance', id: w.id, comment: w.comment };
    }
    for (const s of this.silences.values()) {
      if (s.startsAt <= at && at < s.endsAt && s.test(incident)) return { kind: 'silence', id: s.id, comment: s.comment };
    }
    return null;
  }

  private async writeSilence(s: Silence): Promise<number> {
    const version = this.nextVersion();
    await this.store.insert('silences', [
      {
        id: s.id,
        version,
        matchers: JSON.stringify(s.matchers),
        starts_at: s.startsAt,
        ends_at: s.endsAt,
        comment: s.comment,
        created_by: s.createdBy,
        created_at: s.createdAt,
        expired_by: s.expiredBy ?? '',
      },
    ]);
    return version;
  }

  private async writeWindow(w: MaintenanceWindow): Promise<number> {
    const version = this.nextVersion();
    await this.store.insert('maintenance_windows', [
      {
        id: w.id,
        version,
        cluster: w.cluster,
        starts_at: w.startsAt,
        ends_at: w.endsAt,
        comment: w.comment,
        created_by: w.createdBy,
        created_at: w.createdAt,
        expired_by: w.expiredBy ?? '',
      },
    ]);
    return version;
  }

  /** Versions order changes of one id; wall-clock micro-time keeps them increasing across restarts. */
  private nextVersion(): number {
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    return this.version;
  }
}

function compileAll(matchers: Matcher[]): (i: IncidentView) => boolean {
  const tests = matchers.map((m, i) => compileMatcher(m, `matchers[${i}]`));
  return (incident) => tests.every((t) => t(incident));
}

function fromRow(r: Omit<SilenceRow, 'matchers'>, matchers: Matcher[]): Silence {
  const s: Silence = {
    id: r.id,
    matchers,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    comment: r.comment,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
  if (r.expired_by) s.expiredBy = r.expired_by;
  return s;
}

function publicSilence(s: Silence & { test?: unknown; version?: number }): Silence {
  const { test: _t, version: _v, ...rest } = s;
  return rest;
}

function publicWindow(w: MaintenanceWindow & { version?: number }): MaintenanceWindow {
  const { version: _v, ...rest } = w;
  return rest;
}
