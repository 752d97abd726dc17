// The samples writer as a stage: one batching writer for the `samples` table, fed by whichever
// transport the `kafka` stage chooses, started before anything that feeds it.
import { join } from 'node:path';
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { createIngestMetrics } from './metrics.ts';
import { ingestServices } from './services.ts';
import { writerSchema } from './writer-config.ts';
import { BatchWriter } from './writer.ts';

export const writerStage = defineStage({
  id: 'writer',
  config: { section: 'writer', schema: writerSchema },
  needs: { store: coreServices.store, logger: coreServices.logger, registry: coreServices.metrics },
  provides: { samplesWriter: ingestServices.samplesWriter, metrics: ingestServices.metrics },
  async create({ config, deps }) {
    const metrics = createIngestMetrics(deps.registry);
    const samplesWriter = new BatchWriter(
      deps.store,
      {
        table: 'samples',
        batchSize: config.batchSize,
        flushIntervalMs: config.flushIntervalMs,
        maxQueueSamples: config.maxQueueSamples,
        maxSpoolBytes: config.maxSpoolBytes,
        spoolDir: join(config.spoolDir, 'samples'),
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
      },
      metrics,
      deps.logger.child({ component: 'writer' }),
    );
    return { services: { samplesWriter, metrics }, components: [samplesWriter] };
  },
});
