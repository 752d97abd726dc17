// etcd-member-replace: heals the incidents of the `etcd-quorum` detector.
// - Quorum held, a member lost: remove it and join a replacement (the same node after a reset when
//   its agent is alive, else a spare), verify every member healthy, resolve the incident.
// - Quorum lost: never act alone. Propose the exact restore plan (newest good snapshot), put the
//   incident in awaiting_approval, open a ticket; on approval restore and verify.
// Long work runs in the background: incident events are delivered one at a time to every listener.
import type { Logger } from 'pino';
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentListener, IncidentView } from '../../core/pipeline.ts';
import type { Store } from '../../store/store.ts';
import { healthyAs, type EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import type { EtcdEngine } from '../../bootstrap/etcd/engine.ts';
import { formatPlan } from '../../bootstrap/etcd/plan.ts';
import type { Approvals, ProposedPlan } from '../policy/approvals.ts';
import type { RemediationConfig } from '../policy/config.ts';
import type { RemediationPolicy } from '../policy/policy.ts';
import type { IncidentPort, TicketPort } from '../policy/ports.ts';
import type { ActionRecorder } from '../policy/recorder.ts';

export const REMEDIATOR = 'etcd-member-replace';
const DETECTOR = 'etcd-quorum';

export interface EtcdMemberReplaceOptions {
  cfg: RemediationConfig;
  engine: EtcdEngine;
  policy: RemediationPolicy;
  approvals: Approvals;
  recorder: ActionRecorder;
  incidents: IncidentPort;
  tickets?: TicketPort;
  store: Store;
  log: Logger;
  /** How long to wait for telemetry to show the healed cluster before resolving. */
  telemetryCatchUpMs?: number;
  /** A member must still be unhealthy this long after the first live check. */
  confirmAfterMs?: number;
}

export class EtcdMemberReplace implements IncidentListener {
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly o: EtcdMemberReplaceOptions;
  /** Open etcd-quorum incidents, re-checked every `recheckMs` (a reconcile loop, not only events). */
  private readonly active = new Map<string, IncidentView>();
  private timer: NodeJS.Timeout | null = null;

  constructor(o: EtcdMemberReplaceOptions & { recheckMs?: number }) {
    this.o = o;
    o.approvals.onApprove('etcd.restore', (plan, actor) => this.executeRestore(plan, actor));
    if (o.recheckMs !== 0) {
      this.timer = setInterval(() => this.recheck(), o.recheckMs ?? 5_000);
      this.timer.unref();
    }
  }

  private recheck(): void {
    if (this.inflight.size) return;
    for (const inc of this.active.values()) {
      const state = String((inc.evidence as { state?: string }).state ?? '');
      if (inc.state === 'open' && state === 'degraded') this.background(this.memberLost(inc));
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    const inc = e.incident;
    if (inc.detector !== DETECTOR || !this.o.cfg.etcdMemberReplace.enabled) return;
    if (inc.state === 'resolved') this.active.delete(inc.id);
    else this.active.set(inc.id, inc);
    if (e.kind === 'resolved' || inc.state === 'resolved' || inc.state === 'awaiting_approval' || inc.state === 'escalated') return;
    // Opened, updated, or reopened (a state change back to open): anything that is open now.
    if (inc.state !== 'open') return;
    const state = String((inc.evidence as { state?: string }).state ?? inc.labels.state ?? '');
    if (state !== 'degraded' && state !== 'lost') return;
    this.o.log.info({ incident: inc.id, event: e.kind, state, subject: inc.subject }, 'etcd-quorum incident');
    this.background(state === 'lost' ? this.quorumLost(inc) : this.memberLost(inc));
  }

  private background(p: Promise<unknown>): void {
    const run = p.catch((err) => this.o.log.error({ err: (err as Error).message }, 'etcd-member-replace failed'));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private hasCluster(name: string): boolean {
    try {
      this.o.engine.cluster(name);
      return true;
    } catch {
      return false;
    }
  }

  // ---- quorum held, a member lost -----------------------------------------------------------

  private async memberLost(inc: IncidentView): Promise<void> {
    const { engine, policy } = this.o;
    if (!this.hasCluster(inc.cluster)) return;
    const target = `etcd/${inc.cluster}`;
    if (policy.isBusy(target)) return;
    // Re-check live instead of trusting telemetry that may be seconds old.
    const info = await engine.info(inc.cluster);
    if (!info.quorum) return this.quorumLost(inc);
    const firstBad = info.members.filter((m) => !m.healthy);
    if (firstBad.length === 0) return;
    // Check again after a moment: act only on a member that stays unhealthy (a member that is
    // restarting or catching up is not lost).
    await sleep(this.o.confirmAfterMs ?? 1_000);
    const again = await engine.info(inc.cluster);
    if (!again.quorum) return this.quorumLost(inc);
    const bad = again.members.filter((m) => !m.healthy && firstBad.some((b) => b.id === m.id));
    this.o.log.info({ incident: inc.id, bad: bad.map((m) => m.name || m.id) }, 'live re-check');
    if (bad.length === 0) return;
    const lost = bad[0]!;
    const c = engine.cluster(inc.cluster);
    const lostNode = lost.node;
    // An agent that is alive is long-polling right now (or was a moment ago): be strict here, a
    // reset sent to a gone agent would only time out.
    const sameNodeOk = lostNode !== null && this.o.cfg.etcdMemberReplace.preferSameNode && engine.reader.agentAlive(c, lostNode, 2_000);
    const memberNodes = new Set(again.members.map((m) => m.node));
    const spare = c.nodes.find((n) => !memberNodes.has(n.node) && n.role === 'spare' && engine.reader.agentAlive(c, n.node))
      ?? c.nodes.find((n) => !memberNodes.has(n.node) && engine.reader.agentAlive(c, n.node));
    const replacement = sameNodeOk ? lostNode : spare?.node;
    const expected = [...again.members.filter((m) => m.id !== lost.id).map((m) => m.node ?? m.name), replacement ?? '?'];
    const plan = [
      `replace etcd member ${lost.name || lost.id} (${lost.peerURL}) of ${inc.cluster}: ${lost.error ?? 'unhealthy'}`,
      `  1. etcd remove ${lostNode ?? lost.id} (through a healthy member)`,
      replacement === lostNode ? `  2. etcd reset ${lostNode} (stop, clean its data dir)` : `  2. use spare node ${replacement ?? '(none available)'}`,
      `  3. etcd join ${replacement ?? '?'} (learner, start, promote)`,
      `  4. verify ${expected.length} members healthy: ${expected.join(', ')}`,
    ].join('\n');
    await policy.remediate({
      incident: inc,
      target,
      kind: 'etcd.member-replace',
      unhealthy: bad.length,
      total: again.members.length,
      plan,
      actor: REMEDIATOR,
      act: async () => {
        if (!replacement) throw new Error(`no replacement: the agent on ${lostNode ?? 'the lost node'} is gone and no spare node has a live agent`);
        const o = { incidentId: inc.id, actor: REMEDIATOR };
        if (lostNode) await engine.remove(inc.cluster, lostNode, o);
        else throw new Error(`member ${lost.id} is on no configured node`);
        if (replacement === lostNode) await engine.reset(inc.cluster, lostNode, o);
        await engine.join(inc.cluster, replacement, o);
      },
      verify: async () => {
        const after = await engine.info(inc.cluster);
        if (!healthyAs(after, expected)) return false;
        await this.resolve(inc, after, `replaced ${lost.name || lost.id} with ${replacement}; ${expected.length} members healthy`);
        return true;
      },
    });
  }

  /** Waits (bounded) for telemetry to show every member up, then resolves the incident. */
  private async resolve(inc: IncidentView, info: EtcdInfo, reason: string): Promise<void> {
    const names = info.members.map((m) => m.name);
    const deadline = Date.now() + (this.o.telemetryCatchUpMs ?? 15_000);
    while (Date.now() < deadline) {
      const rows = await this.o.store.query<{ member: string; up: number }>(
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
    await this.o.incidents.transition(inc.id, 'resolved', reason, REMEDIATOR).catch((err) => this.o.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
  }

  // ---- quorum lost: plan, ticket, wait for approval ---------------------------------------------

  private async quorumLost(inc: IncidentView): Promise<void> {
    const { engine, approvals, recorder, incidents } = this.o;
    if (!this.hasCluster(inc.cluster)) return;
    if (approvals.list({ incidentId: inc.id }).some((p) => ['awaiting_approval', 'approved', 'executing'].includes(p.state))) return;
    // Re-check live: telemetry can lag a membership change; only a cluster that really has no
    // quorum gets a restore plan.
    if ((await engine.info(inc.cluster)).quorum) return;
    // An election in progress also has no quorum for a moment: check again after a while.
    await sleep(this.o.confirmAfterMs ?? 1_000);
    if ((await engine.info(inc.cluster)).quorum) return;
    let text: string;
    let params: Record<string, unknown>;
    try {
      const p = await engine.planRestore(inc.cluster);
      text = formatPlan(p.plan);
      params = { file: p.file, nodes: p.targets.map((n) => n.node), revision: p.revision };
    } catch (err) {
      const why = `quorum lost and no restore plan can be made: ${(err as Error).message}`;
      await this.o.policy.escalate({ incident: inc, plan: why, actor: REMEDIATOR, kind: 'etcd.restore' }, why);
      return;
    }
    const plan = await approvals.propose({ incidentId: inc.id, cluster: inc.cluster, kind: 'etcd.restore', text, params, actor: REMEDIATOR });
    await recorder.write(recorder.newId(), 'skipped', {
      incidentId: inc.id,
      cluster: inc.cluster,
      subject: inc.subject,
      kind: 'etcd.restore',
      reason: 'QuorumLost: needs approval',
      actor: REMEDIATOR,
      detail: { planId: plan.id, plan: text },
    });
    const how = `approve with: whistle approve ${plan.id}  (or POST /v1/plans/${plan.id}/approve)`;
    await incidents.transition(inc.id, 'awaiting_approval', `etcd quorum lost: restore plan ${plan.id} awaits approval`, REMEDIATOR).catch(() => undefined);
    await incidents.appendHistory(inc.id, { kind: 'plan', message: `${text}\n${how}`, actor: REMEDIATOR, detail: { planId: plan.id } }).catch(() => undefined);
    if (this.o.tickets) {
      await this.o.tickets.openTicket(inc, `etcd quorum lost on ${inc.cluster}. Whistle will not act alone.\n\n${text}\n\n${how}`).catch((err) => this.o.log.error({ err: (err as Error).message }, 'opening the restore ticket failed'));
    }
  }

  private async executeRestore(plan: ProposedPlan, actor: string): Promise<void> {
    const { engine, incidents } = this.o;
    await incidents.transition(plan.incidentId, 'remediating', `restore plan ${plan.id} approved by ${actor}`, actor).catch(() => undefined);
    try {
      const r = await engine.restore(plan.cluster, { file: plan.params.file as string, nodes: plan.params.nodes as string[], incidentId: plan.incidentId, actor });
      const after = r.after as EtcdInfo;
      const inc = incidents.get?.(plan.incidentId);
      if (inc) await this.resolve(inc, after, `restored from ${String(plan.params.file)}; ${after.members.length} members healthy`);
      else await incidents.transition(plan.incidentId, 'resolved', `restored from ${String(plan.params.file)}`, actor).catch(() => undefined);
    } catch (err) {
      const inc = incidents.get?.(plan.incidentId);
      if (inc) await this.o.policy.escalate({ incident: inc, plan: plan.text, actor, kind: 'etcd.restore' }, `approved restore failed: ${(err as Error).message}`);
      throw err;
    }
  }
}
