// What every remediator that acts on one node shares: it follows its detector's incidents, keeps
// the open ones (the unhealthy count of the max-unhealthy gate), acts on an incident that opens
// or reopens, defers one whose node is locked by another action (looked at again when that action
// ends, not dropped), and runs its long work in the background, because incident events are
// delivered one at a time to every listener. A subclass says which node an incident is about and
// how to heal it. One that acts on something else than a node (an add-on's workload) names its own
// lock through `lockOf`.
import type { IncidentEvent, IncidentView } from '../core/pipeline.ts';
import { nodeTarget, type RemediatorDeps, type RemediatorInstance } from './api.ts';

/** The node a target names, if it names one. */
const nodeOf = (t: object | null): string | undefined => (t as { node?: string } | null)?.node;

export abstract class NodeRemediator<C, T extends object> implements RemediatorInstance {
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly active = new Map<string, IncidentView>();
  private readonly deferred = new Set<string>();
  private readonly detectors: readonly string[];

  protected constructor(
    protected readonly d: RemediatorDeps<C>,
    /** The detector (or detectors) whose incidents it follows. */
    detector: string | readonly string[],
    private readonly id: string,
  ) {
    this.detectors = typeof detector === 'string' ? [detector] : detector;
  }

  /** The node (and whatever else the heal needs) this incident is about; null when it is not for us. */
  protected abstract target(inc: IncidentView): T | null;

  protected abstract heal(inc: IncidentView, target: T): Promise<void>;

  /** The policy's lock key of the target: one action at a time per node unless a subclass says otherwise. */
  protected lockOf(inc: IncidentView, t: T): string {
    return nodeTarget(inc.cluster, nodeOf(t) ?? inc.subject);
  }

  /** The plan recorded, dry-run and ticketed for this incident and target (the dry run of the chains prints it); null: not told. */
  protected planText(_inc: IncidentView, _target: T): string | null {
    return null;
  }

  plan(inc: IncidentView): string | null {
    if (!this.detectors.includes(inc.detector)) return null;
    const t = this.target(inc);
    return t ? this.planText(inc, t) : null;
  }

  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    const inc = e.incident;
    if (!this.detectors.includes(inc.detector)) return;
    if (inc.state === 'resolved') this.active.delete(inc.id);
    else this.active.set(inc.id, inc);
    // Opened, or reopened (a state change back to open); remediating and escalated ones are someone's.
    if (inc.state !== 'open') return;
    const t = this.target(inc);
    if (!t) return;
    if (this.d.policy.isBusy(this.lockOf(inc, t))) {
      this.deferred.add(inc.id);
      return;
    }
    this.background(this.heal(inc, t));
  }

  /** Looks at the incident again when this remediator's running action ends (its target was found locked). */
  protected defer(incidentId: string): void {
    this.deferred.add(incidentId);
  }

  async stop(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** Nodes of the cluster with an open incident of this detector, and the cluster's authorized nodes. */
  protected unhealthyOf(cluster: string): { unhealthy: number; total: number } {
    const bad = new Set([...this.active.values()].filter((i) => i.cluster === cluster).map((i) => nodeOf(this.target(i)) ?? i.subject));
    const total = this.d.nodes.list(cluster).filter((n) => n.status === 'authorized').length;
    return { unhealthy: bad.size, total: Math.max(total, bad.size) };
  }

  private background(p: Promise<unknown>): void {
    const run = p.finally(() => this.retryDeferred()).catch((err) => this.d.log.error({ err: (err as Error).message }, `${this.id} failed`));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  /** Looks again at the incidents deferred on a locked target: called whenever an action of this remediator ends. */
  protected retryDeferred(): void {
    for (const id of [...this.deferred]) {
      const inc = this.d.incidents.get?.(id);
      const target = inc ? this.target(inc) : null;
      if (!inc || inc.state !== 'open' || !target) {
        this.deferred.delete(id);
        continue;
      }
      if (this.d.policy.isBusy(this.lockOf(inc, target))) continue;
      this.deferred.delete(id);
      this.background(this.heal(inc, target));
    }
  }
}
