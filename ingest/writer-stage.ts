// The samples writer as a stage: one batching writer for the `samples` table, fed by whichever
// transport the `kafka` stage chooses, started before anything that feeds it. Embedded, accepted
// batches go through its write-ahead log first, so a 202 survives a crash.
import { join } from 'node:path';
import { coreServices } from '../core/services.ts';
import { defineStage } from '../core/stage.ts';
import { createIngestMetrics } from './metrics.ts';
import { ingestServices } from './services.ts';
import { writerSchema } from './writer-config.ts';
import { ResendGuard } from './resend-guard.ts';
import { WriteAheadLog } from './wal.ts';
import { BatchWriter } from './writer.ts';

export const writerStage = defineStage({
  id: 'writer',
  config: { section: 'writer', schema: writerSchema },
  needs: { store: coreServices.store, logger: coreServices.logger, registry: coreServices.metrics },
  provides: { samplesWriter: ingestServices.samplesWriter, metrics: ingestServices.metrics, resendGuard: ingestServices.resendGuard },
  async create({ config, deps }) {
    const metrics = createIngestMetrics(deps.registry);
    const dir = join(config.spoolDir, 'samples');
    // The guard's checkpoint is written before a log segment goes, so together they always hold
    // every tag acknowledged (see ingest/resend-guard.ts).
    const resendGuard = new ResendGuard();
    const guardFile = join(dir, 'resend-guard.json');
    const wal = new WriteAheadLog({ dir: join(dir, 'wal') });
    wal.beforeDelete = () => resendGuard.checkpoint(guardFile);
    const samplesWriter = new BatchWriter(
      deps.store,
      {
        table: 'samples',
        batchSize: config.batchSize,
        flushIntervalMs: config.flushIntervalMs,
        maxQueueSamples: config.maxQueueSamples,
        maxSpoolBytes: config.maxSpoolBytes,
        spoolDir: dir,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
        wal,
        onRecovered: async (metas) => {
          await resendGuard.load(guardFile);
          for (const m of metas) resendGuard.accepted(String(m.node), { epoch: String(m.epoch), seq: Number(m.seq) });
          await resendGuard.checkpoint(guardFile);
        },
      },
      metrics,
      deps.logger.child({ component: 'writer' }),
    );
    return { services: { samplesWriter, metrics, resendGuard }, components: [samplesWriter] };
  },
});
