// Contracts between the stages after ingest. Detectors produce findings; the incident manager
// consumes them; remediators and channels react to incident changes.
import { serviceRef } from './stage.ts';
import type { Finding, IncidentState, Severity } from './types.ts';

/**
 * One detector's complete verdict for one cluster on one tick. "Complete" matters: an incident may
 * resolve only when the detector that opened it ran successfully and no longer reports it; a
 * detector that threw or timed out says nothing about its incidents.
 */
export interface DetectorReport {
  cluster: string;
  detector: string;
  ts: number;
  findings: Finding[];
}

export interface FindingSink {
  report(report: DetectorReport): Promise<void>;
}

/** What remediators and notification channels see of an incident. */
export interface IncidentView {
  id: string;
  fingerprint: string;
  cluster: string;
  detector: string;
  subject: string;
  severity: Severity;
  state: IncidentState;
  summary: string;
  openedAt: number;
  updatedAt: number;
  resolvedAt?: number;
  labels: Record<string, string>;
  /** The latest finding's evidence. */
  evidence: Record<string, unknown>;
}

export type IncidentEventKind = 'opened' | 'updated' | 'resolved' | 'state_changed';

export interface IncidentEvent {
  kind: IncidentEventKind;
  incident: IncidentView;
}

export interface IncidentListener {
  onIncidentEvent(event: IncidentEvent): Promise<void>;
}

/** Where detectors deliver their verdicts; the incidents stage provides it. */
export const pipelineServices = {
  findingSink: serviceRef<FindingSink>('pipeline.findingSink'),
};
