// Escalation chains (`remediation.chains`, medik8s-style): per detector, the remediators that take
// an incident in turn. A step that fails, or does not verify within its `timeoutMs`, hands the
// incident to the next step (the incident goes back to `open` and only that step's remediator hears
// it); after the last step a person gets it: the ticket lists every step tried and its result.
// Detectors without a chain go to every remediator that heals them, as before.
import type { IncidentView } from '../core/pipeline.ts';
import type { Remediator } from './api.ts';
import type { ChainStep } from './chains-config.ts';
import type { IncidentPort } from './policy/ports.ts';
import type { HandOver, RemediationRequest } from './policy/policy.ts';

export class EscalationChains {
  /** Incident id -> index of the step that has it now; absent: the first. */
  private readonly position = new Map<string, number>();
  /** Incident id -> what each step tried, for the person at the end. */
  private readonly tried = new Map<string, string[]>();

  constructor(
    private readonly chains: Readonly<Record<string, readonly ChainStep[]>>,
    private readonly incidents: IncidentPort,
  ) {}

  private step(inc: IncidentView): { chain: readonly ChainStep[]; index: number } | null {
    const chain = this.chains[inc.detector];
    return chain ? { chain, index: this.position.get(inc.id) ?? 0 } : null;
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

  /** The policy calls this when a step failed or did not verify: the next step, or null for a person. */
  async handOver(r: Pick<RemediationRequest, 'incident' | 'kind' | 'actor'>, why: string, tried: string | undefined): Promise<HandOver> {
    const inc = r.incident;
    const s = this.step(inc);
    const lines = [...(this.tried.get(inc.id) ?? [])];
    if (s) lines.push(`step ${s.index + 1} (${s.chain[s.index]?.remediator ?? r.actor}, ${r.kind}): ${why}${tried ? `\n${tried}` : ''}`);
    this.tried.set(inc.id, lines);
    const all = lines.join('\n');
    if (!s || s.index + 1 >= s.chain.length) return { tried: s ? all : tried, next: null };
    const next = s.chain[s.index + 1]!;
    return {
      tried: all,
      next: async () => {
        this.position.set(inc.id, s.index + 1);
        const reason = `step ${s.index + 1} (${r.actor}) did not fix it: ${why}; handing over to step ${s.index + 2} (${next.remediator})`;
        await this.incidents.appendHistory(inc.id, { kind: 'handover', message: reason, actor: r.actor, detail: { tried: all } }).catch(() => undefined);
        // Back to open: only the next step's remediator hears it (see hears).
        await this.incidents.transition(inc.id, 'open', reason, r.actor);
      },
    };
  }
}
