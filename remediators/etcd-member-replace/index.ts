// etcd-member-replace: heals the incidents of the `etcd-quorum` detector.
// - Quorum held, a member lost: remove it and join a replacement (the same node after a reset when
//   its agent is alive, else a spare), verify every member healthy, resolve the incident.
// - Quorum lost: never act alone. Propose the exact restore plan (newest good snapshot), put the
//   incident in awaiting_approval, open a ticket; on approval restore and verify.
// - After a restart: a replacement the previous process started and never finished (its `started`
//   row is the last in `actions`) is carried on from its recorded steps, or escalated; nothing
//   else acts until that is settled, so no step is planned twice.
// Long work runs in the background: incident events are delivered one at a time to every listener.
import { healthyAs, type EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import { formatPlan } from '../../bootstrap/etcd/plan.ts';
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentView } from '../../core/pipeline.ts';
import type { Action } from '../../core/types.ts';
import { defineRemediator, type RemediatorDeps, type RemediatorInstance } from '../api.ts';
import type { ProposedPlan } from '../policy/approvals.ts';
import { etcdMemberReplaceConfig, type EtcdMemberReplaceConfig } from './config.ts';
import { DETECTOR, ID, quorumState, readPlan, replacementCandidates, replacementPlan, stillUnhealthy, type RecordedPlan } from './logic.ts';

const RESTORE = 'etcd.restore';
const REPLACE = 'etcd.member-replace';
/** The engine operations a replacement is made of, in order. */
const STEPS = ['etcd.remove', 'etcd.reset', 'etcd.join'] as const;
/** How long a restarted Whistle looks for the incident of an unfinished action before giving up on it. */
const RESUME_TRIES = 30;

class EtcdMemberReplace implements RemediatorInstance {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Open etcd-quorum incidents, looked at again every `recheckMs` (a reconcile loop, not only events). */
  private readonly active = new Map<string, IncidentView>();
  private timer: NodeJS.Timeout | null = null;
  /** False until the actions an earlier process left unfinished are carried on or escalated. */
  private resumed = false;
  private stopped = false;
  /**
   * Incidents whose restore plan is being made. One quorum loss brings several events within a
   * second (reopened, then a severity change), and the "already proposed?" check below is
   * followed by seconds of waiting: without this, each event proposed its own plan.
   */
  private readonly proposing = new Set<string>();

  constructor(private readonly d: RemediatorDeps<EtcdMemberReplaceConfig>) {
    d.approvals.onApprove(RESTORE, (plan, actor) => this.executeRestore(plan, actor));
    // Created before the store and the incidents are loaded: look once they answer.
    this.background(this.resumeUnfinished());
    if (d.config.recheckMs > 0) {
      this.timer = setInterval(() => this.recheck(), d.config.recheckMs);
      this.timer.unref();
    }
  }

  private recheck(): void {
    if (this.inflight.size) return;
    for (const inc of this.active.values()) {
      if (inc.state === 'open' && quorumState(inc) === 'degraded') this.background(this.memberLost(inc));
    }
  }

  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    const inc = e.incident;
    if (inc.detector !== DETECTOR) return;
    if (inc.state === 'resolved') this.active.delete(inc.id);
    else this.active.set(inc.id, inc);
    // Opened, updated, or reopened (a state change back to open): anything that is open now.
    if (inc.state !== 'open') return;
    const state = quorumState(inc);
    if (!state) return;
    this.d.log.info({ incident: inc.id, event: e.kind, state, subject: inc.subject }, 'etcd-quorum incident');
    this.background(state === 'lost' ? this.quorumLost(inc) : this.memberLost(inc));
  }

  private background(p: Promise<unknown>): void {
    const run = p.catch((err) => this.d.log.error({ err: (err as Error).message }, 'etcd-member-replace failed'));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private managed(cluster: string): boolean {
    try {
      this.d.etcd.cluster(cluster);
      return true;
    } catch {
      return false;
    }
  }

  // ---- quorum held, a member lost -----------------------------------------------------------

  private async memberLost(inc: IncidentView): Promise<void> {
    const { etcd, policy, config } = this.d;
    if (!this.managed(inc.cluster)) return;
    const target = `etcd/${inc.cluster}`;
    if (!this.resumed || policy.isBusy(target)) return;
    // Re-check live instead of trusting telemetry that may be seconds old, and again after a
    // moment: act only on a member that stays unhealthy.
    const first = await etcd.info(inc.cluster);
    if (!first.quorum) return this.quorumLost(inc);
    if (first.members.every((m) => m.healthy)) return;
    await sleep(config.confirmAfterMs);
    const again = await etcd.info(inc.cluster);
    if (!again.quorum) return this.quorumLost(inc);
    const bad = stillUnhealthy(first, again);
    this.d.log.info({ incident: inc.id, bad: bad.map((m) => m.name || m.id) }, 'live re-check');
    if (bad.length === 0) return;
    const c = etcd.cluster(inc.cluster);
    const lost = bad[0]!;
    const r = replacementPlan(c, again, lost, await this.firstAnswering(inc.cluster, replacementCandidates(c, again, lost, config.preferSameNode)));
    await policy.remediate({
      incident: inc,
      target,
      kind: REPLACE,
      unhealthy: bad.length,
      total: again.members.length,
      plan: r.plan,
      actor: ID,
      act: async () => {
        if (!r.replacement) throw new Error(`no replacement: no agent answers on ${r.lostNode ?? 'the lost node'} or on a free node`);
        if (!r.lostNode) throw new Error(`member ${r.lost.id} is on no configured node`);
        const o = { incidentId: inc.id, actor: ID };
        await etcd.remove(inc.cluster, r.lostNode, o);
        if (r.replacement === r.lostNode) await etcd.reset(inc.cluster, r.lostNode, o);
        await etcd.join(inc.cluster, r.replacement, o);
      },
      verify: async () => {
        const after = await etcd.info(inc.cluster);
        if (!healthyAs(after, r.expected)) return false;
        await this.resolve(inc, after, `replaced ${r.lost.name || r.lost.id} with ${r.replacement}; ${r.expected.length} members healthy`);
        return true;
      },
    });
  }

  // ---- after a restart: carry on what the previous process left unfinished --------------------

  private async resumeUnfinished(): Promise<void> {
    const replan: IncidentView[] = [];
    try {
      for (const a of await this.unfinishedActions()) {
        const inc = await this.resumeOne(a).catch((err) => this.d.log.error({ action: a.id, err: (err as Error).message }, 'carrying on an interrupted replacement failed'));
        if (inc) replan.push(inc);
      }
    } finally {
      // Settled either way: a remediator that cannot read its record still heals what comes next.
      this.resumed = true;
    }
    for (const inc of replan) await this.memberLost(inc);
  }

  /** The replacements a previous process left unfinished, once the store and their incidents are back. */
  private async unfinishedActions(): Promise<Action[]> {
    for (let i = 0; ; i++) {
      if (this.stopped) return [];
      try {
        const open = (await this.d.recorder.unfinished(REPLACE)).filter((a) => this.managed(a.cluster) && !a.dryRun);
        // The incidents are rebuilt from their log at start; wait until the ones named here are back.
        if (open.every((a) => this.d.incidents.get?.(a.incidentId)) || i >= RESUME_TRIES) return open;
      } catch (err) {
        if (i >= RESUME_TRIES) throw err;
        this.d.log.debug({ err: (err as Error).message }, 'actions not readable yet; looking again');
      }
      await sleep(1_000);
    }
  }

  /** Carries on, or escalates, one unfinished action; returns the incident when it is to be planned afresh. */
  private async resumeOne(a: Action): Promise<IncidentView | void> {
    const { etcd, recorder, policy, incidents } = this.d;
    const base = { incidentId: a.incidentId, cluster: a.cluster, subject: a.subject, kind: REPLACE, actor: ID };
    const text = String(a.detail.plan ?? '');
    const inc = incidents.get?.(a.incidentId);
    if (!inc || inc.state === 'resolved') {
      await recorder.write(a.id, 'failed', { ...base, reason: `Interrupted: Whistle stopped during this action, and its incident is ${inc ? 'resolved' : 'gone'}; nothing to carry on`, detail: { plan: text } });
      return;
    }
    // The engine's own records of this incident's steps since the action began: what is done, what was cut short.
    const rows = (await recorder.list({ incidentId: inc.id, limit: 1000 })).filter((r) => (STEPS as readonly string[]).includes(r.kind) && r.ts >= a.ts);
    const latest = new Map<string, Action>();
    for (const r of [...rows].sort((x, y) => x.ts - y.ts)) latest.set(r.id, r);
    const steps = [...latest.values()];
    const done = (kind: string, node: string) => steps.some((r) => r.kind === kind && r.subject === node && r.state === 'succeeded');
    for (const r of steps.filter((x) => x.state === 'started')) {
      await recorder.write(r.id, 'failed', { incidentId: r.incidentId, cluster: r.cluster, subject: r.subject, kind: r.kind, actor: ID, reason: 'Interrupted: Whistle stopped during this step; the restarted one carries the action on from here', detail: { interrupted: true } });
    }
    if (steps.length === 0) {
      // Nothing changed yet: the plan may be stale (the member may be back), so look again instead.
      const msg = `Interrupted: Whistle stopped before any step of this action ran; the restarted one looks at the cluster again`;
      await recorder.write(a.id, 'failed', { ...base, reason: msg, detail: { plan: text } });
      await incidents.appendHistory(inc.id, { kind: 'remediation', message: `${REPLACE}: ${msg}`, actor: ID, detail: { actionId: a.id } }).catch(() => undefined);
      return inc;
    }
    const last = steps.at(-1);
    const where = last ? `last recorded step: ${last.kind} ${last.subject}, ${last.state === 'started' ? 'started and not finished' : last.state}` : 'no step recorded yet';
    const plan = readPlan(text);
    // The replacement node runs the remaining steps (the lost node is the same one when it is reset there).
    const live = await this.liveOnceAgentsAreBack(inc.cluster, plan ? [plan.replacement] : []);
    const why = !plan
      ? 'its plan does not name the lost member and its replacement'
      : !live?.via
        ? `no agent of ${inc.cluster} answered within ${RESUME_TRIES} s of the restart`
        : !live.quorum
          ? 'the cluster has no quorum now'
          : null;
    if (why || !plan) {
      const msg = `Whistle restarted during ${REPLACE} (${where}); not carried on: ${why}`;
      await recorder.write(a.id, 'failed', { ...base, reason: msg, detail: { plan: text } });
      await policy.escalate({ incident: inc, plan: text, actor: ID, kind: REPLACE }, msg);
      return;
    }
    const todo = this.stepsOf(inc.cluster, plan).filter((s) => !done(s.kind, s.node));
    await incidents
      .appendHistory(inc.id, {
        kind: 'remediation',
        message: `${REPLACE}: Whistle restarted during this action (${where}); carrying it on: ${todo.map((s) => `${s.kind} ${s.node}`).join(', ') || 'verify only'}`,
        actor: ID,
        detail: { actionId: a.id, plan: text, resumed: true },
      })
      .catch(() => undefined);
    this.d.log.info({ incident: inc.id, action: a.id, todo: todo.map((s) => s.kind) }, 'resuming an interrupted replacement');
    try {
      // Each engine operation looks at the cluster first, so a step cut short is finished, not repeated.
      for (const s of todo) await s.run({ incidentId: inc.id, actor: ID });
    } catch (err) {
      const msg = `resumed after a restart and failed: ${(err as Error).message}`;
      await recorder.write(a.id, 'failed', { ...base, reason: msg, detail: { plan: text, error: msg, resumed: true } });
      await policy.escalate({ incident: inc, plan: text, actor: ID, kind: REPLACE }, msg);
      return;
    }
    const after = await etcd.info(inc.cluster);
    if (!healthyAs(after, plan.expected)) {
      await recorder.write(a.id, 'failed', { ...base, reason: 'NotFixed', detail: { plan: text, resumed: true } });
      await policy.escalate({ incident: inc, plan: text, actor: ID, kind: REPLACE }, 'resumed after a restart; the action ran but the problem is still there');
      return;
    }
    await recorder.write(a.id, 'succeeded', { ...base, reason: 'verified (resumed after a restart)', detail: { plan: text, resumed: true } });
    await this.resolve(inc, after, `replaced ${plan.lostNode} with ${plan.replacement} (resumed after a restart); ${plan.expected.length} members healthy`);
  }

  /**
   * The live view, once it shows quorum and the agents of `nodes` and of every healthy member poll
   * again (the join's preflight runs on all of them), or the wait is over. Right after a restart the
   * agents are still backing off from the outage (one may still be retrying a result the dead plane
   * never took), and "not back yet" must be taken neither for "no quorum" nor for "agent gone".
   */
  private async liveOnceAgentsAreBack(cluster: string, nodes: string[]): Promise<EtcdInfo | null> {
    const c = this.d.etcd.cluster(cluster);
    const deadline = Date.now() + RESUME_TRIES * 1_000;
    for (;;) {
      const info = await this.d.etcd.info(cluster).catch(() => null);
      const members = (info?.members ?? []).filter((m) => m.healthy && m.node).map((m) => m.node!);
      const back = [...members, ...nodes].every((n) => this.d.etcd.reader.agentAlive(c, n));
      if ((info?.quorum && back) || Date.now() > deadline || this.stopped) return info;
      await sleep(1_000);
    }
  }

  private stepsOf(cluster: string, p: RecordedPlan): { kind: (typeof STEPS)[number]; node: string; run: (o: { incidentId: string; actor: string }) => Promise<unknown> }[] {
    const { etcd } = this.d;
    return [
      { kind: 'etcd.remove', node: p.lostNode, run: (o) => etcd.remove(cluster, p.lostNode, o) },
      ...(p.sameNode ? [{ kind: 'etcd.reset' as const, node: p.lostNode, run: (o: { incidentId: string; actor: string }) => etcd.reset(cluster, p.lostNode, o) }] : []),
      { kind: 'etcd.join', node: p.replacement, run: (o) => etcd.join(cluster, p.replacement, o) },
    ];
  }

  /**
   * The first node whose agent runs a read-only task (`etcd.process`) now. Nodes whose agent has
   * not polled within `etcd.agentGoneMs` are skipped without asking.
   */
  private async firstAnswering(cluster: string, nodes: string[]): Promise<string | null> {
    const { etcd, tasks, config } = this.d;
    const c = etcd.cluster(cluster);
    for (const node of nodes) {
      if (!etcd.reader.agentAlive(c, node)) continue;
      const r = await tasks.run(cluster, node, 'etcd.process', {}, config.agentAnswerMs);
      if (r.ok) return node;
      this.d.log.info({ cluster, node, err: r.error }, 'candidate node does not answer; not used for the replacement');
    }
    return null;
  }

  /** Waits (bounded) for telemetry to show every member up, then resolves the incident. */
  private async resolve(inc: IncidentView, info: EtcdInfo, reason: string): Promise<void> {
    const names = info.members.map((m) => m.name);
    const deadline = Date.now() + this.d.config.telemetryCatchUpMs;
    while (Date.now() < deadline) {
      const rows = await this.d.store.query<{ member: string; up: number }>(
        `SELECT labels['member'] AS member, max(v) AS up FROM (
           SELECT node, labels, argMax(value, ts) AS v FROM samples
           WHERE cluster = {cluster:String} AND name = 'etcd_member_up' AND ts >= now64(3) - INTERVAL 10 SECOND
           GROUP BY node, labels) GROUP BY member`,
        { cluster: inc.cluster },
      );
      const up = new Set(rows.filter((r) => Number(r.up) > 0).map((r) => r.member));
      if (names.every((n) => up.has(n))) break;
      await sleep(250);
    }
    await this.d.incidents.transition(inc.id, 'resolved', reason, ID).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
  }

  // ---- quorum lost: plan, ticket, wait for approval ---------------------------------------------

  private async quorumLost(inc: IncidentView): Promise<void> {
    if (this.proposing.has(inc.id)) return;
    this.proposing.add(inc.id);
    try {
      await this.proposeRestore(inc);
    } finally {
      this.proposing.delete(inc.id);
    }
  }

  private async proposeRestore(inc: IncidentView): Promise<void> {
    const { etcd, approvals, recorder, incidents, config } = this.d;
    if (!this.managed(inc.cluster)) return;
    if (approvals.list({ incidentId: inc.id }).some((p) => ['awaiting_approval', 'approved', 'executing'].includes(p.state))) return;
    // Re-check live: telemetry can lag a membership change; only a cluster that really has no
    // quorum gets a restore plan. An election in progress also has no quorum for a moment.
    if ((await etcd.info(inc.cluster)).quorum) return;
    await sleep(config.confirmAfterMs);
    if ((await etcd.info(inc.cluster)).quorum) return;
    let text: string;
    let params: Record<string, unknown>;
    try {
      const p = await etcd.planRestore(inc.cluster);
      text = formatPlan(p.plan);
      params = { file: p.file, nodes: p.targets.map((n) => n.node), revision: p.revision };
    } catch (err) {
      const why = `quorum lost and no restore plan can be made: ${(err as Error).message}`;
      await this.d.policy.escalate({ incident: inc, plan: why, actor: ID, kind: RESTORE }, why);
      return;
    }
    const plan = await approvals.propose({ incidentId: inc.id, cluster: inc.cluster, kind: RESTORE, text, params, actor: ID });
    await recorder.write(recorder.newId(), 'skipped', {
      incidentId: inc.id,
      cluster: inc.cluster,
      subject: inc.subject,
      kind: RESTORE,
      reason: 'QuorumLost: needs approval',
      actor: ID,
      detail: { planId: plan.id, plan: text },
    });
    const how = `approve with: whistle approve ${plan.id}  (or POST /v1/plans/${plan.id}/approve)`;
    await incidents.transition(inc.id, 'awaiting_approval', `etcd quorum lost: restore plan ${plan.id} awaits approval`, ID).catch(() => undefined);
    await incidents.appendHistory(inc.id, { kind: 'plan', message: `${text}\n${how}`, actor: ID, detail: { planId: plan.id } }).catch(() => undefined);
    await this.d.tickets
      .openTicket(inc, `etcd quorum lost on ${inc.cluster}. Whistle will not act alone.\n\n${text}\n\n${how}`)
      .catch((err) => this.d.log.error({ err: (err as Error).message }, 'opening the restore ticket failed'));
  }

  private async executeRestore(plan: ProposedPlan, actor: string): Promise<void> {
    const { etcd, incidents } = this.d;
    await incidents.transition(plan.incidentId, 'remediating', `restore plan ${plan.id} approved by ${actor}`, actor).catch(() => undefined);
    try {
      const r = await etcd.restore(plan.cluster, { file: plan.params.file as string, nodes: plan.params.nodes as string[], incidentId: plan.incidentId, actor });
      const after = r.after as EtcdInfo;
      const inc = incidents.get?.(plan.incidentId);
      if (inc) await this.resolve(inc, after, `restored from ${String(plan.params.file)}; ${after.members.length} members healthy`);
      else await incidents.transition(plan.incidentId, 'resolved', `restored from ${String(plan.params.file)}`, actor).catch(() => undefined);
    } catch (err) {
      const inc = incidents.get?.(plan.incidentId);
      if (inc) await this.d.policy.escalate({ incident: inc, plan: plan.text, actor, kind: RESTORE }, `approved restore failed: ${(err as Error).message}`);
      throw err;
    }
  }
}

export default defineRemediator({
  id: ID,
  description: 'Replaces a lost etcd member while quorum holds (same node after a reset, or a spare); on quorum loss proposes the restore plan for approval',
  heals: [DETECTOR],
  configSchema: etcdMemberReplaceConfig,
  create: (deps) => new EtcdMemberReplace(deps),
});
