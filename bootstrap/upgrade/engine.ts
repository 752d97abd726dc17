// Rollouts: a release taken to every node of one cluster, following the plan it was started with.
// One loop per active rollout: before each batch it checks pause, abort and the cluster's
// maintenance window (no node starts outside it; a batch that started finishes), then upgrades the
// batch's nodes (node-upgrade.ts). A failure stops the rollout, leaves the node cordoned with the
// reason and reports it as an incident (detector `upgrade-rollout`, with a ticket); `resume`
// retries that node from the phase it reached. State lives in ClickHouse (rollout-store.ts): at
// start every rollout that was running continues from its nodes' recorded phases.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts';
import type { DetectorReport, FindingSink, IncidentView } from '../../core/pipeline.ts';
import type { Finding } from '../../core/types.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import type { Suppression } from '../../remediators/incidents/silences.ts';
import type { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { NodeOps } from '../nodes/index.ts';
import type { TaskQueue } from '../tasks/queue.ts';
import { readSnapshot } from './cluster-snapshot.ts';
import { explainedBy } from './expected-findings.ts';
import type { UpgradesConfig } from './config.ts';
import { NodeUpgradeFailed, upgradeNode } from './node-upgrade.ts';
import { buildPlan, type UpgradePlan } from './plan.ts';
import type { ReleaseCatalog } from './releases.ts';
import { ACTIVE_STATES, RolloutStore, type NodeRecord, type Rollout, type RolloutState } from './rollout-store.ts';
import type { WindowStore } from './window-store.ts';

export const ROLLOUT_DETECTOR = 'upgrade-rollout';

/** The per-node steps as the actions table names them (node-upgrade.ts). */
const STEP_KINDS = ['upgrade.preflight', 'upgrade.cordon', 'upgrade.drain', 'upgrade.install', 'upgrade.wait-ready', 'upgrade.uncordon', 'upgrade.health-gate'];

export interface IncidentsView {
  current(): IncidentView[];
  suppressedBy(incident: IncidentView): Suppression | null;
}

export interface RolloutEngineDeps {
  cfg: UpgradesConfig;
  store: RolloutStore;
  releases: ReleaseCatalog;
  windows: WindowStore;
  apis: ReadonlyMap<string, KubeApi>;
  clusters: () => string[];
  tasks: TaskQueue;
  recorder: ActionRecorder;
  incidents: IncidentsView;
  findings: FindingSink;
  etcdHealth(cluster: string): Promise<{ healthy: boolean; detail: string } | null>;
  clock: () => number;
  log: Logger;
}

export class RolloutEngine implements Component {
  readonly name = 'upgrade-rollouts';
  private readonly rollouts = new Map<string, Rollout>();
  private readonly loops = new Map<string, Promise<void>>();
  private stopping = false;
  private reporter: NodeJS.Timeout | undefined;

  constructor(private readonly d: RolloutEngineDeps) {}

  async start(): Promise<void> {
    for (const r of await this.d.store.loadAll()) this.rollouts.set(r.id, r);
    // Steps begun by a process that died before it could record their end: closed now, so the
    // record says what happened; the step itself runs again from the node's recorded phase.
    for (const kind of STEP_KINDS) {
      for (const a of await this.d.recorder.unfinished(kind)) {
        await this.d.recorder.write(a.id, 'failed', { cluster: a.cluster, subject: a.subject, kind, reason: 'interrupted: Whistle stopped during this step; the rollout resumes from the phase recorded', detail: a.detail });
      }
    }
    for (const r of this.rollouts.values()) if (r.state === 'running' || r.state === 'waiting') this.run(r);
    await this.reportFailures();
    this.reporter = setInterval(() => void this.reportFailures(), this.d.cfg.tickMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reporter);
    // A node in the middle of a step is picked up from its recorded phase at the next start.
    await Promise.allSettled(this.loops.values());
  }

  list(cluster?: string): Rollout[] {
    return [...this.rollouts.values()].filter((r) => !cluster || r.cluster === cluster).sort((a, b) => b.createdAt - a.createdAt);
  }

  get(id: string): Rollout {
    const r = this.rollouts.get(id);
    if (!r) throw new NotFoundError(`id: no rollout "${id}"`);
    return r;
  }

  private api(cluster: string): KubeApi {
    if (!this.d.clusters().includes(cluster)) throw new NotFoundError(`cluster: no cluster "${cluster}" is configured`);
    const api = this.d.apis.get(cluster);
    if (!api) throw new InputError(`cluster: "${cluster}" has no kubeconfig (clusters[].kubeconfig), so Whistle cannot drain its nodes`);
    return api;
  }

  async plan(cluster: string, releaseName: string): Promise<UpgradePlan> {
    const api = this.api(cluster);
    const release = this.d.releases.get(releaseName);
    const [snapshot, versions, etcd] = await Promise.all([readSnapshot(api), this.d.releases.nodeVersions(cluster, this.d.clock() - 10 * 60_000), this.d.etcdHealth(cluster)]);
    const openIncidents = this.d.incidents
      .current()
      .filter((i) => i.cluster === cluster && i.state !== 'resolved' && i.detector !== ROLLOUT_DETECTOR && i.severity !== 'info' && this.d.incidents.suppressedBy(i) === null);
    return buildPlan({ cluster, release, fromRelease: this.d.releases.clusterRelease(cluster), concurrency: this.d.cfg.concurrency, snapshot, versions, etcd, openIncidents });
  }

  async startRollout(cluster: string, releaseName: string, actor: string): Promise<Rollout> {
    const active = this.list(cluster).find((r) => ACTIVE_STATES.includes(r.state));
    if (active) throw new ConflictError(`cluster: rollout ${active.id} (${active.state}) of ${active.release} is in progress on ${cluster}; resume or abort it first`);
    const plan = await this.plan(cluster, releaseName);
    if (plan.refusals.length > 0) throw new ConflictError(`refusing to upgrade ${cluster}: ${plan.refusals.map((r) => `${r.reason}: ${r.message}`).join('; ')}`);
    const now = Date.now();
    const r: Rollout = {
      id: `upg-${now.toString(36)}-${randomBytes(3).toString('hex')}`,
      cluster,
      release: releaseName,
      fromRelease: plan.fromRelease,
      state: 'running',
      reason: 'started',
      plan,
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
      nodes: plan.batches.flat().map((s) => ({ node: s.node, phase: 'pending', reached: 'pending', reason: '', startedAt: null, backAt: null, updatedAt: now })),
    };
    // Check again under the write: two starts racing on one cluster must not both pass.
    if (this.list(cluster).some((x) => ACTIVE_STATES.includes(x.state))) throw new ConflictError(`cluster: a rollout is already in progress on ${cluster}`);
    this.rollouts.set(r.id, r);
    await this.d.recorder.write(this.d.recorder.newId(), 'started', { cluster, subject: cluster, kind: 'upgrade.rollout', reason: `rollout ${r.id} of ${releaseName}`, actor, detail: { rollout: r.id, nodes: r.nodes.length } });
    await this.d.store.writeRollout(r);
    this.run(r);
    return r;
  }

  async pause(id: string, actor: string, reason = ''): Promise<Rollout> {
    const r = this.get(id);
    if (r.state !== 'running' && r.state !== 'waiting') throw new ConflictError(`id: rollout ${id} is ${r.state}, only a running or waiting one can be paused`);
    await this.setState(r, 'paused', `paused by ${actor}${reason ? `: ${reason}` : ''} (a node already started finishes)`, actor);
    return r;
  }

  async resume(id: string, actor: string, reason = ''): Promise<Rollout> {
    const r = this.get(id);
    if (r.state !== 'paused' && r.state !== 'failed') throw new ConflictError(`id: rollout ${id} is ${r.state}, only a paused or failed one can be resumed`);
    for (const n of r.nodes) {
      if (n.phase !== 'failed') continue;
      // Retried from the phase it reached; it is still cordoned as the failed step left it.
      n.phase = n.reached;
      n.reason = `resumed by ${actor}`;
      n.updatedAt = Date.now();
      await this.d.store.writeNode(r.id, n);
    }
    await this.setState(r, 'running', `resumed by ${actor}${reason ? `: ${reason}` : ''}`, actor);
    this.run(r);
    return r;
  }

  async abort(id: string, actor: string, reason = ''): Promise<Rollout> {
    const r = this.get(id);
    if (!ACTIVE_STATES.includes(r.state)) throw new ConflictError(`id: rollout ${id} is already ${r.state}`);
    await this.setState(r, 'aborted', `aborted by ${actor}${reason ? `: ${reason}` : ''}; nodes not started are left as they are`, actor);
    return r;
  }

  /** Expected findings: a node being upgraded going NotReady, its kubelet or agent silent, is the rollout's doing (expected-findings.ts). */
  tiedTo(incident: IncidentView): Suppression | null {
    return explainedBy(this.rollouts.values(), this.d.cfg.expectedDetectors, incident);
  }

  /** Incidents on the cluster opened since `since` that no rollout explains (the health gate's question). */
  newIncidents(cluster: string, since: number): IncidentView[] {
    return this.d.incidents
      .current()
      .filter((i) => i.cluster === cluster && i.state !== 'resolved' && i.openedAt >= since && i.detector !== ROLLOUT_DETECTOR && this.tiedTo(i) === null);
  }

  private async setState(r: Rollout, state: RolloutState, reason: string, actor = 'whistle'): Promise<void> {
    const prev = r.state;
    r.state = state;
    r.reason = reason;
    r.updatedAt = Date.now();
    await this.d.store.writeRollout(r);
    if (prev !== state) {
      const final = state === 'succeeded' || state === 'aborted' || state === 'failed';
      await this.d.recorder.write(this.d.recorder.newId(), final ? (state === 'succeeded' ? 'succeeded' : 'failed') : 'planned', {
        cluster: r.cluster,
        subject: r.cluster,
        kind: 'upgrade.rollout',
        reason: `${state}: ${reason}`,
        actor,
        detail: { rollout: r.id, from: prev, to: state },
      });
    }
  }

  private run(r: Rollout): void {
    if (this.loops.has(r.id)) return;
    const loop = this.loop(r)
      .catch(async (err: Error) => {
        this.d.log.error({ rollout: r.id, err: err.message }, 'rollout loop failed');
        if (!this.stopping) await this.setState(r, 'failed', `internal: ${err.message}`).catch(() => undefined);
      })
      .finally(() => {
        this.loops.delete(r.id);
        // Resumed while this loop was on its way out (it had seen the pause): go on.
        if (!this.stopping && (r.state === 'running' || r.state === 'waiting')) this.run(r);
      });
    this.loops.set(r.id, loop);
  }

  private async loop(r: Rollout): Promise<void> {
    const steps = new Map(r.plan.batches.flat().map((s) => [s.node, s]));
    const ops = new NodeOps(this.api(r.cluster));
    const deps = {
      cfg: this.d.cfg,
      ops,
      tasks: this.d.tasks,
      recorder: this.d.recorder,
      releases: this.d.releases,
      log: this.d.log.child({ rollout: r.id }),
      etcdHealth: this.d.etcdHealth,
      newIncidents: (cluster: string, since: number) => this.newIncidents(cluster, since),
      save: (n: NodeRecord) => this.d.store.writeNode(r.id, n),
    };
    while (!this.stopping) {
      if (r.state !== 'running' && r.state !== 'waiting') return;
      const batch = r.plan.batches.find((b) => b.some((s) => this.node(r, s.node).phase !== 'done'));
      if (!batch) {
        await this.d.releases.recordClusterRelease(r.cluster, r.release, r.id);
        await this.setState(r, 'succeeded', `every node at ${r.release}`);
        return;
      }
      const started = batch.some((s) => this.node(r, s.node).reached !== 'pending');
      if (!started) {
        const w = this.d.windows.state(r.cluster, this.d.clock(), this.d.cfg.requireWindow);
        if (!w.open) {
          const why = w.nextOpening === null ? 'no maintenance window is configured and upgrades.requireWindow is on' : `maintenance window closed; next opening ${new Date(w.nextOpening).toISOString()}`;
          if (r.state !== 'waiting' || r.reason !== why) await this.setState(r, 'waiting', why);
          await this.sleep(this.d.cfg.tickMs);
          continue;
        }
        if (r.state === 'waiting') await this.setState(r, 'running', 'maintenance window open');
      }
      const results = await Promise.allSettled(batch.map((s) => upgradeNode(deps, r, steps.get(s.node)!, this.node(r, s.node))));
      const failures = results.flatMap((x, i) => (x.status === 'rejected' ? [{ node: batch[i]!.node, err: x.reason as Error }] : []));
      if (failures.length > 0) {
        for (const f of failures) {
          const n = this.node(r, f.node);
          n.phase = 'failed';
          n.reason = f.err.message;
          n.updatedAt = Date.now();
          await this.d.store.writeNode(r.id, n);
        }
        const why = failures.map((f) => (f.err instanceof NodeUpgradeFailed ? f.err.message : `${f.node}: ${f.err.message}`)).join('; ');
        if ((r.state as RolloutState) === 'aborted') r.reason += `; then ${why}`;
        else await this.setState(r, 'failed', `stopped: ${why}; the node stays cordoned; whistle upgrade resume ${r.id} retries it`);
        await this.reportFailures();
        return;
      }
    }
  }

  private node(r: Rollout, node: string): NodeRecord {
    const n = r.nodes.find((x) => x.node === node);
    if (!n) throw new Error(`rollout ${r.id} has no node ${node}`);
    return n;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Failed rollouts as findings of their cluster: an incident (and a ticket) while failed, resolved once resumed or aborted. */
  private async reportFailures(): Promise<void> {
    const clusters = new Set([...this.rollouts.values()].map((r) => r.cluster));
    const ts = this.d.clock();
    for (const cluster of clusters) {
      const findings: Finding[] = this.list(cluster)
        .filter((r) => r.state === 'failed')
        .map((r) => {
          const n = r.nodes.find((x) => x.phase === 'failed');
          return {
            detector: ROLLOUT_DETECTOR,
            cluster,
            subject: n?.node ?? cluster,
            severity: 'critical',
            summary: `upgrade to ${r.release} stopped on ${n?.node ?? cluster}: ${n?.reason ?? r.reason}`,
            evidence: { rollout: r.id, release: r.release, node: n?.node ?? null, reached: n?.reached ?? null, reason: r.reason },
            labels: { rollout: r.id, ...(n ? { node: n.node } : {}) },
            fingerprint: `${ROLLOUT_DETECTOR}:${r.id}`,
            ts,
          };
        });
      const report: DetectorReport = { cluster, detector: ROLLOUT_DETECTOR, ts, findings };
      await this.d.findings.report(report).catch((err: Error) => this.d.log.warn({ err: err.message }, 'reporting rollout failures failed'));
    }
  }
}
