// The detector engine's health metrics (served at GET /metrics with the rest).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a detector run produced no verdict. */
export type DetectorErrorReason = 'error' | 'timeout' | 'overrun' | 'invalid_output' | 'sink';

export interface DetectorMetrics {
  errors: Counter<'detector' | 'reason'>;
  duration: Histogram<'detector'>;
  tick: Histogram;
  findings: Gauge<'detector'>;
}

export function createDetectorMetrics(registry: Registry): DetectorMetrics {
  return {
    errors: new Counter({
      name: 'whistle_detector_errors_total',
      help: 'Detector runs without a verdict, by reason (error: threw; timeout; overrun: previous run still going; invalid_output; sink: the report was not accepted)',
      labelNames: ['detector', 'reason'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'whistle_detector_duration_seconds',
      help: 'Time one detector took for one cluster',
      labelNames: ['detector'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tick: new Histogram({
      name: 'whistle_detector_tick_seconds',
      help: 'Time one tick took: every enabled detector for every cluster',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    findings: new Gauge({
      name: 'whistle_detector_findings',
      help: 'Findings reported by each detector in the last tick, over all clusters',
      labelNames: ['detector'],
      registers: [registry],
    }),
  };
}
