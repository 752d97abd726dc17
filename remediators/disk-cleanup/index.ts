// disk-cleanup: heals the low-disk incidents about bytes. Through the policy, the node's agent runs
// its configured cleanup steps (`node.disk-cleanup`) for the incident's mount until it is under
// `targetUsedPercent`; the bytes freed per step go into the action's after-record and the incident
// history; a sample taken after the cleanup must show the mount under the target, or the incident
// is escalated with every step tried and its result.
// Long work runs in the background: incident events are delivered one at a time to every listener.
import { sleep } from '../../core/backoff.ts';
import type { IncidentEvent, IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, nodeTarget, type RemediatorDeps, type RemediatorInstance } from '../api.ts';
import { diskCleanupConfig, type DiskCleanupRemediatorConfig } from './config.ts';
import { cleanupPlan, cleanupTarget, describeCleanup, DETECTOR, freedPerStep, ID, TASK, totalFreed, underTarget, type CleanupReport, type CleanupTarget } from './logic.ts';
import { usageSince } from './telemetry.ts';

class DiskCleanup implements RemediatorInstance {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Open low-disk incidents by id: the unhealthy count of the max-unhealthy gate. */
  private readonly active = new Map<string, IncidentView>();
  /**
   * Incidents that (re)opened while their node's lock was held, e.g. reopened by a detector tick
   * that read samples from before the fix: looked at again when that action ends, not dropped.
   */
  private readonly deferred = new Set<string>();

  constructor(private readonly d: RemediatorDeps<DiskCleanupRemediatorConfig>) {}

  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    const inc = e.incident;
    if (inc.detector !== DETECTOR) return;
    if (inc.state === 'resolved') this.active.delete(inc.id);
    else this.active.set(inc.id, inc);
    // Opened, or reopened (a state change back to open); remediating and escalated ones are someone's.
    if (inc.state !== 'open') return;
    const t = cleanupTarget(inc);
    if (!t) return;
    if (this.d.policy.isBusy(nodeTarget(inc.cluster, t.node))) {
      this.deferred.add(inc.id);
      return;
    }
    this.background(this.heal(inc, t));
  }

  private background(p: Promise<unknown>): void {
    const run = p.finally(() => this.retryDeferred()).catch((err) => this.d.log.error({ err: (err as Error).message }, 'disk-cleanup failed'));
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  private retryDeferred(): void {
    for (const id of [...this.deferred]) {
      const inc = this.d.incidents.get?.(id);
      const target = inc ? cleanupTarget(inc) : null;
      if (!inc || inc.state !== 'open' || !target) {
        this.deferred.delete(id);
        continue;
      }
      if (this.d.policy.isBusy(nodeTarget(inc.cluster, target.node))) continue;
      this.deferred.delete(id);
      this.background(this.heal(inc, target));
    }
  }

  async stop(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** Nodes of the cluster with an open low-disk incident, and the cluster's authorized nodes. */
  private unhealthyOf(cluster: string): { unhealthy: number; total: number } {
    const bad = new Set([...this.active.values()].filter((i) => i.cluster === cluster && i.state !== 'resolved').map((i) => cleanupTarget(i)?.node ?? i.subject));
    const total = this.d.nodes.list(cluster).filter((n) => n.status === 'authorized').length;
    return { unhealthy: bad.size, total: Math.max(total, bad.size) };
  }

  private async heal(inc: IncidentView, t: CleanupTarget): Promise<void> {
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
      plan: cleanupPlan(t, config.targetUsedPercent, inc.evidence.usedPercent),
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
        await this.d.incidents.transition(inc.id, 'resolved', `${t.mount} on ${t.node} at ${used}% used after the cleanup (sample of ${new Date(u!.ts).toISOString()})`, ID).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
        return true;
      }
      if (u && !agentReached) return false;
      await sleep(config.verifyIntervalMs);
    }
    return false;
  }
}

export default defineRemediator({
  id: ID,
  description: "Runs the node's configured disk cleanup steps on a filesystem low on space, verifies from its next samples, escalates when it stays full",
  heals: [DETECTOR],
  configSchema: diskCleanupConfig,
  create: (deps) => new DiskCleanup(deps),
});
