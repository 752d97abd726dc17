// The detectors stage: loads the detectors the configuration enables (built-ins and
// `detectors.modules`), runs them for every cluster each tick, delivers each verdict to the
// finding sink (the incident manager), and serves the latest verdicts at GET /v1/findings.
import { ConfigError } from '../core/errors.ts';
import { pipelineServices } from '../core/pipeline.ts';
import { coreServices } from '../core/services.ts';
import { defineStage, type RoutePlugin } from '../core/stage.ts';
import { kubeServices } from '../ingest/kube/services.ts';
import { ingestServices } from '../ingest/services.ts';
import { detectorsSchema } from './config.ts';
import { DetectorEngine } from './engine.ts';
import { LatestFindings } from './latest-findings.ts';
import { importDetectorModules, resolveDetectors } from './loader.ts';
import { detectorServices } from './services.ts';

export const detectorsStage = defineStage({
  id: 'detectors',
  needsFullSchema: true,
  config: { section: 'detectors', schema: detectorsSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    registry: coreServices.metrics,
    clusters: coreServices.clusters,
    auth: coreServices.operatorAuth,
    clock: coreServices.clock,
    nodes: ingestServices.nodes,
    clusterState: kubeServices.clusterState,
    sink: pipelineServices.findingSink,
  },
  provides: { engine: detectorServices.engine, findings: detectorServices.findings },
  async create({ config, deps }) {
    const modules = await importDetectorModules(config.modules);
    if (modules.problems.length > 0) throw new ConfigError(modules.problems);
    const detectors = resolveDetectors(config, modules.detectors);
    const findings = new LatestFindings(deps.sink);
    const engine = new DetectorEngine({
      store: deps.store,
      config,
      detectors,
      sink: findings,
      registry: deps.registry,
      log: deps.logger.child({ component: 'detectors' }),
      clusters: () => deps.clusters.names(),
      nodes: deps.nodes,
      clusterState: deps.clusterState,
      now: deps.clock,
    });
    const routes: RoutePlugin = async (app) => {
      app.addHook('preHandler', deps.auth.preHandler);
      app.get<{ Querystring: { cluster?: string; detector?: string } }>(
        '/v1/findings',
        {
          schema: {
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: { cluster: { type: 'string', maxLength: 63 }, detector: { type: 'string', maxLength: 63 } },
            },
          },
        },
        async (req) => ({ findings: findings.list(req.query), detectors: engine.enabled }),
      );
    };
    return { services: { engine, findings }, components: [engine], routes: [routes] };
  },
});
