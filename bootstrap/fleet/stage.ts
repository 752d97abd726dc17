// The fleet as a stage: managed clusters as API objects, the node pool, attach and detach. It
// wires two things into the stages it builds on: the task queue routes a pool node's tasks to the
// agent that registered it, and the etcd engine knows each managed cluster's control-plane nodes
// as that cluster's etcd members.
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { kubeServices } from '../../ingest/kube/services.ts';
import { ingestServices } from '../../ingest/services.ts';
import { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { bootstrapServices } from '../services.ts';
import { upgradeServices } from '../upgrade/services.ts';
import { fleetSchema } from './config.ts';
import { Fleet } from './fleet.ts';
import { fleetRoutes } from './routes.ts';
import { fleetServices } from './services.ts';
import { sharedStateRefresh } from './shared-state-refresh.ts';

export const fleetStage = defineStage({
  id: 'fleet',
  needsFullSchema: true,
  config: { section: 'fleet', schema: fleetSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    clusters: coreServices.clusters,
    auth: coreServices.operatorAuth,
    audit: coreServices.audit,
    nodes: ingestServices.nodes,
    apis: kubeServices.apis,
    queue: bootstrapServices.taskQueue,
    engine: bootstrapServices.etcdEngine,
    releases: upgradeServices.releases,
    windows: upgradeServices.windows,
  },
  provides: fleetServices,
  async create({ config, deps }) {
    const fleet = new Fleet({
      catalog: deps.clusters,
      nodes: deps.nodes,
      queue: deps.queue,
      engine: deps.engine,
      // Attach and detach are recorded in `actions` beside the etcd steps they run.
      recorder: new ActionRecorder(deps.store),
      store: deps.store,
      apis: deps.apis,
      releases: deps.releases,
      windows: deps.windows,
      config,
      log: deps.logger.child({ component: 'fleet' }),
    });
    deps.queue.setRouter((cluster, node) => fleet.routeTask(cluster, node));
    deps.engine.addClusterSource((name) => fleet.etcdCluster(name));
    const log = deps.logger.child({ component: 'fleet' });
    return {
      services: { fleet },
      components: [{ name: 'fleet-interrupted', start: async () => void (await fleet.closeInterrupted()), stop: async () => undefined }, sharedStateRefresh(config.refreshMs, [() => deps.clusters.refresh(), () => deps.nodes.refresh()], log)],
      routes: [fleetRoutes({ fleet, catalog: deps.clusters, auth: deps.auth, audit: deps.audit })],
    };
  },
});
