// Escalation chains (`remediation.chains`, medik8s-style; DEFAULT_CHAINS where the config does not
// name a detector): per detector, the remediators that take an incident in turn. A step that fails,
// or does not verify within its `timeoutMs`, hands the incident to the next step (the incident goes
// back to `open` and only that step's remediator hears it); after the last step a person gets it:
// the ticket lists every step tried and its result. Detectors without a chain go to every
// remediator that heals them.
//
// The position in the chain is derived from the actions table (each step is one policy action with
// the remediator as actor), so a Whistle restarted mid-chain continues at the step it was at and
// never redoes a finished one: `load` reads it back, `resumable` says what to pick up again.
import type { IncidentView } from '../core/pipeline.ts';
import type { Action } from '../core/types.ts';
import type { Remediator } from './api.ts';
import { DEFAULT_CHAINS, type ChainStep } from './chains-config.ts';
import type { IncidentPort } from './policy/ports.ts';
import type { HandOver, RemediationRequest } from './policy/policy.ts';
import type { ActionRecorder } from './policy/recorder.ts';

/** The reason the policy writes on the `started` row of an action it runs (policy.ts). */
const POLICY_STARTED = 'remediating';
/** The reason written when closing an action a stopped Whistle left `started` (it is redone, not counted). */
export const INTERRUPTED = 'Interrupted';

/** The configured chains over the defaults; a default step whose remediator is disabled is left out. */
export function effectiveChains(configured: Readonly<Record<string, readonly ChainStep[]>>, enabled: (remediator: string) => boolean): Record<string, readonly ChainStep[]> {
  const out: Record<string, readonly ChainStep[]> = {};
  for (const [detector, steps] of Object.entries(DEFAULT_CHAINS)) {
    const kept = steps.filter((s) => enabled(s.remediator));
    if (kept.length) out[detector] = kept;
  }
  return { ...out, ...configured };
}

/** One finished step as the actions table has it. */
export interface StepRecord {
  actor: string;
  kind: string;
  state: 'succeeded' | 'failed';
  reason: string;
}

const stepResult = (s: StepRecord) => (s.state === 'succeeded' ? 'verified' : s.reason === 'NotFixed' ? 'the action ran but the problem is still there' : `the action failed: ${s.reason}`);

/**
 * Where an incident is in its chain, from its finished steps oldest first: each failed step of the
 * remediator at the current position moves it on; a success ends an episode (the incident
 * resolved), so a reopened incident starts at the first step again.
 */
export function chainPosition(chain: readonly ChainStep[], steps: readonly StepRecord[]): { index: number; tried: string[] } {
  let index = 0;
  let tried: string[] = [];
  for (const s of steps) {
    if (chain[index]?.remediator !== s.actor) continue;
    if (s.state === 'succeeded') {
      index = 0;
      tried = [];
      continue;
    }
    tried.push(`step ${index + 1} (${s.actor}, ${s.kind}): ${stepResult(s)}`);
    index++;
  }
  return { index, tried };
}

/** The policy's actions of one incident, each as its rows (oldest first), from the newest-first list. */
export function policyActions(rows: readonly Action[]): { started: Action; last: Action }[] {
  const byId = new Map<string, Action[]>();
  for (const a of [...rows].sort((x, y) => x.ts - y.ts)) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  const out: { started: Action; last: Action }[] = [];
  for (const list of byId.values()) {
    const started = list.find((a) => a.state === 'started' && a.reason === POLICY_STARTED);
    // The later state wins a tie in milliseconds, as recorder.unfinished decides.
    const order = ['planned', 'started', 'skipped', 'succeeded', 'failed'];
    const last = list.reduce((a, b) => (b.ts > a.ts || (b.ts === a.ts && order.indexOf(b.state) >= order.indexOf(a.state)) ? b : a));
    if (started) out.push({ started, last });
  }
  return out.sort((x, y) => x.started.ts - y.started.ts);
}

export class EscalationChains {
  /** Incident id -> index of the step that has it now; absent: the first. */
  private readonly position = new Map<string, number>();
  /** Incident id -> what each step tried, for the person at the end. */
  private readonly tried = new Map<string, string[]>();

  constructor(
    readonly chains: Readonly<Record<string, readonly ChainStep[]>>,
    private readonly incidents: IncidentPort,
  ) {}

  private step(inc: IncidentView): { chain: readonly ChainStep[]; index: number } | null {
    const chain = this.chains[inc.detector];
    return chain ? { chain, index: this.position.get(inc.id) ?? 0 } : null;
  }

  /** The chain of a detector, if it has one. */
  chainOf(detector: string): readonly ChainStep[] | undefined {
    return this.chains[detector];
  }

  /** Index of the step that has the incident now (0: the first; the chain's length: a person). */
  positionOf(inc: IncidentView): number {
    return this.position.get(inc.id) ?? 0;
  }

  /** Whether `r` hears this event: the step that has the incident, or, with no chain, every remediator that heals it. */
  hears(r: Remediator, inc: IncidentView): boolean {
    if (inc.state === 'resolved') {
      this.position.delete(inc.id);
      this.tried.delete(inc.id);
    }
    const s = this.step(inc);
    if (!s) return r.heals.includes(inc.detector);
    return s.chain[s.index]?.remediator === r.id || (inc.state === 'resolved' && s.chain.some((c) => c.remediator === r.id));
  }

  /** How long the current step may take to verify, if its chain says. */
  stepTimeoutMs(inc: IncidentView): number | undefined {
    const s = this.step(inc);
    return s ? s.chain[s.index]?.timeoutMs : undefined;
  }

  /**
   * Reads every chained active incident's position back from the actions table, and closes the
   * actions a stopped Whistle left `started` (recorded `failed`, reason Interrupted): that step is
   * done again. Only the actions `mine` says this worker began are closed; another worker's stay
   * open (it may be running them; its claim holds the target until it closes them or its lease
   * ends). Returns the incidents to pick up again: open or remediating, with a step left or a
   * person still to be told.
   */
  async load(active: readonly IncidentView[], recorder: ActionRecorder, mine: (started: Action) => boolean = () => true): Promise<IncidentView[]> {
    const resume: IncidentView[] = [];
    for (const inc of active) {
      const chain = this.chains[inc.detector];
      if (!chain || (inc.state !== 'open' && inc.state !== 'remediating')) continue;
      const actions = policyActions(await recorder.list({ incidentId: inc.id, limit: 1000 }));
      const finished: StepRecord[] = [];
      for (const { started, last } of actions) {
        if (last.state === 'started') {
          if (!mine(started)) continue;
          await recorder.write(started.id, 'failed', { incidentId: inc.id, cluster: started.cluster, subject: started.subject, kind: started.kind, reason: INTERRUPTED, actor: actorOf(started), detail: { ...started.detail, interrupted: true } });
          continue;
        }
        if ((last.state === 'succeeded' || last.state === 'failed') && last.reason !== INTERRUPTED) finished.push({ actor: actorOf(started), kind: started.kind, state: last.state, reason: last.reason });
      }
      const { index, tried } = chainPosition(chain, finished);
      if (index > 0) this.position.set(inc.id, index);
      if (tried.length) this.tried.set(inc.id, tried);
      resume.push(inc);
    }
    return resume;
  }

  /** What each step tried so far (for the ticket when the chain has run out). */
  triedOf(inc: IncidentView): string {
    return (this.tried.get(inc.id) ?? []).join('\n');
  }

  /** The policy calls this when a step failed or did not verify: the next step, or null for a person. */
  async handOver(r: Pick<RemediationRequest, 'incident' | 'kind' | 'actor'>, why: string, tried: string | undefined): Promise<HandOver> {
    const inc = r.incident;
    const s = this.step(inc);
    const lines = [...(this.tried.get(inc.id) ?? [])];
    if (s) lines.push(`step ${s.index + 1} (${s.chain[s.index]?.remediator ?? r.actor}, ${r.kind}): ${why}${tried ? `\n${tried}` : ''}`);
    this.tried.set(inc.id, lines);
    const all = lines.join('\n');
    if (s) this.position.set(inc.id, s.index + 1);
    if (!s || s.index + 1 >= s.chain.length) return { tried: s ? all : tried, next: null };
    const next = s.chain[s.index + 1]!;
    return {
      tried: all,
      next: async () => {
        const reason = `step ${s.index + 1} (${r.actor}) did not fix it: ${why}; handing over to step ${s.index + 2} (${next.remediator})`;
        await this.incidents.appendHistory(inc.id, { kind: 'handover', message: reason, actor: r.actor, detail: { tried: all } }).catch(() => undefined);
        // Back to open: only the next step's remediator hears it (see hears).
        await this.incidents.transition(inc.id, 'open', reason, r.actor);
      },
    };
  }
}

function actorOf(a: Action): string {
  return a.actor ?? '';
}
