// A rollout's durable state in ClickHouse: one versioned row per change of the rollout
// (`upgrade_rollouts`) and of each of its nodes (`upgrade_rollout_nodes`). The engine writes a
// node's phase as soon as it is reached, so after a crash it continues from the phase recorded and
// never repeats a finished step (a drained node is not drained again).
import type { Store } from '../../store/store.ts';
import type { UpgradePlan } from './plan.ts';
import { nextVersion } from './versions.ts';

export type RolloutState = 'running' | 'waiting' | 'paused' | 'failed' | 'aborted' | 'succeeded';
export const ACTIVE_STATES: readonly RolloutState[] = ['running', 'waiting', 'paused', 'failed'];

/** In order: a node at a phase has done every step before it. */
export const PHASES = ['pending', 'preflight', 'cordoned', 'drained', 'installed', 'ready', 'uncordoned', 'done'] as const;
export type NodePhase = (typeof PHASES)[number] | 'failed';

export interface NodeRecord {
  node: string;
  phase: NodePhase;
  /** Failed: the phase it had reached when it failed (where resume picks up). */
  reached: (typeof PHASES)[number];
  reason: string;
  /** When its upgrade started (preflight) and when it was back in service (uncordoned): the span its expected findings are tied to. */
  startedAt: number | null;
  backAt: number | null;
  updatedAt: number;
}

export interface Rollout {
  id: string;
  cluster: string;
  release: string;
  fromRelease: string | null;
  state: RolloutState;
  reason: string;
  plan: UpgradePlan;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  nodes: NodeRecord[];
}

export function phaseIndex(p: (typeof PHASES)[number]): number {
  return PHASES.indexOf(p);
}

export class RolloutStore {
  constructor(private readonly store: Store) {}

  async writeRollout(r: Rollout): Promise<void> {
    await this.store.insert('upgrade_rollouts', [
      {
        id: r.id,
        version: nextVersion(),
        cluster: r.cluster,
        release: r.release,
        from_release: r.fromRelease ?? '',
        state: r.state,
        reason: r.reason,
        plan: JSON.stringify(r.plan),
        created_by: r.createdBy,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
      },
    ]);
  }

  async writeNode(rolloutId: string, n: NodeRecord): Promise<void> {
    await this.store.insert('upgrade_rollout_nodes', [
      { rollout_id: rolloutId, node: n.node, version: nextVersion(), phase: n.phase, reason: n.reason, detail: JSON.stringify({ reached: n.reached, startedAt: n.startedAt, backAt: n.backAt }), updated_at: n.updatedAt },
    ]);
  }

  /** Every rollout with its nodes, newest first. */
  async loadAll(): Promise<Rollout[]> {
    const rows = await this.store.query<Record<string, string | number>>(
      `SELECT id, argMax(cluster, version) AS cluster, argMax(release, version) AS release, argMax(from_release, version) AS from_release,
              argMax(state, version) AS state, argMax(reason, version) AS reason, argMax(plan, version) AS plan, argMax(created_by, version) AS created_by,
              toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at, toUnixTimestamp64Milli(argMax(updated_at, version)) AS updated_at
       FROM upgrade_rollouts GROUP BY id ORDER BY created_at DESC`,
    );
    const nodeRows = await this.store.query<Record<string, string | number>>(
      `SELECT rollout_id, node, argMax(phase, version) AS phase, argMax(reason, version) AS reason, argMax(detail, version) AS detail,
              toUnixTimestamp64Milli(argMax(updated_at, version)) AS updated_at
       FROM upgrade_rollout_nodes GROUP BY rollout_id, node`,
    );
    const byRollout = new Map<string, NodeRecord[]>();
    for (const r of nodeRows) {
      const d = JSON.parse(String(r.detail)) as { reached: NodeRecord['reached']; startedAt: number | null; backAt: number | null };
      const list = byRollout.get(String(r.rollout_id)) ?? [];
      list.push({ node: String(r.node), phase: String(r.phase) as NodePhase, reason: String(r.reason), reached: d.reached, startedAt: d.startedAt, backAt: d.backAt, updatedAt: Number(r.updated_at) });
      byRollout.set(String(r.rollout_id), list);
    }
    return rows.map((r) => {
      const plan = JSON.parse(String(r.plan)) as UpgradePlan;
      const recorded = new Map((byRollout.get(String(r.id)) ?? []).map((n) => [n.node, n]));
      // Nodes in plan order; one never written is pending.
      const nodes = plan.batches.flat().map((s) => recorded.get(s.node) ?? { node: s.node, phase: 'pending' as const, reached: 'pending' as const, reason: '', startedAt: null, backAt: null, updatedAt: 0 });
      return {
        id: String(r.id),
        cluster: String(r.cluster),
        release: String(r.release),
        fromRelease: String(r.from_release) || null,
        state: String(r.state) as RolloutState,
        reason: String(r.reason),
        plan,
        createdBy: String(r.created_by),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
        nodes,
      };
    });
  }
}
