// The support console as a stage: server-rendered pages under /console/ over the services the
// other stages provide (incidents, approvals, remediation pause, the node registry), sessions and
// operator accounts kept in the store, live updates from the incident manager, and the operator
// accounts' API (/v1/operators).
import { fleetServices } from '../bootstrap/fleet/services.ts';
import { upgradeServices } from '../bootstrap/upgrade/services.ts';
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { ingestServices } from '../ingest/services.ts';
import { incidentServices } from '../remediators/incidents/services.ts';
import { remediationServices } from '../remediators/services.ts';
import { consoleSchema } from './config.ts';
import { LiveHub } from './live.ts';
import { releaseStateOf } from './release-state.ts';
import { ConsoleOperators } from './operators.ts';
import { consoleRoutes } from './routes/index.ts';
import { operatorApiRoutes } from './routes/operators-api.ts';
import { consoleSecret } from './secret.ts';
import { consoleServices } from './services.ts';
import { ConsoleSessions } from './sessions.ts';
import { SignInThrottle } from './throttle.ts';
import { ConsoleViews } from './view-data.ts';

export const consoleStage = defineStage({
  id: 'console',
  needsFullSchema: true,
  config: { section: 'console', schema: consoleSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    server: coreServices.server,
    auth: coreServices.operatorAuth,
    audit: coreServices.audit,
    clock: coreServices.clock,
    clusters: coreServices.clusters,
    dataDir: coreServices.dataDir,
    incidents: incidentServices.manager,
    timeline: incidentServices.timeline,
    approvals: remediationServices.approvals,
    pause: remediationServices.pause,
    nodes: ingestServices.nodes,
    releases: upgradeServices.releases,
    rollouts: upgradeServices.rollouts,
    fleet: fleetServices.fleet,
  },
  provides: consoleServices,
  async create({ config, deps }) {
    const log = deps.logger.child({ component: 'console' });
    const operators = new ConsoleOperators(deps.store);
    const sessions = new ConsoleSessions(deps.store, config.sessionTtlMs, deps.clock);
    const live = new LiveHub(deps.incidents);
    // A removed operator, or one with a new password, is signed out everywhere.
    operators.onChange = async (name) => {
      for (const s of await sessions.endAllOf(name)) live.endSession(s);
    };
    const views = new ConsoleViews({ store: deps.store, config, clusters: () => deps.clusters.names(), incidents: deps.incidents, timeline: deps.timeline, approvals: deps.approvals, pause: deps.pause, nodes: deps.nodes, release: releaseStateOf(deps.releases, deps.rollouts), now: deps.clock });
    const routes = [operatorApiRoutes({ operators, auth: deps.auth, audit: deps.audit })];
    if (config.enabled) {
      const ctx = { config, server: deps.server, secret: consoleSecret(deps.dataDir), sessions, operators, views, live, incidents: deps.incidents, approvals: deps.approvals, nodes: deps.nodes, pause: deps.pause, releases: deps.releases, rollouts: deps.rollouts, fleet: deps.fleet, catalog: deps.clusters, throttle: new SignInThrottle(config.signInThrottle, deps.clock), audit: deps.audit, log, now: deps.clock };
      routes.push(consoleRoutes(ctx));
    }
    return {
      services: { operators, sessions },
      components: [
        {
          name: 'console',
          start: async () => {
            await Promise.all([operators.load(), sessions.load()]);
            live.start();
          },
          stop: async () => live.stop(),
        },
      ],
      routes,
    };
  },
});
