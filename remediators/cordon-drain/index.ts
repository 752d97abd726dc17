// cordon-drain: takes a node out of service when what runs on it is better off elsewhere: a node
// NotReady, a kubelet the restart did not bring back (a chain step), a restart storm confined to
// one node. Through the policy: cordon under Whistle's mark, evict through the Eviction API
// (bootstrap/nodes: budgets respected, DaemonSet and mirror pods left), then wait for the node to be
// healthy again, uncordon it (only Whistle's own cordon) and resolve. A drain a budget keeps
// blocking, or a node that does not come back, goes to the next chain step (a person). A
// reconciler lifts the cordons Whistle left on nodes whose incident has ended once they are Ready
// (after a restart, or after a person fixed the node), derived from the nodes' marks, not memory.
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { NodeOps } from '../../bootstrap/nodes/index.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { defineRemediator, nodeTarget, type RemediatorDeps } from '../api.ts';
import { Interrupted } from '../policy/policy.ts';
import { NodeRemediator } from '../node-remediator.ts';
import { cordonDrainConfig, type CordonDrainConfig } from './config.ts';
import { cordonMark, describeDrain, DETECTORS, drainFailure, drainPlan, drainRecord, drainTarget, healthyAgain, ID, incidentOfMark, KIND, NODE_NOT_READY, outOfService, UNCORDON_KIND, uncordonDue } from './logic.ts';
import { listNodes } from './nodes.ts';

class CordonDrain extends NodeRemediator<CordonDrainConfig, { node: string }> {
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> = Promise.resolve();
  private readonly uncordoning = new Map<string, Promise<void>>();

  constructor(d: RemediatorDeps<CordonDrainConfig>) {
    super(d, DETECTORS, ID);
  }

  /**
   * The reconciler runs from start, not from construction: before the incident state is read back
   * every incident is unknown, which it takes for ended, and it lifted the cordon of a node whose
   * incident was still being remediated (a restarted Whistle then drained it a second time).
   */
  async start(): Promise<void> {
    if (this.timer || this.stopping.signal.aborted) return;
    this.timer = setInterval(() => {
      this.reconciling = this.reconciling.then(() => this.reconcile()).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'cordon reconcile failed'));
    }, this.d.config.reconcileMs);
    this.timer.unref();
  }

  protected target(inc: IncidentView): { node: string } | null {
    return drainTarget(inc);
  }

  protected override planText(inc: IncidentView, { node }: { node: string }): string {
    return drainPlan(node, inc, this.d.config);
  }

  private api(cluster: string): KubeApi {
    const api = this.d.kubeApis.get(cluster);
    if (!api) throw new Error(`cluster ${cluster} has no Kubernetes API (kube.clusters[].kubeconfig): a node cannot be cordoned or drained without one`);
    return api;
  }

  /** Out-of-service nodes counted from the API; the incidents this remediator follows when the API cannot say. */
  private async unhealthy(cluster: string, node: string): Promise<{ unhealthy: number; total: number }> {
    const api = this.d.kubeApis.get(cluster);
    if (api) {
      try {
        return outOfService(await listNodes(api, this.stopping.signal), node);
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message, cluster }, 'listing nodes for the max-unhealthy gate failed');
      }
    }
    return this.unhealthyOf(cluster);
  }

  protected async heal(inc: IncidentView, { node }: { node: string }): Promise<void> {
    const { policy, incidents, config } = this.d;
    // The incident may have resolved or been taken while this event waited its turn.
    if (incidents.get && incidents.get(inc.id)?.state !== 'open') return;
    const by = cordonMark(inc.id);
    await policy.remediate({
      incident: inc,
      target: nodeTarget(inc.cluster, node),
      node,
      kind: KIND,
      ...(await this.unhealthy(inc.cluster, node)),
      plan: this.planText(inc, { node }),
      actor: ID,
      act: async () => {
        const ops = new NodeOps(this.api(inc.cluster));
        // A node whose kubelet is dead cannot confirm a deletion: an accepted eviction is the move.
        const ready = (await ops.status(node)).ready;
        const result = await ops.drain(node, {
          by,
          timeoutMs: config.drainTimeoutMs,
          acceptedIsMoved: !ready,
          unmanagedPods: config.unmanagedPods,
          ...(config.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: config.gracePeriodSeconds } : {}),
          signal: this.stopping.signal,
        });
        if (result.outcome === 'aborted' && this.stopping.signal.aborted) throw new Interrupted(`drain of ${node}`);
        await incidents.appendHistory(inc.id, { kind: 'remediation', message: `${KIND} of ${node}:\n${describeDrain(result)}`, actor: ID, detail: drainRecord(result) }).catch(() => undefined);
        const failure = drainFailure(result);
        if (failure) throw new Error(failure);
        return drainRecord(result);
      },
      verify: () => this.recovered(inc, node),
      report: (r) => `${KIND} of ${node}: ${String(r.outcome)}, evicted ${(r.evicted as unknown[]).length}; ${node} not healthy again within ${Math.round(config.recoverTimeoutMs / 1000)} s (left cordoned)`,
    });
  }

  /**
   * True once the node is healthy again: then Whistle's cordon is lifted and the incident resolved.
   * False at `recoverTimeoutMs`: the node stays cordoned, and the reconciler lifts the cordon once
   * the incident has ended and the node is Ready.
   */
  private async recovered(inc: IncidentView, node: string): Promise<boolean> {
    const { config, incidents } = this.d;
    const ops = new NodeOps(this.api(inc.cluster));
    const deadline = Date.now() + config.recoverTimeoutMs;
    while (Date.now() < deadline && !this.stopping.signal.aborted) {
      const status = await ops.status(node, this.stopping.signal).catch(() => null);
      // Forgotten by the manager means resolved and past its reopen window.
      const state = incidents.get ? (incidents.get(inc.id)?.state ?? 'resolved') : undefined;
      if (status && healthyAgain(inc.detector, status, state)) {
        if (status.cordonedBy === cordonMark(inc.id)) {
          const why = inc.detector === NODE_NOT_READY ? `${node} is Ready again` : `${node} is Ready and the incident is resolved`;
          // A failed uncordon leaves the node cordoned and marked: the reconciler tries again.
          await this.uncordon(inc, node, why).catch((err) => this.d.log.warn({ err: (err as Error).message, node }, 'uncordon failed'));
        }
        if (state !== 'resolved') {
          await incidents.transition(inc.id, 'resolved', `${node} Ready again after the drain; uncordoned`, ID).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
        }
        return true;
      }
      await sleep(config.pollMs, this.stopping.signal).catch(() => undefined);
    }
    if (this.stopping.signal.aborted) throw new Interrupted(`waiting for ${node} to recover`);
    return false;
  }

  /**
   * Lifts Whistle's own cordon, recorded before and after as its own action. The step's verification
   * and the reconciler can both get here for one node: one at a time per node, and the node is read
   * again first, so a cordon already lifted is not lifted (nor recorded) twice.
   */
  private async uncordon(inc: Pick<IncidentView, 'id' | 'cluster'>, node: string, why: string): Promise<void> {
    const key = nodeTarget(inc.cluster, node);
    const run = (this.uncordoning.get(key) ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const ops = new NodeOps(this.api(inc.cluster));
      const by = cordonMark(inc.id);
      if ((await ops.status(node)).cordonedBy !== by) return;
      await this.d.recorder.step(
        { incidentId: inc.id, cluster: inc.cluster, subject: node, kind: UNCORDON_KIND, reason: why, actor: ID, before: { cordonedBy: by } },
        () => ops.uncordon(node, { by }),
      );
      await this.d.incidents.appendHistory(inc.id, { kind: 'remediation', message: `${UNCORDON_KIND} ${node}: ${why}`, actor: ID }).catch(() => undefined);
    });
    this.uncordoning.set(key, run);
    try {
      await run;
    } finally {
      if (this.uncordoning.get(key) === run) this.uncordoning.delete(key);
    }
  }

  /** Nodes carrying Whistle's cordon whose incident has ended and that are Ready again: uncordoned. */
  private async reconcile(): Promise<void> {
    for (const [cluster, api] of this.d.kubeApis) {
      if (this.stopping.signal.aborted) return;
      let nodes;
      try {
        nodes = await listNodes(api, this.stopping.signal);
      } catch {
        continue; // the API is away: next round
      }
      for (const n of nodes) {
        const id = uncordonDue(n, this.d.incidents.get?.(incidentOfMark(n.cordonedBy) ?? '')?.state);
        if (!id || this.d.policy.isBusy(nodeTarget(cluster, n.name))) continue;
        // An action on the node by any worker (or one a stopped Whistle left open) keeps its cordon:
        // another worker's incident is not in this worker's memory, so "ended" may only mean unknown here.
        if (await this.d.policy.claimed(cluster, nodeTarget(cluster, n.name)).catch(() => true)) continue;
        await this.uncordon({ id, cluster }, n.name, `${n.name} is Ready and incident ${id} has ended`).catch((err) => this.d.log.warn({ err: (err as Error).message, node: n.name }, 'uncordon failed'));
      }
    }
  }

  override async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort(new Error('stopping'));
    await this.reconciling;
    await super.stop();
  }
}

export default defineRemediator({
  id: ID,
  description: 'Cordons and drains a node that is NotReady, whose kubelet a restart did not bring back, or where a restart storm is confined; uncordons it once healthy again (only its own cordon)',
  heals: [...DETECTORS],
  configSchema: cordonDrainConfig,
  create: (deps) => new CordonDrain(deps),
});
