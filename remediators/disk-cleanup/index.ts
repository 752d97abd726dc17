// disk-cleanup: heals the low-disk incidents about bytes. Through the policy, the node's agent runs
// its configured cleanup steps (`node.disk-cleanup`) for the incident's mount until it is under
// `targetUsedPercent`; the bytes freed per step go into the action's after-record and the incident
// history; a sample taken after the cleanup must show the mount under the target, or the incident
// is escalated with every step tried and its result.
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, nodeTarget, type RemediatorDeps } from '../api.ts';
import { NodeRemediator } from '../node-remediator.ts';
import { diskCleanupConfig, type DiskCleanupRemediatorConfig } from './config.ts';
import { cleanupPlan, cleanupTarget, describeCleanup, DETECTOR, freedPerStep, ID, TASK, totalFreed, underTarget, type CleanupReport, type CleanupTarget } from './logic.ts';
import { usageSince } from './telemetry.ts';

class DiskCleanup extends NodeRemediator<DiskCleanupRemediatorConfig, CleanupTarget> {
  constructor(d: RemediatorDeps<DiskCleanupRemediatorConfig>) {
    super(d, DETECTOR, ID);
  }

  protected target(inc: IncidentView): CleanupTarget | null {
    return cleanupTarget(inc);
  }

  protected override planText(inc: IncidentView, t: CleanupTarget): string {
    return cleanupPlan(t, this.d.config.targetUsedPercent, inc.evidence.usedPercent);
  }

  protected async heal(inc: IncidentView, t: CleanupTarget): Promise<void> {
    const { policy, tasks, incidents, config } = this.d;
    // The incident may have resolved or been taken while this event waited its turn.
    if (incidents.get && incidents.get(inc.id)?.state !== 'open') return;
    let finishedAt = 0;
    let reached = false;
    await policy.remediate<CleanupReport>({
      incident: inc,
      target: nodeTarget(inc.cluster, t.node),
      node: t.node,
      kind: TASK,
      ...this.unhealthyOf(inc.cluster),
      plan: this.planText(inc, t),
      actor: ID,
      act: async () => {
        const report = await tasks.runOk(inc.cluster, t.node, TASK, { mountPoint: t.mount, targetUsedRatio: config.targetUsedPercent / 100 }, config.taskTimeoutMs);
        finishedAt = Date.now();
        reached = report.targetReached;
        await incidents
          .appendHistory(inc.id, { kind: 'remediation', message: `${TASK} on ${t.node}:\n${describeCleanup(report)}`, actor: ID, detail: { bytesFreed: totalFreed(report), steps: freedPerStep(report) } })
          .catch(() => undefined);
        return report;
      },
      verify: () => this.verify(inc, t, finishedAt, reached),
      report: (r) => `${TASK} on ${t.node}:\n${describeCleanup(r)}`,
    });
  }

  /**
   * True once a sample the agent took after the cleanup shows the mount under the target; then the
   * incident is resolved. Gives up at `verifyTimeoutMs`, or at the first fresh sample over the target
   * when the agent said it could not reach it: both then agree that the disk is still full.
   */
  private async verify(inc: IncidentView, t: CleanupTarget, since: number, agentReached: boolean): Promise<boolean> {
    const { config, store } = this.d;
    const deadline = Date.now() + config.verifyTimeoutMs;
    while (Date.now() < deadline) {
      const u = await usageSince(store, { cluster: inc.cluster, node: t.node, mount: t.mount, since });
      if (underTarget(u, config.targetUsedPercent)) {
        const used = ((u!.used / u!.size) * 100).toFixed(1);
        // The level is down; the prediction must agree: the detector's next run, over that sample,
        // no longer says this filesystem fills up within its horizon.
        const trend = await this.predictionAfter(inc, Date.now(), deadline);
        if (trend !== 'clear') {
          if (trend === 'full') await this.d.incidents.appendHistory(inc.id, { kind: 'remediation', message: `${t.mount} on ${t.node} at ${used}% used, but low-disk still predicts it full within its horizon`, actor: ID }).catch(() => undefined);
          return false;
        }
        await this.d.incidents.transition(inc.id, 'resolved', `${t.mount} on ${t.node} at ${used}% used after the cleanup (sample of ${new Date(u!.ts).toISOString()})`, ID).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
        return true;
      }
      if (u && !agentReached) return false;
      await sleep(config.verifyIntervalMs);
    }
    return false;
  }

  /**
   * The low-disk detector's verdict on this filesystem from a run that began after `since`: 'full'
   * when it still reports it (the level is under the target by now, so that is the prediction),
   * 'clear' when it does not, 'unknown' when no such run came before the deadline.
   */
  private async predictionAfter(inc: IncidentView, since: number, deadline: number): Promise<'clear' | 'full' | 'unknown'> {
    while (Date.now() < deadline) {
      const r = this.d.findings.latestReport(inc.cluster, DETECTOR);
      if (r && r.ts > since) return r.findings.some((f) => f.subject === inc.subject) ? 'full' : 'clear';
      await sleep(this.d.config.verifyIntervalMs);
    }
    return 'unknown';
  }
}

export default defineRemediator({
  id: ID,
  description: "Runs the node's configured disk cleanup steps on a filesystem low on space, verifies from its next samples, escalates when it stays full",
  heals: [DETECTOR],
  configSchema: diskCleanupConfig,
  create: (deps) => new DiskCleanup(deps),
});
