// Records remediation and bootstrap steps in the `actions` table: a row before (planned/started)
// and a row after (succeeded/failed/skipped), same id. Recording is part of acting: if the record
// cannot be written, the step does not run.
import { randomBytes } from 'node:crypto';
import type { Action, ActionState } from '../../core/types.ts';
import type { Store } from '../../store/store.ts';

export interface ActionInput {
  incidentId?: string;
  cluster: string;
  subject: string;
  kind: string;
  reason: string;
  dryRun?: boolean;
  actor?: string;
  detail?: Record<string, unknown>;
}

export class ActionRecorder {
  constructor(readonly store: Store) {}

  newId(): string {
    return `act-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  }

  async write(id: string, state: ActionState, a: ActionInput): Promise<Action> {
    const action: Action = {
      id,
      incidentId: a.incidentId ?? '',
      cluster: a.cluster,
      subject: a.subject,
      kind: a.kind,
      state,
      reason: a.reason,
      dryRun: a.dryRun ?? false,
      ts: Date.now(),
      detail: a.detail ?? {},
      actor: a.actor ?? 'whistle',
    };
    await this.store.insert('actions', [
      {
        ts: action.ts,
        id,
        incident_id: action.incidentId,
        cluster: action.cluster,
        subject: action.subject,
        kind: action.kind,
        state,
        reason: action.reason,
        dry_run: action.dryRun ? 1 : 0,
        actor: a.actor ?? 'whistle',
        detail: JSON.stringify(action.detail),
      },
    ]);
    return action;
  }

  /**
   * Runs `fn` as one recorded step: `started` before (with `before`), `succeeded` with what `fn`
   * returns as `after`, or `failed` with the error, which is re-thrown.
   */
  async step<T>(a: ActionInput & { before?: unknown }, fn: () => Promise<T>, after?: (r: T) => unknown): Promise<T> {
    const id = this.newId();
    await this.write(id, 'started', { ...a, detail: { ...(a.detail ?? {}), before: a.before ?? null } });
    try {
      const r = await fn();
      await this.write(id, 'succeeded', { ...a, detail: { ...(a.detail ?? {}), after: after ? after(r) : r } });
      return r;
    } catch (err) {
      await this.write(id, 'failed', { ...a, reason: (err as Error).message, detail: { ...(a.detail ?? {}), error: (err as Error).message } });
      throw err;
    }
  }

  /**
   * Actions of `kind` whose last row is `started`: begun, never finished (the process died in
   * between). Rows of one action can share a millisecond, so ties go to the later state.
   */
  async unfinished(kind: string): Promise<Action[]> {
    const rows = await this.store.query<{ id: string }>(
      `SELECT id FROM actions WHERE kind = {kind:String} GROUP BY id
       HAVING argMax(state, (ts, indexOf(['planned', 'started', 'skipped', 'succeeded', 'failed'], state))) = 'started'`,
      { kind },
    );
    const out: Action[] = [];
    for (const { id } of rows) {
      const first = (await this.byId(id)).find((a) => a.state === 'started');
      if (first) out.push(first);
    }
    return out;
  }

  /** Every row of one action, oldest first. */
  async byId(id: string): Promise<Action[]> {
    const rows = await this.store.query<Record<string, string | number>>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts, id, incident_id, cluster, subject, kind, state, reason, dry_run, actor, detail FROM actions WHERE id = {id:String} ORDER BY ts`,
      { id },
    );
    return rows.map(toAction);
  }

  async list(filter: { cluster?: string; incidentId?: string; limit?: number } = {}): Promise<Action[]> {
    const rows = await this.store.query<Record<string, string | number>>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts, id, incident_id, cluster, subject, kind, state, reason, dry_run, actor, detail
       FROM actions WHERE ({cluster:String} = '' OR cluster = {cluster:String}) AND ({inc:String} = '' OR incident_id = {inc:String})
       ORDER BY ts DESC LIMIT {limit:UInt32}`,
      { cluster: filter.cluster ?? '', inc: filter.incidentId ?? '', limit: filter.limit ?? 200 },
    );
    return rows.map(toAction);
  }
}

function toAction(r: Record<string, string | number>): Action {
  return {
    id: String(r.id),
    incidentId: String(r.incident_id),
    cluster: String(r.cluster),
    subject: String(r.subject),
    kind: String(r.kind),
    state: String(r.state) as ActionState,
    reason: String(r.reason),
    dryRun: Number(r.dry_run) === 1,
    ts: Number(r.ts),
    detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
    ...(r.actor !== undefined ? { actor: String(r.actor) } : {}),
  };
}
