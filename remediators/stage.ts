// Remediation as a stage: the policy, the plans awaiting approval, the actions record and their API,
// and every enabled built-in remediator (remediators/builtin.ts), each hearing the events of the
// incidents it heals.
import type { Component } from '../core/component.ts';
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { bootstrapServices } from '../bootstrap/services.ts';
import { kubeServices } from '../ingest/kube/services.ts';
import { ingestServices } from '../ingest/services.ts';
import type { RemediatorInstance } from './api.ts';
import { BUILTIN_REMEDIATORS } from './builtin.ts';
import { EscalationChains } from './chains.ts';
import { remediationSchema, remediatorConfig } from './config.ts';
import { incidentServices } from './incidents/services.ts';
import { notifyServices } from './notify/services.ts';
import { Approvals } from './policy/approvals.ts';
import { NodeOptOut } from './policy/node-opt-out.ts';
import { RemediationPause } from './policy/pause.ts';
import { pauseRoutes } from './policy/pause-routes.ts';
import { RemediationPolicy } from './policy/policy.ts';
import { ActionRecorder } from './policy/recorder.ts';
import { remediationRoutes } from './policy/routes.ts';
import { remediationServices } from './services.ts';

export const remediationStage = defineStage({
  id: 'remediation',
  needsFullSchema: true,
  config: { section: 'remediation', schema: remediationSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    auth: coreServices.operatorAuth,
    audit: coreServices.audit,
    incidents: incidentServices.manager,
    notifier: notifyServices.notifier,
    tasks: bootstrapServices.taskQueue,
    etcd: bootstrapServices.etcdEngine,
    nodes: ingestServices.nodes,
    clusters: coreServices.clusters,
    kubeApis: kubeServices.apis,
    kubeState: kubeServices.clusterState,
  },
  provides: remediationServices,
  async create({ config, deps }) {
    const log = deps.logger.child({ component: 'remediation' });
    const recorder = new ActionRecorder(deps.store);
    const approvals = new Approvals(deps.store, log.child({ component: 'approvals' }));
    const pause = new RemediationPause(deps.store, recorder);
    const optOut = new NodeOptOut(deps.kubeApis);
    const chains = new EscalationChains(config.chains, deps.incidents);
    const policy = new RemediationPolicy(config, recorder, deps.incidents, deps.notifier, log, {
      isPaused: (cluster) => pause.isPaused(cluster),
      nodeOptOut: (cluster, node) => optOut.check(cluster, node),
      handOver: (r, why, tried) => chains.handOver(r, why, tried),
      stepTimeoutMs: (incident) => chains.stepTimeoutMs(incident),
    });
    const running: { instance: RemediatorInstance; unsubscribe: () => void }[] = [];
    for (const r of BUILTIN_REMEDIATORS) {
      const { enabled, ...own } = remediatorConfig(config, r);
      if (!enabled) continue;
      const instance = r.create({
        config: own,
        policy,
        approvals,
        recorder,
        incidents: deps.incidents,
        tickets: deps.notifier,
        tasks: deps.tasks,
        etcd: deps.etcd,
        nodes: deps.nodes,
        kubeApis: deps.kubeApis,
        kubeState: deps.kubeState,
        store: deps.store,
        log: log.child({ component: r.id }),
      });
      // Subscribed now, before any stage starts, so no incident event is missed.
      const unsubscribe = deps.incidents.subscribe({
        onIncidentEvent: async (e) => (chains.hears(r, e.incident) ? instance.onIncidentEvent(e) : undefined),
      });
      running.push({ instance, unsubscribe });
    }
    const remediators: Component = {
      name: 'remediators',
      start: async () => undefined,
      stop: async () => {
        for (const r of running) r.unsubscribe();
        await Promise.all(running.map((r) => r.instance.stop()));
      },
    };
    // Plans are read back before the API serves them; stopping waits for approved plans that run.
    const plans: Component = { name: 'approvals', start: () => approvals.load(), stop: () => approvals.idle() };
    // Read back at start (the policy waits for it): a paused cluster stays paused across restarts.
    const pauses: Component = { name: 'remediation-pause', start: () => pause.load(), stop: async () => undefined };
    return {
      services: { policy, approvals, recorder },
      components: [pauses, plans, remediators],
      routes: [remediationRoutes({ approvals, recorder, auth: deps.auth, audit: deps.audit }), pauseRoutes({ pause, clusters: deps.clusters, auth: deps.auth, audit: deps.audit })],
    };
  },
});
