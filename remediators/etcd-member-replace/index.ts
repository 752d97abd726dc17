// etcd-member-replace: heals the incidents of the `etcd-quorum` detector.
// - Quorum held, a member lost: remove it and join a replacement (the same node after a reset when
//   its agent is alive, else a spare), verify every member healthy, resolve the incident.
// - Quorum lost: never act alone. Propose the exact restore plan (newest good snapshot), put the
//   incident in awaiting_approval, open a ticket; on approval restore and verify.
// Long work runs in the background: incident events are delivered one at a time to every listener.
import { healthyAs, type EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import { formatPlan } from '../../bootstrap/etcd/plan.ts';
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, type RemediatorDeps, type RemediatorInstance } from '../api.ts';
import type { ProposedPlan } from '../policy/approvals.ts';
import { etcdMemberReplaceConfig, type EtcdMemberReplaceConfig } from './config.ts';
import { DETECTOR, ID, quorumState, replacementCandidates, replacementPlan, stillUnhealthy } from './logic.ts';

const RESTORE = 'etcd.restore';

class EtcdMemberReplace implements RemediatorInstance {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Open etcd-quorum incidents, looked at again every `recheckMs` (a reconcile loop, not only events). */
  private readonly active = new Map<string, IncidentView>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: RemediatorDeps<EtcdMemberReplaceConfig>) {
    d.approvals.onApprove(RESTORE, (plan, actor) => this.executeRestore(plan, actor));
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
    if (policy.isBusy(target)) return;
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
      kind: 'etcd.member-replace',
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
