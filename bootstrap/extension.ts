// The bootstrap stage as an app extension: agent task channel, etcd engine with its routes and
// scheduled snapshots, the remediation policy and approvals, and (when given the incident stage)
// the etcd-member-replace remediator.
//   extensions: [bootstrapExtension({ incidents: () => incidentManager, sink: () => incidentManager, tickets })]
import type { Extension } from '../app/whistle.ts';
import type { Component } from '../core/component.ts';
import type { FindingSink } from '../core/pipeline.ts';
import { Approvals } from '../remediators/policy/approvals.ts';
import { RemediationPolicy } from '../remediators/policy/policy.ts';
import type { IncidentPort, TicketPort } from '../remediators/policy/ports.ts';
import { ActionRecorder } from '../remediators/policy/recorder.ts';
import { InterimEtcdQuorumRunner } from '../remediators/etcd-member-replace/interim-detector.ts';
import { EtcdMemberReplace } from '../remediators/etcd-member-replace/remediator.ts';
import { EtcdEngine } from './etcd/engine.ts';
import { SnapshotScheduler } from './etcd/snapshot-scheduler.ts';
import { agentTaskRoutes, operatorRoutes } from './routes.ts';
import { TaskQueue } from './tasks/queue.ts';

export interface BootstrapHandles {
  queue: TaskQueue;
  engine: EtcdEngine;
  recorder: ActionRecorder;
  approvals: Approvals;
  policy?: RemediationPolicy;
  remediator?: EtcdMemberReplace;
  detector?: InterimEtcdQuorumRunner;
}

export interface BootstrapExtensionOptions {
  /** The incident stage (IncidentManager): enables the etcd-member-replace remediator. */
  incidents?: () => IncidentPort;
  /** Where the interim etcd-quorum runner reports; the incident manager. */
  sink?: () => FindingSink;
  tickets?: () => TicketPort | undefined;
  /** Receives the built parts (tests, the CLI's embedded mode). */
  onReady?: (h: BootstrapHandles) => void;
}

export function bootstrapExtension(opts: BootstrapExtensionOptions = {}): Extension {
  return {
    name: 'bootstrap',
    async create(ctx) {
      const cfg = ctx.config.etcd;
      const log = ctx.log.child({ component: 'bootstrap' });
      const queue = new TaskQueue(ctx.store, log.child({ component: 'tasks' }), cfg.taskTimeoutMs);
      const recorder = new ActionRecorder(ctx.store);
      const engine = new EtcdEngine(cfg, queue, recorder, ctx.store, log.child({ component: 'etcd-engine' }));
      const approvals = new Approvals(ctx.store, log.child({ component: 'approvals' }));
      await approvals.load();
      const components: Component[] = [new SnapshotScheduler(cfg, engine, log), { name: 'task-queue', start: async () => undefined, stop: async () => queue.close() }];
      const handles: BootstrapHandles = { queue, engine, recorder, approvals };
      const incidents = opts.incidents?.();
      if (incidents) {
        const tickets = opts.tickets?.();
        const policy = new RemediationPolicy(ctx.config.remediation, recorder, incidents, tickets, log.child({ component: 'remediation' }));
        const remediator = new EtcdMemberReplace({ cfg: ctx.config.remediation, engine, policy, approvals, recorder, incidents, tickets, store: ctx.store, log: log.child({ component: 'etcd-member-replace' }) });
        incidents.subscribe?.(remediator);
        components.push({ name: 'etcd-member-replace', start: async () => undefined, stop: async () => {
          remediator.close();
          await remediator.idle();
        } });
        Object.assign(handles, { policy, remediator });
        const sink = opts.sink?.();
        if (sink && cfg.detector.enabled) {
          const detector = new InterimEtcdQuorumRunner(ctx.store, sink, () => cfg.clusters.map((c) => c.cluster), cfg.detector.intervalMs, cfg.detector.staleAfterMs, log);
          components.push(detector);
          handles.detector = detector;
        }
      }
      components.push({ name: 'approvals', start: async () => undefined, stop: async () => approvals.idle() });
      opts.onReady?.(handles);
      return { components, routes: [agentTaskRoutes(queue), operatorRoutes(engine, queue, approvals, recorder)] };
    },
  };
}

/** The stage without healing (no incident stage given): engine, tasks, routes, snapshots. */
export const extension: Extension = bootstrapExtension();
