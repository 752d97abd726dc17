// What the detectors stage provides: the engine (ticks, hooks for benchmarks) and the latest verdicts.
import { serviceRef } from '../core/stage.ts';
import type { DetectorEngine } from './engine.ts';
import type { LatestFindings } from './latest-findings.ts';

export const detectorServices = {
  engine: serviceRef<DetectorEngine>('detectors.engine'),
  findings: serviceRef<LatestFindings>('detectors.findings'),
};
