// service-restart: heals kubelet-down incidents. Through the policy, the node's agent restarts the
// configured unit (`node.service-restart`, the node's own command and probe); a probe sample the
// agent takes after the restart must say up (telemetry, not the task's word), then the incident
// resolves; otherwise it is escalated with what the restart did.
// Long work runs in the background: incident events are delivered one at a time to every listener.
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, nodeTarget, type RemediatorDeps, type RemediatorInstance } from '../api.ts';
import { serviceRestartConfig, type ServiceRestartConfig } from './config.ts';
import { describeRestart, DETECTOR, ID, restartNode, restartPlan, TASK, type RestartReport } from './logic.ts';
import { probeSince } from './telemetry.ts';

class ServiceRestart implements RemediatorInstance {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Open kubelet-down incidents by id: the unhealthy count of the max-unhealthy gate. */
  private readonly active = new Map<string, IncidentView>();
  /**
   * Incidents that (re)opened while their node's lock was held, e.g. reopened by a detector tick
   * that read samples from before the fix: looked at again when that action ends, not dropped.
   */
  private readonly deferred = new Set<string>();

  constructor(private readonly d: RemediatorDeps<ServiceRestartConfig>) {}

  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    const inc = e.incident;
    if (inc.detector !== DETECTOR) return;
    if (inc.state === 'resolved') this.active.delete(inc.id);
    else this.active.set(inc.id, inc);
    // Opened, or reopened (a state change back to open); remediating and escalated ones are someone's.
    if (inc.state !== 'open') return;
    const node = restartNode(inc);
    if (!node) return;
    if (this.d.policy.isBusy(nodeTarget(inc.cluster, node))) {
      this.deferred.add(inc.id);
      return;
    }
    this.background(this.heal(inc, node));
  }

  private background(p: Promise<unknown>): void {
    const run = p.finally(() => this.retryDeferred()).catch((err) => this.d.log.error({ err: (err as Error).message }, 'service-restart failed'));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  private retryDeferred(): void {
    for (const id of [...this.deferred]) {
      const inc = this.d.incidents.get?.(id);
      const target = inc ? restartNode(inc) : null;
      if (!inc || inc.state !== 'open' || !target) {
        this.deferred.delete(id);
        continue;
      }
      if (this.d.policy.isBusy(nodeTarget(inc.cluster, target))) continue;
      this.deferred.delete(id);
      this.background(this.heal(inc, target));
    }
  }

  async stop(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** Nodes of the cluster with an open kubelet-down incident, and the cluster's authorized nodes. */
  private unhealthyOf(cluster: string): { unhealthy: number; total: number } {
    const bad = new Set([...this.active.values()].filter((i) => i.cluster === cluster).map((i) => restartNode(i) ?? i.subject));
    const total = this.d.nodes.list(cluster).filter((n) => n.status === 'authorized').length;
    return { unhealthy: bad.size, total: Math.max(total, bad.size) };
  }

  private async heal(inc: IncidentView, node: string): Promise<void> {
    const { policy, tasks, incidents, config } = this.d;
    // The incident may have resolved or been taken while this event waited its turn.
    if (incidents.get && incidents.get(inc.id)?.state !== 'open') return;
    let finishedAt = 0;
    let agentSaysUp: boolean | null = null;
    await policy.remediate<RestartReport>({
      incident: inc,
      target: nodeTarget(inc.cluster, node),
      node,
      kind: TASK,
      ...this.unhealthyOf(inc.cluster),
      plan: restartPlan(node, config.unit, config.probeName),
      actor: ID,
      act: async () => {
        const report = await tasks.runOk(inc.cluster, node, TASK, { unit: config.unit }, config.taskTimeoutMs);
        finishedAt = Date.now();
        agentSaysUp = report.probeOk;
        await incidents.appendHistory(inc.id, { kind: 'remediation', message: `${TASK} on ${node}:\n${describeRestart(report)}`, actor: ID, detail: { ...report } }).catch(() => undefined);
        return report;
      },
      verify: () => this.verify(inc, node, finishedAt, agentSaysUp),
      report: (r) => `${TASK} on ${node}:\n${describeRestart(r)}`,
    });
  }

  /**
   * True once a probe sample the agent took after the restart says up; then the incident is
   * resolved. Gives up at `verifyTimeoutMs`, or at the first fresh sample saying down when the
   * agent's own probe wait already ran out: both then agree that the unit is still down.
   */
  private async verify(inc: IncidentView, node: string, since: number, agentSaysUp: boolean | null): Promise<boolean> {
    const { config, store } = this.d;
    const deadline = Date.now() + config.verifyTimeoutMs;
    while (Date.now() < deadline) {
      const p = await probeSince(store, { cluster: inc.cluster, node, metric: config.metric, probe: config.probeName, since });
      if (p?.up) {
        await this.d.incidents
          .transition(inc.id, 'resolved', `${config.unit} on ${node} restarted; its ${config.probeName} probe is up (sample of ${new Date(p.ts).toISOString()})`, ID)
          .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
        return true;
      }
      if (p && agentSaysUp === false) return false;
      await sleep(config.verifyIntervalMs);
    }
    return false;
  }
}

export default defineRemediator({
  id: ID,
  description: "Restarts a node's kubelet (its configured command) when its health probe keeps failing; verifies from the next probe samples, escalates when it stays down",
  heals: [DETECTOR],
  configSchema: serviceRestartConfig,
  create: (deps) => new ServiceRestart(deps),
});
