// The remediation policy every remediator runs under (the cluster-api MachineHealthCheck shape):
// suppressed? -> gate on max-unhealthy -> one action at a time per target -> rate limit per
// cluster -> dry run? -> act (each step recorded before and after) -> verify -> resolve, or
// escalate to a ticket when the action fails or does not fix the problem. The lock and the rate
// limit are the actions table's (claims.ts), so they hold across restarts and across workers; the
// in-memory ones only answer this worker's own contention without a read.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { CLAIM_REASON, decide, TargetClaims, type Claim, type ClaimDetail, type Verdict } from './claims.ts';
import { maxUnhealthyCount, type PolicyConfig } from './config.ts';
import type { IncidentPort, TicketPort } from './ports.ts';
import type { ActionRecorder } from './recorder.ts';

export type Outcome =
  | 'succeeded'
  | 'failed'
  | 'not_fixed'
  | 'handed_over'
  | 'dry_run'
  | 'rate_limited'
  | 'busy'
  | 'too_many_unhealthy'
  | 'suppressed'
  | 'paused'
  | 'opted_out'
  | 'incident_over'
  | 'interrupted';

/**
 * Thrown by an action or its verification when Whistle is stopping: the action is neither a
 * failure nor a success, so nothing is recorded after it and nobody is told; its `started` row
 * stays, and the next start resumes the incident at this step (remediators/chains.ts).
 */
export class Interrupted extends Error {
  constructor(what: string) {
    super(`${what}: interrupted by Whistle stopping`);
  }
}

/** Operators' stops: a cluster paused (`whistle remediation pause`), a node marked `whistle.io/remediation: disabled`. */
export interface PolicyGates {
  isPaused?(cluster: string): Promise<boolean>;
  /** Why the node is left alone (its opt-out mark, or that it could not be read), or null when it may be acted on. */
  nodeOptOut?(cluster: string, node: string): Promise<string | null>;
  /** An escalation chain (remediators/chains.ts): who takes an incident the action did not fix. */
  handOver?(r: Pick<RemediationRequest, 'incident' | 'kind' | 'actor'>, why: string, tried: string | undefined): Promise<HandOver>;
  /** How long the incident's current chain step may take to verify. */
  stepTimeoutMs?(incident: IncidentView): number | undefined;
  /** Every step the incident's chain still has, in words, for the dry run's record. */
  chainPlan?(incident: IncidentView): string | undefined;
}

/** What the chain says after a step did not fix the incident: every step tried so far, and the next step (null: a person). */
export interface HandOver {
  tried: string | undefined;
  /** Called once this action's lock is released, so the next step can take the same target. */
  next: (() => Promise<void>) | null;
}

export interface RemediationRequest<T = unknown> {
  incident: IncidentView;
  /** The lock key: one action at a time per target (e.g. `etcd/<cluster>`). */
  target: string;
  /** The node acted on, for node-scoped remediations: a node that opted out is left alone. */
  node?: string;
  kind: string;
  /** Broken subjects right now and how many there are in all, for the max-unhealthy gate. */
  unhealthy: number;
  total: number;
  /** What will be done, for the record, the dry run and the ticket. */
  plan: string;
  /** Its result (what the agent reports it did) is kept as `after` in the action's after-record. */
  act(): Promise<T>;
  /** What was tried and what came of it, in words, for the escalation ticket when the action does not fix the problem. */
  report?(result: T): string;
  /** True when the problem is gone. */
  verify(): Promise<boolean>;
  actor: string;
}

/** How long the earliest of several claims on one target waits for the later ones to close theirs. */
const CONTEND_MS = 5_000;
const CONTEND_POLL_MS = 100;

/** A worker's name on its claims: the same machine and data directory is the same worker after a restart. */
export function workerName(dataDir: string): string {
  return `${hostname()}:${dataDir}`;
}

export class RemediationPolicy {
  /** This worker's running actions: target -> action id. */
  private readonly busy = new Map<string, string>();
  private readonly started = new Map<string, number[]>();
  readonly claims: TargetClaims;

  constructor(
    private readonly cfg: PolicyConfig,
    private readonly recorder: ActionRecorder,
    private readonly incidents: IncidentPort,
    private readonly tickets: TicketPort | undefined,
    private readonly log: Logger,
    private readonly gates: PolicyGates = {},
    /** This worker's name on its claims (workerName); the default names this process only. */
    worker = `${hostname()}:pid-${process.pid}`,
  ) {
    this.claims = new TargetClaims(recorder.store, worker, cfg.leaseS * 1000);
  }

  /** Reads back the remediations begun within the rate limit's window (the in-memory fast path's seed). */
  async load(): Promise<void> {
    const since = Date.now() - this.cfg.rateLimit.windowS * 1000;
    for (const { cluster, ts } of await this.claims.startsSince(null, since)) this.started.set(cluster, [...(this.started.get(cluster) ?? []), ts]);
  }

  /** True while this worker runs an action on `target` (no read; `claimed` asks the actions table). */
  isBusy(target: string): boolean {
    return this.busy.has(target);
  }

  /** The live claim holding `target`, this worker's or another's, from the actions table; null when free. */
  async claimed(cluster: string, target: string): Promise<Claim | null> {
    return (await this.claims.live(cluster, target))[0] ?? null;
  }

  private async skip(r: RemediationRequest, reason: string, message: string, dryRun = false): Promise<void> {
    const { incident } = r;
    await this.recorder.write(this.recorder.newId(), 'skipped', {
      incidentId: incident.id,
      cluster: incident.cluster,
      subject: incident.subject,
      kind: r.kind,
      reason,
      dryRun,
      actor: r.actor,
      detail: { message, plan: r.plan, unhealthy: r.unhealthy, total: r.total },
    });
    await this.incidents.appendHistory(incident.id, { kind: 'remediation', message: `${r.kind}: ${reason}: ${message}`, actor: r.actor, detail: { plan: r.plan } }).catch(() => undefined);
    this.log.info({ incident: incident.id, kind: r.kind, reason }, 'remediation skipped');
  }

  async remediate<T>(r: RemediationRequest<T>): Promise<Outcome> {
    const { incident } = r;
    // Re-checked before every step: an incident that resolved meanwhile gets nothing more (each
    // remediator also re-reads its incident before it asks; one the manager has forgotten is theirs to judge).
    if (this.incidents.get?.(incident.id)?.state === 'resolved') {
      this.log.info({ incident: incident.id, kind: r.kind }, 'remediation not started: the incident is over');
      return 'incident_over';
    }
    if (this.incidents.isSuppressed(incident)) {
      await this.skip(r, 'Suppressed', 'a silence or maintenance window applies');
      return 'suppressed';
    }
    if (await this.gates.isPaused?.(incident.cluster)) {
      await this.skip(r, 'Paused', `remediation is paused on ${incident.cluster} (whistle remediation resume ${incident.cluster})`);
      return 'paused';
    }
    const optOut = r.node !== undefined ? await this.gates.nodeOptOut?.(incident.cluster, r.node) : null;
    if (optOut) {
      await this.skip(r, 'NodeOptedOut', `node ${r.node}: ${optOut}`);
      return 'opted_out';
    }
    const limit = maxUnhealthyCount(this.cfg.maxUnhealthy, r.total);
    if (r.unhealthy > limit) {
      // Many failures at once usually mean we cannot see, not that everything broke.
      await this.skip(r, 'TooManyUnhealthy', `${r.unhealthy} of ${r.total} unhealthy, more than the ${limit} allowed (remediation.maxUnhealthy=${this.cfg.maxUnhealthy})`);
      return 'too_many_unhealthy';
    }
    const running = this.busy.get(r.target);
    if (running) {
      await this.skip(r, 'SubjectBusy', `another action on ${r.target} is running (${running}, this worker)`);
      return 'busy';
    }
    const windowMs = this.cfg.rateLimit.windowS * 1000;
    const now = Date.now();
    const recent = (this.started.get(incident.cluster) ?? []).filter((t) => now - t < windowMs);
    if (recent.length >= this.cfg.rateLimit.maxActions) {
      await this.skip(r, 'RateLimited', this.rateMessage(incident.cluster, recent.length));
      return 'rate_limited';
    }
    if (this.cfg.dryRun) {
      // Read only: a dry run claims nothing, and says what a real run would have met.
      const holder = await this.claimed(incident.cluster, r.target);
      if (holder) {
        await this.skip(r, 'SubjectBusy', busyMessage(r.target, holder));
        return 'busy';
      }
      const starts = (await this.claims.startsSince(incident.cluster, now - windowMs)).length;
      if (starts >= this.cfg.rateLimit.maxActions) {
        await this.skip(r, 'RateLimited', this.rateMessage(incident.cluster, starts));
        return 'rate_limited';
      }
      const chain = this.gates.chainPlan?.(incident);
      await this.skip(r, 'DryRun', `remediation.dryRun is on: plan recorded, nothing changed${chain ? `\n${chain}` : ''}`, true);
      return 'dry_run';
    }
    const id = this.recorder.newId();
    this.busy.set(r.target, id);
    const base = { incidentId: incident.id, cluster: incident.cluster, subject: incident.subject, kind: r.kind, actor: r.actor };
    try {
      // The claim: this row, read back against every other worker's (claims.ts).
      const claim: ClaimDetail = { target: r.target, worker: this.claims.worker, leaseMs: this.cfg.leaseS * 1000 + (this.gates.stepTimeoutMs?.(incident) ?? 0) };
      await this.recorder.write(id, 'started', { ...base, reason: CLAIM_REASON, detail: { plan: r.plan, ...claim } });
      const lost = await this.hold(id, r, base, now - windowMs);
      if (lost) return lost;
      this.started.set(incident.cluster, [...recent, now]);
      await this.incidents.transition(incident.id, 'remediating', `${r.kind}: ${r.plan.split('\n')[0]}`, r.actor).catch((err) => this.log.warn({ err: (err as Error).message }, 'incident transition failed'));
      let result: T;
      try {
        result = await r.act();
      } catch (err) {
        if (err instanceof Interrupted) return 'interrupted';
        const msg = (err as Error).message;
        await this.recorder.write(id, 'failed', { ...base, reason: msg, detail: { plan: r.plan, error: msg } });
        return (await this.giveUp(r, `the action failed: ${msg}`, undefined)) ?? 'failed';
      }
      const after = result === undefined ? {} : { after: result as unknown };
      let fixed: boolean;
      try {
        fixed = await this.verifyWithin(r);
      } catch (err) {
        if (err instanceof Interrupted) return 'interrupted';
        // Whether it worked cannot be told: closed as failed, and handed on as a failed action is.
        const msg = `the verification failed: ${(err as Error).message}`;
        await this.recorder.write(id, 'failed', { ...base, reason: msg, detail: { plan: r.plan, ...after, error: (err as Error).message } });
        return (await this.giveUp(r, msg, r.report?.(result))) ?? 'failed';
      }
      if (!fixed) {
        await this.recorder.write(id, 'failed', { ...base, reason: 'NotFixed', detail: { plan: r.plan, ...after } });
        return (await this.giveUp(r, 'the action ran but the problem is still there', r.report?.(result))) ?? 'not_fixed';
      }
      await this.recorder.write(id, 'succeeded', { ...base, reason: 'verified', detail: { plan: r.plan, ...after } });
      return 'succeeded';
    } finally {
      // Only our own entry: a next chain step may already have taken the target.
      if (this.busy.get(r.target) === id) this.busy.delete(r.target);
    }
  }

  /**
   * Decides the claim `id` just written: held (null), or lost to an earlier live claim on the target
   * (SubjectBusy) or to the cluster's rate limit counted over every worker's actions (RateLimited);
   * a lost claim is closed `skipped` at once, so it holds nothing and counts for nothing.
   */
  private async hold(id: string, r: RemediationRequest, base: ActionBase, windowStart: number): Promise<'busy' | 'rate_limited' | null> {
    const cluster = r.incident.cluster;
    try {
      const deadline = Date.now() + CONTEND_MS;
      let v: Verdict;
      while ((v = decide(id, await this.claims.live(cluster, r.target), Date.now() < deadline)).holds === 'wait') await sleep(CONTEND_POLL_MS);
      if (v.holds === false) {
        await this.lose(id, r, base, 'SubjectBusy', v.holder ? busyMessage(r.target, v.holder) : `the claim on ${r.target} could not be read back within ${CONTEND_MS / 1000} s`, v.holder);
        return 'busy';
      }
      const others = (await this.claims.startsSince(cluster, windowStart)).filter((s) => s.id !== id).length;
      if (others >= this.cfg.rateLimit.maxActions) {
        await this.lose(id, r, base, 'RateLimited', this.rateMessage(cluster, others), null);
        return 'rate_limited';
      }
      return null;
    } catch (err) {
      // The store failed mid-claim: give the target back if the store lets us, else the lease does.
      await this.recorder.write(id, 'skipped', { ...base, reason: 'ClaimFailed', detail: { plan: r.plan, error: (err as Error).message } }).catch(() => undefined);
      throw err;
    }
  }

  private async lose(id: string, r: RemediationRequest, base: ActionBase, reason: string, message: string, holder: Claim | null): Promise<void> {
    await this.recorder.write(id, 'skipped', { ...base, reason, detail: { message, plan: r.plan, unhealthy: r.unhealthy, total: r.total, ...(holder ? { holder } : {}) } });
    await this.incidents.appendHistory(r.incident.id, { kind: 'remediation', message: `${r.kind}: ${reason}: ${message}`, actor: r.actor, detail: { plan: r.plan } }).catch(() => undefined);
    this.log.info({ incident: r.incident.id, kind: r.kind, reason, holder: holder?.id }, 'remediation skipped');
  }

  private rateMessage(cluster: string, n: number): string {
    return `${n} actions on ${cluster} in the last ${this.cfg.rateLimit.windowS} s (limit ${this.cfg.rateLimit.maxActions})`;
  }

  /** The chain step's timeout bounds the wait; a verify still running afterwards may yet resolve the incident. */
  private verifyWithin<T>(r: RemediationRequest<T>): Promise<boolean> {
    const ms = this.gates.stepTimeoutMs?.(r.incident);
    if (ms === undefined) return r.verify();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    return Promise.race([r.verify(), timeout]).finally(() => clearTimeout(timer));
  }

  /** The next chain step takes the incident ('handed_over'), or a person does (escalate; undefined). */
  private async giveUp<T>(r: RemediationRequest<T>, why: string, tried: string | undefined): Promise<Outcome | undefined> {
    const h = this.gates.handOver ? await this.gates.handOver(r, why, tried) : { tried, next: null };
    if (h.next) {
      // This action's row is closed already, so the next step's claim meets no live one of ours.
      this.busy.delete(r.target);
      await h.next();
      return 'handed_over';
    }
    await this.escalate(r, why, h.tried);
    return undefined;
  }

  /** Hands the incident to people: state escalated, and a ticket with the plan and what went wrong. */
  async escalate(r: Pick<RemediationRequest, 'incident' | 'plan' | 'actor' | 'kind'>, why: string, tried?: string): Promise<void> {
    this.log.warn({ incident: r.incident.id, why }, 'remediation escalated');
    await this.incidents.transition(r.incident.id, 'escalated', `${r.kind}: ${why}`, r.actor).catch(() => undefined);
    await this.incidents.appendHistory(r.incident.id, { kind: 'escalation', message: why, actor: r.actor, detail: { plan: r.plan, ...(tried ? { tried } : {}) } }).catch(() => undefined);
    if (this.tickets) {
      await this.tickets.openTicket(r.incident, `${why}\n\n${r.plan}${tried ? `\n\nTried:\n${tried}` : ''}`).catch((err) => this.log.error({ err: (err as Error).message }, 'opening the escalation ticket failed'));
    }
  }
}

type ActionBase = { incidentId: string; cluster: string; subject: string; kind: string; actor: string };

function busyMessage(target: string, holder: Claim): string {
  const who = [holder.actor, holder.incidentId && `incident ${holder.incidentId}`, holder.worker && `worker ${holder.worker}`].filter(Boolean).join(', ');
  return `another action on ${target} is running: ${holder.id} (${who}), claimed ${new Date(holder.ts).toISOString()}`;
}
