// Ingest as a stage: the node registry and the agent-facing and operator routes (register,
// telemetry, nodes, samples, health, metrics). Telemetry goes to the sink the transport stage chose.
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import type { IngestContext } from './context.ts';
import { NodeRegistry } from './node-registry.ts';
import { healthRoutes } from './routes/health.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { registrationRoutes } from './routes/registration.ts';
import { sampleRoutes } from './routes/samples.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { ingestServices } from './services.ts';
import { writerSchema } from './writer-config.ts';

export const ingestStage = defineStage({
  id: 'ingest',
  // Readiness reports the writer's queue bound, so ingest reads the writer's section too.
  config: { section: 'writer', schema: writerSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    registry: coreServices.metrics,
    clusters: coreServices.clusters,
    server: coreServices.server,
    audit: coreServices.audit,
    operatorAuth: coreServices.operatorAuth,
    samplesWriter: ingestServices.samplesWriter,
    metrics: ingestServices.metrics,
    sink: ingestServices.telemetrySink,
    resendGuard: ingestServices.resendGuard,
  },
  provides: { nodes: ingestServices.nodes },
  async create({ config, deps }) {
    const nodes = new NodeRegistry(deps.store, deps.clusters, deps.logger.child({ component: 'nodes' }));
    await nodes.load();
    const ctx: IngestContext = { ...deps, log: deps.logger, writer: config, nodes };
    const routes = [healthRoutes, registrationRoutes, telemetryRoutes, nodeRoutes, sampleRoutes].map(
      (plugin) => async (app: Parameters<typeof plugin>[0]) => app.register(plugin, { ctx }),
    );
    return { services: { nodes }, routes };
  },
});
