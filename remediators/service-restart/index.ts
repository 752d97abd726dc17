// service-restart: heals kubelet-down incidents. Through the policy, the node's agent restarts the
// configured unit (`node.service-restart`, the node's own command and probe); a probe sample the
// agent takes after the restart must say up (telemetry, not the task's word), then the incident
// resolves; otherwise it is escalated with what the restart did.
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, nodeTarget, type RemediatorDeps } from '../api.ts';
import { NodeRemediator } from '../node-remediator.ts';
import { serviceRestartConfig, type ServiceRestartConfig } from './config.ts';
import { describeRestart, DETECTOR, ID, restartNode, restartPlan, TASK, type RestartReport } from './logic.ts';
import { probeSince } from './telemetry.ts';

class ServiceRestart extends NodeRemediator<ServiceRestartConfig, { node: string }> {
  constructor(d: RemediatorDeps<ServiceRestartConfig>) {
    super(d, DETECTOR, ID);
  }

  protected target(inc: IncidentView): { node: string } | null {
    const node = restartNode(inc);
    return node ? { node } : null;
  }

  protected override planText(_inc: IncidentView, { node }: { node: string }): string {
    return restartPlan(node, this.d.config.unit, this.d.config.probeName);
  }

  protected async heal(inc: IncidentView, { node }: { node: string }): Promise<void> {
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
      plan: this.planText(inc, { node }),
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
