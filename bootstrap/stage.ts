// The bootstrap engine as a stage: the task channel to node agents, the etcd engine that drives
// members through it, scheduled snapshots, the record of each etcd cluster's desired state, and
// the HTTP routes (agent tasks, etcd operations).
// Healing is not here: remediators (remediators/stage.ts) use the engine this stage provides.
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { ingestServices } from '../ingest/services.ts';
import { ActionRecorder } from '../remediators/policy/recorder.ts';
import { etcdSchema } from './etcd/config.ts';
import { DesiredStateRecorder } from './etcd/desired-state.ts';
import { EtcdEngine } from './etcd/engine.ts';
import { SnapshotScheduler } from './etcd/snapshot-scheduler.ts';
import { agentTaskRoutes, etcdOperatorRoutes } from './routes.ts';
import { bootstrapServices } from './services.ts';
import { TaskQueue } from './tasks/queue.ts';

export const bootstrapStage = defineStage({
  id: 'bootstrap',
  needsFullSchema: true,
  config: { section: 'etcd', schema: etcdSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    auth: coreServices.operatorAuth,
    audit: coreServices.audit,
    nodes: ingestServices.nodes,
  },
  provides: bootstrapServices,
  async create({ config, deps }) {
    const log = deps.logger.child({ component: 'bootstrap' });
    const queue = new TaskQueue(deps.store, log.child({ component: 'tasks' }), config.taskTimeoutMs);
    // The engine records its own steps in `actions`, next to the remediation that asked for them.
    const engine = new EtcdEngine(config, queue, new ActionRecorder(deps.store), deps.store, log.child({ component: 'etcd-engine' }));
    return {
      services: { taskQueue: queue, etcdEngine: engine },
      components: [
        new DesiredStateRecorder(deps.store, config),
        { name: 'task-queue', start: async () => undefined, stop: () => queue.close() },
        new SnapshotScheduler(config, engine, log),
      ],
      routes: [agentTaskRoutes(queue, deps.nodes), etcdOperatorRoutes({ engine, queue, auth: deps.auth, audit: deps.audit })],
    };
  },
});
