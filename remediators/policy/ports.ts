// What a remediator needs from the incident stage and the ticket channel. The incident manager
// (remediators/incidents/manager.ts) provides the first; the notifier's ticket channel the second.
import type { IncidentListener, IncidentView } from '../../core/pipeline.ts';
import type { IncidentState } from '../../core/types.ts';

export interface IncidentPort {
  transition(id: string, state: IncidentState, reason: string, actor: string): Promise<unknown>;
  appendHistory(id: string, entry: { kind: string; message: string; actor?: string; detail?: Record<string, unknown> }): Promise<void>;
  isSuppressed(incident: IncidentView): boolean;
  subscribe?(listener: IncidentListener): () => void;
  get?(id: string): IncidentView | undefined;
}

export interface TicketPort {
  /** Opens (or updates: one per incident) a ticket carrying the plan a person should follow. */
  openTicket(incident: IncidentView, plan: string): Promise<unknown>;
}
