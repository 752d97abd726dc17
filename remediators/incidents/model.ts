// What the incident manager keeps per incident, beyond the public IncidentView, and how it is
// written to and read back from the incident log's `snapshot` column.
import type { IncidentEventKind, IncidentView } from '../../core/pipeline.ts';
import type { Finding, IncidentState, Severity } from '../../core/types.ts';

export interface IncidentRecord extends IncidentView {
  /** Sequence of the latest row in the incident log (snapshots and history share it). */
  seq: number;
  /** Counts transitions (not history lines): consumers compare it to know what they have seen. */
  revision: number;
  /** Time of the last finding that reported this incident. */
  lastSeenAt: number;
  /** When the incident last became active (opened or reopened): minimum open time counts from here. */
  activeSince: number;
  /** How often it reopened: each doubles the resolve window (flap damping). */
  reopenCount: number;
  /** The last event emitted for it, so consumers can reconcile after a restart. */
  lastEvent: IncidentEventKind;
}

/** One line of an incident's history as the API shows it. */
export interface HistoryEntry {
  ts: number;
  seq: number;
  kind: string;
  state: IncidentState;
  reason: string;
  actor: string;
  detail: Record<string, unknown>;
}

/** What remediators and channels add to an incident's history. */
export interface HistoryInput {
  kind: string;
  message: string;
  actor?: string;
  detail?: Record<string, unknown>;
}

export function toView(r: IncidentRecord): IncidentView {
  const view: IncidentView = {
    id: r.id,
    fingerprint: r.fingerprint,
    cluster: r.cluster,
    detector: r.detector,
    subject: r.subject,
    severity: r.severity,
    state: r.state,
    summary: r.summary,
    openedAt: r.openedAt,
    updatedAt: r.updatedAt,
    labels: { ...r.labels },
    evidence: structuredClone(r.evidence),
  };
  if (r.resolvedAt !== undefined) view.resolvedAt = r.resolvedAt;
  return view;
}

export function fromFinding(id: string, f: Finding, ts: number): IncidentRecord {
  return {
    id,
    fingerprint: f.fingerprint,
    cluster: f.cluster,
    detector: f.detector,
    subject: f.subject,
    severity: f.severity,
    state: 'open',
    summary: f.summary,
    openedAt: ts,
    updatedAt: ts,
    labels: { ...f.labels },
    evidence: structuredClone(f.evidence),
    seq: 0,
    revision: 0,
    lastSeenAt: f.ts,
    activeSince: ts,
    reopenCount: 0,
    lastEvent: 'opened',
  };
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}

export const INCIDENT_STATES: readonly IncidentState[] = ['open', 'remediating', 'awaiting_approval', 'escalated', 'resolved'];
