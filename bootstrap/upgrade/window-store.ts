// The recurring maintenance windows of every cluster: those of the config file (read-only, id
// `config-<n>`) and those added through the API (stored in `upgrade_windows`, versioned rows, so
// replacing or deleting one is a new row and a restart reads the latest).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatIssues } from '../../core/config/load.ts';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { RecurringWindowConfig } from './config.ts';
import { nextVersion } from './versions.ts';
import { checkWindowOrder, windowFields, windowStateAt, type Day, type WindowState } from './windows.ts';

export interface StoredWindow {
  id: string;
  cluster: string;
  days: Day[];
  start: string;
  end: string;
  timeZone: string;
  comment: string;
  /** `config` for the file's windows. */
  createdBy: string;
  createdAt: number;
  source: 'config' | 'api';
}

/** The API's body: a window of one cluster, with a comment. */
export const windowInputSchema = z
  .strictObject({ cluster: z.string().min(1).max(63), ...windowFields, comment: z.string().max(1000).default('') })
  .superRefine(checkWindowOrder);
export type WindowInput = z.input<typeof windowInputSchema>;

interface Row {
  id: string;
  cluster: string;
  days: string;
  start: string;
  end: string;
  time_zone: string;
  comment: string;
  created_by: string;
  created_at: number;
  deleted: number;
}

export function parseWindowInput(body: unknown): z.output<typeof windowInputSchema> {
  const r = windowInputSchema.safeParse(body ?? {});
  if (!r.success) throw new InputError(formatIssues(r.error.issues).join('; '));
  return r.data;
}

export class WindowStore {
  private readonly fromApi = new Map<string, StoredWindow>();
  private readonly fromConfig: StoredWindow[];

  constructor(
    private readonly store: Store,
    config: RecurringWindowConfig[],
    private readonly knownCluster: (cluster: string) => boolean,
  ) {
    this.fromConfig = config.map((w, i) => ({ id: `config-${i}`, ...w, comment: 'upgrades.windows in the config file', createdBy: 'config', createdAt: 0, source: 'config' as const }));
  }

  async load(): Promise<void> {
    const rows = await this.store.query<Row>(
      `SELECT id, argMax(cluster, version) AS cluster, argMax(days, version) AS days, argMax(start_time, version) AS start, argMax(end_time, version) AS end,
              argMax(time_zone, version) AS time_zone, argMax(comment, version) AS comment, argMax(created_by, version) AS created_by,
              toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at, argMax(deleted, version) AS deleted
       FROM upgrade_windows GROUP BY id`,
    );
    this.fromApi.clear();
    for (const r of rows) {
      if (Number(r.deleted) === 1) continue;
      this.fromApi.set(r.id, { id: r.id, cluster: r.cluster, days: JSON.parse(r.days) as Day[], start: r.start, end: r.end, timeZone: r.time_zone, comment: r.comment, createdBy: r.created_by, createdAt: Number(r.created_at), source: 'api' });
    }
  }

  list(cluster?: string): StoredWindow[] {
    return [...this.fromConfig, ...this.fromApi.values()].filter((w) => cluster === undefined || w.cluster === cluster);
  }

  /** Whether `cluster` may be worked on at t, and when that changes. `requireWindow` off and no window: always open. */
  state(cluster: string, t: number, requireWindow: boolean): WindowState & { windows: number } {
    const windows = this.list(cluster);
    if (windows.length === 0 && !requireWindow) return { open: true, closesAt: null, nextOpening: null, windows: 0 };
    return { ...windowStateAt(windows, t), windows: windows.length };
  }

  async create(body: unknown, actor: string): Promise<StoredWindow> {
    const input = parseWindowInput(body);
    this.checkCluster(input.cluster);
    const w: StoredWindow = { id: `uw-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, ...input, createdBy: actor, createdAt: Date.now(), source: 'api' };
    await this.write(w, false);
    this.fromApi.set(w.id, w);
    return w;
  }

  async replace(id: string, body: unknown, actor: string): Promise<StoredWindow> {
    const old = this.editable(id);
    const input = parseWindowInput(body);
    this.checkCluster(input.cluster);
    const w: StoredWindow = { ...old, ...input, createdBy: actor };
    await this.write(w, false);
    this.fromApi.set(id, w);
    return w;
  }

  async delete(id: string): Promise<StoredWindow> {
    const old = this.editable(id);
    await this.write(old, true);
    this.fromApi.delete(id);
    return old;
  }

  private editable(id: string): StoredWindow {
    if (this.fromConfig.some((w) => w.id === id)) throw new ConflictError(`window ${id} comes from the config file (upgrades.windows): change it there`);
    const w = this.fromApi.get(id);
    if (!w) throw new NotFoundError(`id: no maintenance window "${id}"`);
    return w;
  }

  private checkCluster(cluster: string): void {
    if (!this.knownCluster(cluster)) throw new NotFoundError(`cluster: no cluster "${cluster}" is configured`);
  }

  private async write(w: StoredWindow, deleted: boolean): Promise<void> {
    await this.store.insert('upgrade_windows', [
      { id: w.id, version: nextVersion(), cluster: w.cluster, days: JSON.stringify(w.days), start_time: w.start, end_time: w.end, time_zone: w.timeZone, comment: w.comment, created_by: w.createdBy, created_at: w.createdAt, deleted: deleted ? 1 : 0 },
    ]);
  }
}
