// The audit trail the Actions page shows: every remediation and bootstrap step (`actions`, its
// latest row per step) and every operator action (`audit_log`), newest first, filterable.
import type { Store } from '../store/store.ts';

export interface TrailEntry {
  ts: number;
  source: 'remediation' | 'operator';
  actor: string;
  kind: string;
  state: string;
  cluster: string;
  subject: string;
  incidentId: string;
  text: string;
}

export interface TrailFilter {
  cluster?: string;
  actor?: string;
  /** Substring of the kind (`etcd.`, `silence`, `node.authorize`). */
  kind?: string;
  source?: 'remediation' | 'operator' | '';
  incidentId?: string;
  limit?: number;
}

export async function readTrail(store: Store, f: TrailFilter = {}): Promise<TrailEntry[]> {
  const params = { cluster: f.cluster ?? '', actor: f.actor ?? '', kind: f.kind ?? '', inc: f.incidentId ?? '', limit: f.limit ?? 200 };
  const out: TrailEntry[] = [];
  if (f.source !== 'operator') {
    const rows = await store.query<{ ms: number; id: string; a_actor: string; a_kind: string; a_state: string; a_cluster: string; a_subject: string; a_incident: string; a_reason: string; a_dry: number }>(
      `SELECT id, toUnixTimestamp64Milli(max(ts)) AS ms, argMax(actor, ts) AS a_actor, argMax(kind, ts) AS a_kind,
              argMax(state, (ts, indexOf(['planned', 'started', 'skipped', 'succeeded', 'failed'], state))) AS a_state,
              argMax(cluster, ts) AS a_cluster, argMax(subject, ts) AS a_subject, argMax(incident_id, ts) AS a_incident,
              argMax(reason, ts) AS a_reason, argMax(dry_run, ts) AS a_dry
       FROM actions
       WHERE ({cluster:String} = '' OR cluster = {cluster:String}) AND ({inc:String} = '' OR incident_id = {inc:String})
         AND ({kind:String} = '' OR position(kind, {kind:String}) > 0)
       GROUP BY id
       HAVING {actor:String} = '' OR a_actor = {actor:String}
       ORDER BY ms DESC LIMIT {limit:UInt32}`,
      params,
    );
    for (const r of rows) {
      out.push({ ts: Number(r.ms), source: 'remediation', actor: r.a_actor, kind: r.a_kind, state: Number(r.a_dry) === 1 ? `${r.a_state} (dry run)` : r.a_state, cluster: r.a_cluster, subject: r.a_subject, incidentId: r.a_incident, text: r.a_reason });
    }
  }
  if (f.source !== 'remediation' && !f.incidentId) {
    const rows = await store.query<{ ms: number; actor: string; action: string; cluster: string; subject: string; detail: string }>(
      `SELECT toUnixTimestamp64Milli(ts) AS ms, actor, action, cluster, subject, detail FROM audit_log
       WHERE ({cluster:String} = '' OR cluster = {cluster:String}) AND ({actor:String} = '' OR actor = {actor:String})
         AND ({kind:String} = '' OR position(action, {kind:String}) > 0)
       ORDER BY ts DESC LIMIT {limit:UInt32}`,
      params,
    );
    for (const r of rows) {
      out.push({ ts: Number(r.ms), source: 'operator', actor: r.actor, kind: r.action, state: '', cluster: r.cluster, subject: r.subject, incidentId: '', text: r.detail === '{}' ? '' : r.detail });
    }
  }
  return out.sort((a, b) => b.ts - a.ts).slice(0, params.limit);
}
