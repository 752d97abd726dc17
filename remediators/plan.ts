// The dry run of the chains: for each active incident, every step its chain would still take (the
// remediator, its timeout, that remediator's own plan for the incident), then the person at the
// end. `whistle remediation plan [CLUSTER]` and `POST /v1/remediation/plan` print it and record it
// (one `remediation.plan` action per incident, dry run, nothing changed); with `remediation.dryRun`
// on, each skipped step's record carries it too.
import type { IncidentView } from '../core/pipeline.ts';
import type { EscalationChains } from './chains.ts';
import type { ActionRecorder } from './policy/recorder.ts';

export const PLAN_KIND = 'remediation.plan';

export interface PlannedStep {
  step: number;
  remediator: string;
  timeoutMs: number | null;
  /** tried: done and did not fix it; current: has the incident (or would take it next); next: after that. */
  state: 'tried' | 'current' | 'next';
  /** The remediator's own plan for this incident; null when it would not act on it (not its kind of case). */
  plan: string | null;
}

export interface ChainPlan {
  incidentId: string;
  cluster: string;
  detector: string;
  subject: string;
  incidentState: string;
  /** True when the steps are the detector's chain; false: every remediator that heals it, at once. */
  chained: boolean;
  steps: PlannedStep[];
  /** Who has it after the last step. */
  then: string;
  text: string;
}

/** What the planner needs of each running remediator: its own plan for an incident. */
export interface Planner {
  id: string;
  heals: readonly string[];
  plan?(incident: IncidentView): string | null;
}

const PERSON = 'a person: the incident is escalated, with a ticket and a message listing every step tried and its result';

export function chainPlan(inc: IncidentView, chains: Pick<EscalationChains, 'chainOf' | 'positionOf'>, remediators: readonly Planner[]): ChainPlan {
  const chain = chains.chainOf(inc.detector);
  const byId = new Map(remediators.map((r) => [r.id, r]));
  const at = chain ? chains.positionOf(inc) : 0;
  const steps: PlannedStep[] = chain
    ? chain.map((s, i) => ({ step: i + 1, remediator: s.remediator, timeoutMs: s.timeoutMs ?? null, state: i < at ? 'tried' : i === at ? 'current' : 'next', plan: byId.get(s.remediator)?.plan?.(inc) ?? null }))
    : remediators.filter((r) => r.heals.includes(inc.detector)).map((r) => ({ step: 1, remediator: r.id, timeoutMs: null, state: 'current', plan: r.plan?.(inc) ?? null }));
  const head = `${inc.id} ${inc.detector} ${inc.cluster}/${inc.subject} (${inc.state})${chain ? `: chain of ${chain.length} step${chain.length === 1 ? '' : 's'}, at step ${Math.min(at + 1, chain.length + 1)}` : steps.length ? ': no chain, every remediator that heals it' : ': no remediator heals it'}`;
  const lines = [head];
  for (const s of steps) {
    const timeout = s.timeoutMs !== null ? `, verify within ${Math.round(s.timeoutMs / 1000)} s` : '';
    lines.push(`  ${s.step}. ${s.remediator}${timeout} [${s.state}]${s.plan ? '' : ': no plan given in advance (it decides from the live state of the cluster, or does not act on this incident)'}`);
    if (s.plan) lines.push(...s.plan.split('\n').map((l) => `       ${l}`));
  }
  lines.push(`  then: ${PERSON}`);
  return { incidentId: inc.id, cluster: inc.cluster, detector: inc.detector, subject: inc.subject, incidentState: inc.state, chained: !!chain, steps, then: PERSON, text: lines.join('\n') };
}

export class RemediationPlanner {
  constructor(
    private readonly chains: Pick<EscalationChains, 'chainOf' | 'positionOf'>,
    private readonly remediators: () => readonly Planner[],
    private readonly active: () => readonly IncidentView[],
    private readonly recorder: ActionRecorder,
  ) {}

  plans(cluster?: string): ChainPlan[] {
    return this.active()
      .filter((i) => i.state !== 'resolved' && (!cluster || i.cluster === cluster))
      .sort((a, b) => a.openedAt - b.openedAt)
      .map((i) => chainPlan(i, this.chains, this.remediators()));
  }

  /** The plans, each recorded as a dry-run action of its incident. */
  async record(cluster: string | undefined, actor: string): Promise<ChainPlan[]> {
    const plans = this.plans(cluster);
    for (const p of plans) {
      await this.recorder.write(this.recorder.newId(), 'skipped', {
        incidentId: p.incidentId,
        cluster: p.cluster,
        subject: p.subject,
        kind: PLAN_KIND,
        reason: 'DryRun',
        dryRun: true,
        actor,
        detail: { plan: p.text, steps: p.steps },
      });
    }
    return plans;
  }
}
