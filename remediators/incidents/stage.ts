// The incidents stage: the manager (findings in, incidents out, state rebuilt from incident_log at
// start), silences and maintenance windows, and their operator API.
import { pipelineServices } from '../../core/pipeline.ts';
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { incidentsSchema } from './config.ts';
import { IncidentManager } from './manager.ts';
import { incidentRoutes } from './routes.ts';
import { incidentServices } from './services.ts';
import { IncidentTimeline } from './timeline.ts';

export const incidentsStage = defineStage({
  id: 'incidents',
  needsFullSchema: true,
  config: { section: 'incidents', schema: incidentsSchema },
  needs: { store: coreServices.store, logger: coreServices.logger, registry: coreServices.metrics, auth: coreServices.operatorAuth, audit: coreServices.audit },
  provides: { manager: incidentServices.manager, timeline: incidentServices.timeline, findingSink: pipelineServices.findingSink },
  async create({ config, deps }) {
    const manager = new IncidentManager({ store: deps.store, config, log: deps.logger.child({ component: 'incidents' }), registry: deps.registry });
    const timeline = new IncidentTimeline();
    return {
      services: { manager, timeline, findingSink: manager },
      components: [manager],
      routes: [incidentRoutes({ manager, timeline, auth: deps.auth, audit: deps.audit })],
    };
  },
});
