// The upgrade engine as a stage (section `upgrades`): stack releases, recurring maintenance
// windows per cluster, and rollouts of a release node by node (engine.ts, node-upgrade.ts) through
// the node operations (bootstrap/nodes), the agents' install task and the etcd engine's health.
// A failed rollout is an incident (detector `upgrade-rollout`) with a ticket; what a node being
// upgraded is expected to cause is tied to the rollout, not paged.
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { pipelineServices } from '../../core/pipeline.ts';
import { kubeServices } from '../../ingest/kube/services.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { notifyServices } from '../../remediators/notify/services.ts';
import { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { bootstrapServices } from '../services.ts';
import { upgradesSchema } from './config.ts';
import { RolloutEngine, ROLLOUT_DETECTOR } from './engine.ts';
import { ReleaseCatalog } from './releases.ts';
import { RolloutStore } from './rollout-store.ts';
import { upgradeRoutes } from './routes.ts';
import { upgradeServices } from './services.ts';
import { WindowStore } from './window-store.ts';
import { formatPlan } from './plan.ts';

export const upgradesStage = defineStage({
  id: 'upgrades',
  needsFullSchema: true,
  config: { section: 'upgrades', schema: upgradesSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    auth: coreServices.operatorAuth,
    audit: coreServices.audit,
    clusters: coreServices.clusters,
    clock: coreServices.clock,
    apis: kubeServices.apis,
    tasks: bootstrapServices.taskQueue,
    etcd: bootstrapServices.etcdEngine,
    incidents: incidentServices.manager,
    findings: pipelineServices.findingSink,
    notifier: notifyServices.notifier,
  },
  provides: upgradeServices,
  async create({ config, deps }) {
    const log = deps.logger.child({ component: 'upgrades' });
    const clusters = () => deps.clusters.names();
    const releases = new ReleaseCatalog(deps.store, config);
    const windows = new WindowStore(deps.store, config.windows, (c) => clusters().includes(c));
    const etcdHealth = async (cluster: string) => {
      try {
        deps.etcd.cluster(cluster);
      } catch {
        return null;
      }
      const info = await deps.etcd.info(cluster);
      const sick = info.members.filter((m) => !m.healthy).map((m) => m.name);
      return { healthy: info.quorum && sick.length === 0, detail: info.quorum ? (sick.length ? `members not healthy: ${sick.join(', ')}` : `quorum, ${info.members.length} healthy members`) : 'no quorum' };
    };
    const engine = new RolloutEngine({
      cfg: config,
      store: new RolloutStore(deps.store),
      releases,
      windows,
      apis: deps.apis,
      clusters,
      tasks: deps.tasks,
      recorder: new ActionRecorder(deps.store),
      incidents: { current: () => deps.incidents.current(), suppressedBy: (i) => deps.incidents.suppressedBy(i) },
      findings: deps.findings,
      etcdHealth,
      clock: deps.clock,
      log,
    });
    // Subscribed before any stage starts: no expected finding is paged, no failed rollout goes without a ticket.
    deps.incidents.addSuppressor((i) => engine.tiedTo(i));
    deps.incidents.subscribe({
      onIncidentEvent: async (e) => {
        if (e.incident.detector !== ROLLOUT_DETECTOR || e.kind !== 'opened') return;
        const id = e.incident.labels.rollout;
        const r = id ? engine.list().find((x) => x.id === id) : undefined;
        const text = `${e.incident.summary}\n\nThe node stays cordoned. After fixing it: whistle upgrade resume ${id} (or abort).\n\n${r ? formatPlan(r.plan) : ''}`;
        // A stopped rollout is a person's to decide: escalated at once, with a ticket carrying what to do.
        await deps.incidents.transition(e.incident.id, 'escalated', `upgrade stopped: ${e.incident.summary}`, 'upgrades').catch((err: Error) => log.warn({ err: err.message }, 'escalating the rollout incident failed'));
        await deps.notifier.openTicket(e.incident, text).catch((err: Error) => log.error({ err: err.message }, 'opening the rollout ticket failed'));
      },
    });
    return {
      services: { releases, windows, rollouts: engine },
      components: [{ name: 'upgrade-state', start: async () => Promise.all([releases.load(), windows.load()]).then(() => undefined), stop: async () => undefined }, engine],
      routes: [upgradeRoutes({ cfg: config, releases, windows, engine, clusters, clock: deps.clock, auth: deps.auth, audit: deps.audit })],
    };
  },
});
