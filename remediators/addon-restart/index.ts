// addon-restart: heals dns-addon-failure incidents about a configured add-on (CoreDNS, kube-dns, or
// any Deployment/DaemonSet listed in `remediation.addonRestart.addons`). Through the policy, a
// rollout restart of its workload or the deletion of its crash-looping pods, through the cluster's
// Kubernetes API; then the API must show every replica updated and available, none crash-looping,
// for `stableForMs`, and for a DNS add-on the agents' DNS probe samples taken after that must say
// up. Only then is the incident resolved; otherwise it is escalated with what was done and seen.
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { defineRemediator, type RemediatorDeps } from '../api.ts';
import { NodeRemediator } from '../node-remediator.ts';
import { addonRestartConfig, type AddonConfig, type AddonRestartConfig } from './config.ts';
import {
  addonKey,
  addonLock,
  addonTarget,
  crashLooping,
  describeRestart,
  DETECTOR,
  dnsVerdict,
  ID,
  KIND,
  podSummary,
  restartPlan,
  rolloutState,
  workloadHealthy,
  type AddonTarget,
  type RestartReport,
} from './logic.ts';
import { dnsProbed, dnsProbesSince } from './telemetry.ts';
import { AddonWorkload } from './workload-api.ts';

class AddonRestart extends NodeRemediator<AddonRestartConfig, AddonTarget> {
  private readonly healing = new Set<string>();

  constructor(d: RemediatorDeps<AddonRestartConfig>) {
    super(d, DETECTOR, ID);
  }

  protected target(inc: IncidentView): AddonTarget | null {
    return addonTarget(inc, this.d.config.addons);
  }

  protected override lockOf(inc: IncidentView, t: AddonTarget): string {
    return addonLock(inc.cluster, t.addon);
  }

  private async note(inc: IncidentView, message: string): Promise<void> {
    this.d.log.info({ incident: inc.id }, message);
    await this.d.incidents.appendHistory(inc.id, { kind: 'remediation', message, actor: ID }).catch(() => undefined);
  }

  protected async heal(inc: IncidentView, t: AddonTarget): Promise<void> {
    // Incident events keep coming while it is open (every update): one heal at a time per incident.
    if (this.healing.has(inc.id)) return;
    this.healing.add(inc.id);
    try {
      await this.healOnce(inc, t);
    } finally {
      this.healing.delete(inc.id);
    }
  }

  private async healOnce(inc: IncidentView, t: AddonTarget): Promise<void> {
    const { policy, incidents, config, kubeApis, kubeState, store } = this.d;
    // The incident may have resolved or been taken while this event waited its turn.
    if (incidents.get && incidents.get(inc.id)?.state !== 'open') return;
    const api = kubeApis.get(inc.cluster);
    if (!api) return this.note(inc, `${ID}: cluster ${inc.cluster} has no Kubernetes API (clusters[].kubeconfig); left to people`);
    let addon: AddonConfig | undefined;
    for (const a of t.candidates) {
      if (await new AddonWorkload(api, a).exists()) {
        addon = a;
        break;
      }
    }
    if (!addon) return this.note(inc, `${ID}: none of ${t.candidates.map(addonKey).join(', ')} exists in ${inc.cluster}; left to people`);
    const w = new AddonWorkload(api, addon);
    // Many nodes down at once: the add-on is a casualty, and restarting it moves nothing.
    const nodes = await kubeState.forCluster(inc.cluster).nodes();
    const now = Date.now();
    const dnsChecked = addon.dns && (await dnsProbed(store, { cluster: inc.cluster, metric: config.dnsProbe.metric, names: config.dnsProbe.names, from: now - config.dnsProbe.lookbackMs, to: now }));
    // Another incident's restart of the same add-on may have fixed this one while it waited.
    const fixed = await this.alreadyFixed(inc, t.why, w, now);
    if (fixed) {
      await incidents.transition(inc.id, 'resolved', `${addonKey(addon)} needs nothing: ${fixed}`, ID).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
      return;
    }
    // Another incident's action on this add-on began meanwhile: look again when it ends.
    if (policy.isBusy(addonLock(inc.cluster, addon))) return this.defer(inc.id);
    const target = { ...t, addon };
    let lastSeen = 'nothing read yet';
    await policy.remediate<RestartReport>({
      incident: inc,
      target: addonLock(inc.cluster, addon),
      kind: KIND,
      unhealthy: nodes.filter((n) => n.ready !== 'True').length,
      total: nodes.length,
      plan: restartPlan(target, config, dnsChecked),
      actor: ID,
      act: async () => {
        const report = await this.act(w, new Date().toISOString());
        await incidents.appendHistory(inc.id, { kind: 'remediation', message: `${KIND}:\n${describeRestart(report)}`, actor: ID, detail: { ...report } }).catch(() => undefined);
        return report;
      },
      verify: () =>
        this.verify(inc, w, dnsChecked, (why) => {
          lastSeen = why;
        }),
      report: (r) => `${KIND}:\n${describeRestart(r)}\n  - last seen: ${lastSeen}`,
    });
  }

  /** What says the problem is gone already: the workload healthy in the API, or the DNS probes all answering. */
  private async alreadyFixed(inc: IncidentView, why: AddonTarget['why'], w: AddonWorkload, now: number): Promise<string | null> {
    const { config, store } = this.d;
    if (why === 'addon') {
      const obj = await w.get();
      const h = workloadHealthy(rolloutState(w.addon.kind, obj), await w.pods(obj));
      return h.healthy ? `it is healthy again (${h.why})` : null;
    }
    const latest = await dnsProbesSince(store, { cluster: inc.cluster, metric: config.dnsProbe.metric, names: config.dnsProbe.names, since: now - config.dnsProbe.lookbackMs });
    return dnsVerdict(latest).answered ? "the agents' DNS probes answer again" : null;
  }

  private async act(w: AddonWorkload, at: string): Promise<RestartReport> {
    const a = w.addon;
    if (a.method === 'rollout-restart') return { addon: addonKey(a), method: a.method, restartedAt: at, generation: await w.rolloutRestart(at) };
    const looping = (await w.pods()).filter((p) => !p.metadata.deletionTimestamp && crashLooping(p));
    if (looping.length === 0) throw new Error(`no pod of ${addonKey(a)} is in CrashLoopBackOff: nothing to delete`);
    for (const p of looping) await w.deletePod(p.metadata.name);
    return { addon: addonKey(a), method: a.method, deletedPods: looping.map(podSummary) };
  }

  /**
   * True once the API shows the workload healthy for `stableForMs` and, for a DNS add-on, the agents'
   * DNS probe samples taken after that say up; then the incident is resolved. Gives up at
   * `verifyTimeoutMs`; `seen` gets what was last seen, for the ticket.
   */
  private async verify(inc: IncidentView, w: AddonWorkload, dnsChecked: boolean, seen: (why: string) => void): Promise<boolean> {
    const { config, store } = this.d;
    const deadline = Date.now() + config.verifyTimeoutMs;
    let healthySince: number | null = null;
    const deleted = new Set<string>();
    let workloadOk = '';
    while (Date.now() < deadline && !workloadOk) {
      const obj = await w.get().catch((err: Error) => err);
      if (obj instanceof Error) seen(obj.message);
      else {
        const h = workloadHealthy(rolloutState(w.addon.kind, obj), await w.pods(obj), deleted);
        seen(h.why);
        healthySince = h.healthy ? (healthySince ?? Date.now()) : null;
        if (healthySince !== null && Date.now() - healthySince >= config.stableForMs) workloadOk = h.why;
      }
      if (!workloadOk) await sleep(config.verifyIntervalMs);
    }
    if (!workloadOk || healthySince === null) return false;
    let dnsOk = '';
    while (dnsChecked && !dnsOk) {
      const v = dnsVerdict(await dnsProbesSince(store, { cluster: inc.cluster, metric: config.dnsProbe.metric, names: config.dnsProbe.names, since: healthySince }));
      if (v.answered) dnsOk = "; the agents' DNS probes answer again";
      else {
        seen(`${workloadOk}; DNS probes ${v.failing.length ? `still failing on ${v.failing.join(', ')}` : 'not reported since'}`);
        if (Date.now() >= deadline) return false;
        await sleep(config.verifyIntervalMs);
      }
    }
    await this.d.incidents
      .transition(inc.id, 'resolved', `${addonKey(w.addon)} restarted: ${workloadOk} for ${Math.round(config.stableForMs / 1000)} s${dnsOk}`, ID)
      .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'resolving the incident failed'));
    return true;
  }
}

export default defineRemediator({
  id: ID,
  description: 'Restarts a configured cluster add-on (CoreDNS, ...) through the Kubernetes API when it is unavailable or DNS fails; verifies its rollout and the DNS probes, escalates otherwise',
  heals: [DETECTOR],
  configSchema: addonRestartConfig,
  create: (deps) => new AddonRestart(deps),
});
