// Plans that need a person. A remediator proposes a plan (one per incident and kind); it waits,
// recorded in `remediation_plans`, until an operator approves it (`whistle approve`, the API), and
// only then does the executor registered for its kind run it.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';

export type PlanState = 'awaiting_approval' | 'approved' | 'executing' | 'succeeded' | 'failed' | 'rejected';

export interface ProposedPlan {
  id: string;
  incidentId: string;
  cluster: string;
  kind: string;
  state: PlanState;
  /** Human-readable plan: the exact steps. */
  text: string;
  /** What the executor needs (snapshot file, nodes...). */
  params: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  actor: string;
  reason: string;
}

export type PlanExecutor = (plan: ProposedPlan, actor: string) => Promise<void>;

export class Approvals {
  private readonly plans = new Map<string, ProposedPlan>();
  private readonly executors = new Map<string, PlanExecutor>();
  private running = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const rows = await this.store.query<{ id: string; plan: string }>(`SELECT id, argMax(plan, ts) AS plan FROM remediation_plans GROUP BY id`);
    for (const r of rows) this.plans.set(r.id, JSON.parse(r.plan) as ProposedPlan);
  }

  onApprove(kind: string, fn: PlanExecutor): void {
    this.executors.set(kind, fn);
  }

  private async save(p: ProposedPlan): Promise<void> {
    p.updatedAt = Date.now();
    await this.store.insert('remediation_plans', [
      { ts: p.updatedAt, id: p.id, incident_id: p.incidentId, cluster: p.cluster, kind: p.kind, state: p.state, actor: p.actor, reason: p.reason, plan: JSON.stringify(p) },
    ]);
    this.plans.set(p.id, p);
  }

  /** Idempotent per incident and kind: a plan still waiting is returned, not proposed twice. */
  async propose(input: { incidentId: string; cluster: string; kind: string; text: string; params: Record<string, unknown>; actor: string }): Promise<ProposedPlan> {
    const open = [...this.plans.values()].find((p) => p.incidentId === input.incidentId && p.kind === input.kind && ['awaiting_approval', 'approved', 'executing'].includes(p.state));
    if (open) return open;
    const now = Date.now();
    const p: ProposedPlan = { id: `plan-${now.toString(36)}-${randomBytes(3).toString('hex')}`, ...input, state: 'awaiting_approval', createdAt: now, updatedAt: now, reason: 'proposed' };
    await this.save(p);
    return p;
  }

  get(id: string): ProposedPlan {
    const p = this.plans.get(id);
    if (!p) throw new NotFoundError(`plan ${id} does not exist`);
    return p;
  }

  list(filter: { state?: string; cluster?: string; incidentId?: string } = {}): ProposedPlan[] {
    return [...this.plans.values()]
      .filter((p) => (!filter.state || p.state === filter.state) && (!filter.cluster || p.cluster === filter.cluster) && (!filter.incidentId || p.incidentId === filter.incidentId))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Approves and starts the plan; returns at once (execution is long), with the plan now `executing`. */
  async approve(id: string, actor: string, comment = ''): Promise<ProposedPlan> {
    const p = this.get(id);
    if (p.state !== 'awaiting_approval') throw new ConflictError(`plan ${id} is ${p.state}, not awaiting approval`);
    const exec = this.executors.get(p.kind);
    if (!exec) throw new ConflictError(`no executor for plan kind ${p.kind}`);
    await this.save({ ...p, state: 'approved', actor, reason: comment || 'approved' });
    await this.save({ ...this.get(id), state: 'executing', actor, reason: 'executing' });
    const run = (async () => {
      try {
        await exec(this.get(id), actor);
        await this.save({ ...this.get(id), state: 'succeeded', reason: 'done' });
      } catch (err) {
        this.log.error({ plan: id, err: (err as Error).message }, 'approved plan failed');
        await this.save({ ...this.get(id), state: 'failed', reason: (err as Error).message });
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return this.get(id);
  }

  async reject(id: string, actor: string, reason: string): Promise<ProposedPlan> {
    const p = this.get(id);
    if (p.state !== 'awaiting_approval') throw new ConflictError(`plan ${id} is ${p.state}, not awaiting approval`);
    await this.save({ ...p, state: 'rejected', actor, reason: reason || 'rejected' });
    return this.get(id);
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
