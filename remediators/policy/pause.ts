// Remediation paused per cluster (`whistle remediation pause|resume CLUSTER`). Each pause and resume
// is a row in the `actions` table, so the newest one per cluster says whether it is paused after a
// restart too. While a cluster is paused the policy records `Paused` and changes nothing.
import type { ActionRecorder } from './recorder.ts';
import type { Store } from '../../store/store.ts';

export const PAUSE_KIND = 'remediation.pause';
export const RESUME_KIND = 'remediation.resume';

export interface PauseState {
  cluster: string;
  paused: boolean;
  actor: string;
  reason: string;
  /** Epoch ms of the pause or resume. */
  since: number;
}

export class RemediationPause {
  private readonly byCluster = new Map<string, PauseState>();
  private markLoaded!: () => void;
  /** Detectors may open incidents before this stage starts: nothing is decided before the table is read. */
  private readonly loaded = new Promise<void>((resolve) => (this.markLoaded = resolve));

  constructor(
    private readonly store: Store,
    private readonly recorder: ActionRecorder,
  ) {}

  async load(): Promise<void> {
    // Aliases differ from the columns: ClickHouse would read `kind` in WHERE as the aggregate.
    const rows = await this.store.query<{ cluster: string; last_kind: string; last_actor: string; last_reason: string; last_ts: number }>(
      `SELECT cluster, argMax(kind, ts) AS last_kind, argMax(actor, ts) AS last_actor, argMax(reason, ts) AS last_reason, toUnixTimestamp64Milli(max(ts)) AS last_ts
       FROM actions WHERE kind IN ({pause:String}, {resume:String}) GROUP BY cluster`,
      { pause: PAUSE_KIND, resume: RESUME_KIND },
    );
    for (const r of rows) this.byCluster.set(r.cluster, { cluster: r.cluster, paused: r.last_kind === PAUSE_KIND, actor: r.last_actor, reason: r.last_reason, since: Number(r.last_ts) });
    this.markLoaded();
  }

  /** Waits for the table to be read at start. */
  async isPaused(cluster: string): Promise<boolean> {
    await this.loaded;
    return this.byCluster.get(cluster)?.paused ?? false;
  }

  get(cluster: string): PauseState {
    return this.byCluster.get(cluster) ?? { cluster, paused: false, actor: '', reason: '', since: 0 };
  }

  list(): PauseState[] {
    return [...this.byCluster.values()].sort((a, b) => a.cluster.localeCompare(b.cluster));
  }

  pause(cluster: string, actor: string, reason: string): Promise<PauseState> {
    return this.set(cluster, true, actor, reason || 'paused');
  }

  resume(cluster: string, actor: string, reason: string): Promise<PauseState> {
    return this.set(cluster, false, actor, reason || 'resumed');
  }

  /** Recorded first: a pause that is not in the table would not survive a restart. */
  private async set(cluster: string, paused: boolean, actor: string, reason: string): Promise<PauseState> {
    const a = await this.recorder.write(this.recorder.newId(), 'succeeded', { cluster, subject: cluster, kind: paused ? PAUSE_KIND : RESUME_KIND, reason, actor });
    const state = { cluster, paused, actor, reason, since: a.ts };
    this.byCluster.set(cluster, state);
    return state;
  }
}
