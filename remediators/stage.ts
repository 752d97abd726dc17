// Remediation as a stage: the policy, the plans awaiting approval, the actions record and their API,
// and every enabled built-in remediator (remediators/builtin.ts), each hearing the events of the
// incidents it heals.
import { resolve } from 'node:path';
import type { Component } from '../core/component.ts';
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { bootstrapServices } from '../bootstrap/services.ts';
import { detectorServices } from '../detectors/services.ts';
import { kubeServices } from '../ingest/kube/services.ts';
import { ingestServices } from '../ingest/services.ts';
import type { RemediatorInstance } from './api.ts';
import { BUILTIN_REMEDIATORS } from './builtin.ts';
import { EscalationChains, effectiveChains } from './chains.ts';
import { remediationSchema, remediatorConfig } from './config.ts';
import { chainPlan, RemediationPlanner, type Planner } from './plan.ts';
import { planRoutes } from './plan-routes.ts';
import { incidentServices } from './incidents/services.ts';
import { notifyServices } from './notify/services.ts';
import { Approvals } from './policy/approvals.ts';
import { NodeOptOut } from './policy/node-opt-out.ts';
import { RemediationPause } from './policy/pause.ts';
import { pauseRoutes } from './policy/pause-routes.ts';
import { RemediationPolicy, workerName } from './policy/policy.ts';
import { ActionRecorder } from './policy/recorder.ts';
import { remediationRoutes } from './policy/routes.ts';
import { remediationServices } from './services.ts';

export const remediationStage = defineStage({
  id: 'remediation',
  needsFullSchema: true,
  config: { section: 'remediation', schema: remediationSchema },
  needs: {
    store: coreServices.store,
    dataDir: coreServices.dataDir,
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
    findings: detectorServices.findings,
  },
  provides: remediationServices,
  async create({ config, deps }) {
    const log = deps.logger.child({ component: 'remediation' });
    const recorder = new ActionRecorder(deps.store);
    const approvals = new Approvals(deps.store, log.child({ component: 'approvals' }));
    const pause = new RemediationPause(deps.store, recorder);
    const optOut = new NodeOptOut(deps.kubeApis);
    const enabled = (id: string) => BUILTIN_REMEDIATORS.some((r) => r.id === id && remediatorConfig(config, r).enabled);
    const chains = new EscalationChains(effectiveChains(config.chains, enabled), deps.incidents);
    const planners: Planner[] = [];
    const policy = new RemediationPolicy(config, recorder, deps.incidents, deps.notifier, log, {
      isPaused: (cluster) => pause.isPaused(cluster),
      nodeOptOut: (cluster, node) => optOut.check(cluster, node),
      handOver: (r, why, tried) => chains.handOver(r, why, tried),
      stepTimeoutMs: (incident) => chains.stepTimeoutMs(incident),
      chainPlan: (incident) => chainPlan(incident, chains, planners).text,
    }, workerName(resolve(deps.dataDir)));
    const running: { r: (typeof BUILTIN_REMEDIATORS)[number]; instance: RemediatorInstance; unsubscribe: () => void }[] = [];
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
        findings: deps.findings,
        store: deps.store,
        log: log.child({ component: r.id }),
      });
      // Subscribed now, before any stage starts, so no incident event is missed.
      const unsubscribe = deps.incidents.subscribe({
        onIncidentEvent: async (e) => (chains.hears(r, e.incident) ? instance.onIncidentEvent(e) : undefined),
      });
      running.push({ r, instance, unsubscribe });
      planners.push({ id: r.id, heals: r.heals, plan: instance.plan?.bind(instance) });
    }
    const planner = new RemediationPlanner(chains, () => planners, () => deps.incidents.current().map((i) => deps.incidents.get(i.id)!).filter(Boolean), recorder);
    const remediators: Component = {
      name: 'remediators',
      // After the incidents stage has read its state back (this stage needs it).
      start: async () => {
        for (const r of running) await r.instance.start?.();
      },
      stop: async () => {
        for (const r of running) r.unsubscribe();
        await Promise.all(running.map((r) => r.instance.stop()));
      },
    };
    // Plans are read back before the API serves them; stopping waits for approved plans that run.
    const plans: Component = { name: 'approvals', start: () => approvals.load(), stop: () => approvals.idle() };
    // Read back at start (the policy waits for it): a paused cluster stays paused across restarts.
    const pauses: Component = { name: 'remediation-pause', start: () => pause.load(), stop: async () => undefined };
    // After the incidents are read back: the rate limit's recent actions, then each chained incident
    // picked up at the step the actions table says (a remediating one goes back to open, which
    // announces it to that step's remediator; an open one is announced to it directly).
    const resume: Component = {
      name: 'remediation-resume',
      start: async () => {
        await policy.load();
        const active = deps.incidents.current().map((i) => deps.incidents.get(i.id)).filter((i): i is NonNullable<typeof i> => !!i);
        // Only this worker's own claims are closed: another worker's may be running right now.
        const mine = (a: { detail: Record<string, unknown> }) => a.detail.worker === undefined || a.detail.worker === policy.claims.worker;
        for (const inc of await chains.load(active, recorder, mine)) {
          const chain = chains.chainOf(inc.detector)!;
          const at = chains.positionOf(inc);
          if (at >= chain.length) {
            await policy.escalate({ incident: inc, plan: chainPlan(inc, chains, planners).text, actor: 'remediation', kind: 'remediation.chain' }, `every step of the ${inc.detector} chain was tried (Whistle restarted before a person was told)`, chains.triedOf(inc));
            continue;
          }
          // Not this step's kind of case (a node under pressure but Ready): nothing to resume.
          const step = planners.find((x) => x.id === chain[at]!.remediator);
          if (step?.plan && step.plan(inc) === null) continue;
          const why = `Whistle restarted; resuming the ${inc.detector} chain at step ${at + 1} (${chain[at]!.remediator})`;
          log.info({ incident: inc.id, step: at + 1 }, why);
          await deps.incidents.appendHistory(inc.id, { kind: 'remediation', message: why, actor: 'remediation' }).catch(() => undefined);
          if (inc.state === 'remediating') await deps.incidents.transition(inc.id, 'open', why, 'remediation');
          else for (const x of running) if (chains.hears(x.r, inc)) await x.instance.onIncidentEvent({ kind: 'state_changed', incident: inc });
        }
      },
      stop: async () => undefined,
    };
    return {
      services: { policy, approvals, recorder, pause },
      components: [pauses, plans, remediators, resume],
      routes: [planRoutes({ planner, clusters: () => deps.clusters.list(), auth: deps.auth, audit: deps.audit }), remediationRoutes({ approvals, recorder, auth: deps.auth, audit: deps.audit }), pauseRoutes({ pause, clusters: () => deps.clusters.list(), auth: deps.auth, audit: deps.audit })],
    };
  },
});
