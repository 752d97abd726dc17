// rollout-rollback: a restart storm whose common factor is one Deployment (the storm's evidence says
// `scope: 'workload'`) is most likely a bad rollout. Nothing is done alone: the incident waits for
// approval, and its history and ticket carry the evidence (termination reasons, exit codes, images,
// the last rollout's revision and time) and the plan: the previous ReplicaSet's pod template put back
// into the Deployment, as `kubectl rollout undo` does. Once a person approves (`whistle approve`,
// POST /v1/plans/:id/approve), the rollback runs under the policy and is verified by the Deployment
// available again with no container of the rolled-back pods restarting for `quietForMs`.
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentView } from '../../core/pipeline.ts';
import { evidenceLines } from '../notify/format.ts';
import { defineRemediator, type RemediatorDeps } from '../api.ts';
import { NodeRemediator } from '../node-remediator.ts';
import type { ProposedPlan } from '../policy/approvals.ts';
import type { Outcome, RemediationRequest } from '../policy/policy.ts';
import { rolloutRollbackConfig, type RolloutRollbackConfig } from './config.ts';
import { DeploymentApi } from './deployment-api.ts';
import {
  canonical,
  deploymentLock,
  describeRollback,
  DETECTOR,
  ID,
  KIND,
  previousRevision,
  quietStart,
  REVISION,
  rollbackPlan,
  rolledBack,
  stormDeployment,
  withoutHash,
  type RollbackParams,
  type RollbackReport,
  type StormWorkload,
} from './logic.ts';

const LIVE = ['awaiting_approval', 'approved', 'executing'];

class RolloutRollback extends NodeRemediator<RolloutRollbackConfig, StormWorkload> {
  private readonly healing = new Set<string>();

  constructor(d: RemediatorDeps<RolloutRollbackConfig>) {
    super(d, DETECTOR, ID);
    d.approvals.onApprove(KIND, (plan, actor) => this.execute(plan, actor));
  }

  protected target(inc: IncidentView): StormWorkload | null {
    return stormDeployment(inc);
  }

  protected override lockOf(inc: IncidentView, w: StormWorkload): string {
    return deploymentLock(inc.cluster, w);
  }

  override async onIncidentEvent(e: IncidentEvent): Promise<void> {
    // A storm that ended by itself needs no rollback any more: its offer is withdrawn.
    if (e.incident.detector === DETECTOR && e.incident.state === 'resolved') {
      for (const p of this.d.approvals.list({ incidentId: e.incident.id, state: 'awaiting_approval' })) {
        await this.d.approvals.reject(p.id, ID, 'the incident resolved before the rollback was approved').catch(() => undefined);
      }
    }
    return super.onIncidentEvent(e);
  }

  private async note(inc: IncidentView, message: string): Promise<void> {
    await this.d.incidents.appendHistory(inc.id, { kind: 'remediation', message, actor: ID }).catch(() => undefined);
  }

  /** Proposes the rollback: a plan awaiting approval, the incident waiting for it, the ticket with evidence and plan. */
  protected async heal(inc: IncidentView, w: StormWorkload): Promise<void> {
    // Incident events keep coming while it is open (every update): one heal at a time per incident.
    if (this.healing.has(inc.id)) return;
    this.healing.add(inc.id);
    try {
      await this.healOnce(inc, w);
    } finally {
      this.healing.delete(inc.id);
    }
  }

  private async healOnce(inc: IncidentView, w: StormWorkload): Promise<void> {
    const { approvals, recorder, incidents, tickets, config, kubeApis } = this.d;
    if (incidents.get && incidents.get(inc.id)?.state !== 'open') return;
    if (approvals.list({ incidentId: inc.id }).some((p) => p.kind === KIND && LIVE.includes(p.state))) return;
    const api = kubeApis.get(inc.cluster);
    if (!api) return this.note(inc, `${ID}: cluster ${inc.cluster} has no Kubernetes API (clusters[].kubeconfig); no rollback can be offered`);
    const dep = new DeploymentApi(api, w);
    const d = await dep.get();
    const choice = previousRevision(d, await dep.replicaSets(d));
    const evidence = evidenceLines(inc).map((l) => `  ${l}`);
    if (typeof choice === 'string') {
      const why = `restart storm of Deployment ${w.namespace}/${w.name}; no rollback can be offered: ${choice}`;
      await this.note(inc, why);
      await tickets.openTicket(inc, `${why}\n\nEvidence:\n${evidence.join('\n')}`).catch((err) => this.d.log.error({ err: (err as Error).message }, 'opening the ticket failed'));
      return;
    }
    const text = rollbackPlan(w, choice, config.quietForMs);
    const params: RollbackParams = { namespace: w.namespace, name: w.name, fromRevision: choice.fromRevision, toRevision: choice.toRevision, toReplicaSet: choice.toReplicaSet };
    const plan = await approvals.propose({ incidentId: inc.id, cluster: inc.cluster, kind: KIND, text, params, actor: ID });
    await recorder.write(recorder.newId(), 'skipped', { incidentId: inc.id, cluster: inc.cluster, subject: inc.subject, kind: KIND, reason: 'NeedsApproval', actor: ID, detail: { planId: plan.id, plan: text } });
    const how = `approve with: whistle approve ${plan.id}  (or POST /v1/plans/${plan.id}/approve); refuse with: whistle approve ${plan.id} --reject REASON`;
    await incidents.transition(inc.id, 'awaiting_approval', `restart storm of Deployment ${w.namespace}/${w.name}: rollback plan ${plan.id} awaits approval`, ID).catch(() => undefined);
    await incidents.appendHistory(inc.id, { kind: 'plan', message: `${text}\n${how}`, actor: ID, detail: { planId: plan.id, ...params } }).catch(() => undefined);
    await tickets
      .openTicket(inc, `Restart storm of one workload, Deployment ${w.namespace}/${w.name}: most likely a bad rollout. Whistle will not act alone.\n\nEvidence:\n${evidence.join('\n')}\n\nOffered:\n${text}\n\n${how}`)
      .catch((err) => this.d.log.error({ err: (err as Error).message }, 'opening the rollback ticket failed'));
  }

  /** The approved rollback, under the policy; throws (the plan reads failed) unless it verified. */
  private async execute(plan: ProposedPlan, actor: string): Promise<void> {
    const { incidents, kubeApis, kubeState } = this.d;
    const p = plan.params as RollbackParams;
    const inc = incidents.get?.(plan.incidentId);
    if (!inc || inc.state === 'resolved') throw new Error(`incident ${plan.incidentId} is no longer open: nothing rolled back`);
    const api = kubeApis.get(plan.cluster);
    if (!api) throw new Error(`cluster ${plan.cluster} has no Kubernetes API`);
    const w = { namespace: p.namespace, name: p.name };
    const dep = new DeploymentApi(api, w);
    const nodes = await kubeState.forCluster(plan.cluster).nodes();
    let hash: string | undefined;
    let lastSeen = 'nothing read yet';
    const outcome = await this.remediate<RollbackReport>({
      incident: inc,
      target: deploymentLock(plan.cluster, w),
      kind: KIND,
      unhealthy: nodes.filter((n) => n.ready !== 'True').length,
      total: nodes.length,
      plan: `${plan.text}\n  (plan ${plan.id}, approved by ${actor})`,
      actor: ID,
      act: async () => {
        const r = await this.rollback(dep, p);
        hash = r.hash;
        await incidents.appendHistory(inc.id, { kind: 'remediation', message: `${KIND} (approved by ${actor}):\n${describeRollback(r.report)}`, actor: ID, detail: { ...r.report } }).catch(() => undefined);
        return r.report;
      },
      verify: () =>
        this.verify(inc, dep, hash, (why) => {
          lastSeen = why;
        }),
      report: (r) => `${KIND}:\n${describeRollback(r)}\n  - last seen: ${lastSeen}`,
    });
    if (outcome !== 'succeeded') throw new Error(`not rolled back: ${outcome}`);
  }

  /** An approved plan runs outside this remediator's own heals: the incidents deferred on its lock are looked at when it ends. */
  private async remediate<T>(r: RemediationRequest<T>): Promise<Outcome> {
    try {
      return await this.d.policy.remediate<T>(r);
    } finally {
      this.retryDeferred();
    }
  }

  /** Puts the previous ReplicaSet's template back, unless the Deployment has it already; refuses when the Deployment moved on since the plan. */
  private async rollback(dep: DeploymentApi, p: RollbackParams): Promise<{ report: RollbackReport; hash: string | undefined }> {
    const d = await dep.get();
    const sets = await dep.replicaSets(d);
    const target = sets.find((rs) => rs.metadata.name === p.toReplicaSet);
    if (!target?.spec?.template) throw new Error(`ReplicaSet ${p.namespace}/${p.toReplicaSet} is gone: nothing rolled back`);
    const template = withoutHash(target.spec.template);
    const hash = target.metadata.labels?.['pod-template-hash'];
    const base = { deployment: `${p.namespace}/${p.name}`, fromRevision: p.fromRevision, toRevision: p.toRevision, toReplicaSet: p.toReplicaSet };
    if (canonical(d.spec?.template) === canonical(template)) return { report: { ...base, patched: false, generation: d.metadata.generation ?? 0 }, hash };
    const now = Number(d.metadata.annotations?.[REVISION] ?? NaN);
    if (now !== p.fromRevision) throw new Error(`Deployment ${p.namespace}/${p.name} is at revision ${now}, not ${p.fromRevision} as planned: someone rolled it since; nothing rolled back`);
    const generation = await dep.putTemplate(d.metadata.resourceVersion ?? '', template);
    return { report: { ...base, patched: true, generation }, hash };
  }

  /** True once every replica runs the rolled-back template, is available, and no container of it restarted for `quietForMs`; then the incident is resolved. */
  private async verify(inc: IncidentView, dep: DeploymentApi, hash: string | undefined, seen: (why: string) => void): Promise<boolean> {
    const { config } = this.d;
    const deadline = Date.now() + config.verifyTimeoutMs;
    let quietSince: number | null = null;
    let restarts = -1;
    while (Date.now() < deadline) {
      const d = await dep.get().catch((err: Error) => err);
      if (d instanceof Error) seen(d.message);
      else {
        const r = rolledBack(d, await dep.pods(d), hash);
        seen(`${r.why}; ${r.restarts} restarts of the rolled-back pods`);
        quietSince = quietStart(quietSince, restarts, r, Date.now());
        restarts = r.restarts;
        if (quietSince !== null && Date.now() - quietSince >= config.quietForMs) {
          await this.d.incidents
            .transition(inc.id, 'resolved', `rolled back ${dep.w.namespace}/${dep.w.name}: ${r.why}, no restart for ${Math.round(config.quietForMs / 1000)} s`, ID)
            .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
          return true;
        }
      }
      await sleep(config.verifyIntervalMs);
    }
    return false;
  }
}

export default defineRemediator({
  id: ID,
  description: 'Offers, for approval, a rollback of the Deployment a restart storm has in common (the previous ReplicaSet, as kubectl rollout undo); verifies it available with restarts stopped',
  heals: [DETECTOR],
  configSchema: rolloutRollbackConfig,
  create: (deps) => new RolloutRollback(deps),
});
