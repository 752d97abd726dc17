// The one interface every notification channel implements (Slack, email, tickets). A channel only
// talks to its service; retry, ordering, durability and history are the notifier's job, so every
// channel gets them the same way.
import type { IncidentView } from '../../core/pipeline.ts';

/** `note`: a line from the incident's history (a remediator's action) for channels that take them. */
export type DeliveryKind = 'opened' | 'updated' | 'repeat' | 'resolved' | 'escalation' | 'note';

export interface Delivery {
  /** Deterministic outbox key: the same notification is never enqueued twice. */
  key: string;
  kind: DeliveryKind;
  /** The incident as it was when the notification was decided. */
  incident: IncidentView;
  /** What the channel returned for this incident earlier (Slack "channel/ts", Jira issue key). */
  ref?: string;
  /** Link to the incident in Whistle. */
  link: string;
  /** What changed, for updates ("state open -> remediating: restarting member"). */
  note?: string;
  /** The remediator's plan, for escalations. */
  plan?: string;
  /**
   * An earlier attempt may have reached the service without us learning so (a lost response, a
   * crash before it was recorded): a channel that can tell should look before creating again.
   */
  uncertain?: boolean;
}

export interface DeliveryResult {
  /** Kept and handed back on later deliveries for the same incident. */
  ref?: string;
}

export interface Channel {
  readonly id: string;
  readonly type: 'slack' | 'email' | 'jira';
  /** Whether history lines (remediators' actions) are worth a delivery here (a thread reply, a comment). */
  readonly takesNotes: boolean;
  /** First notification for an incident. */
  send(d: Delivery): Promise<DeliveryResult>;
  /** A change, a reminder (kind "repeat"), an escalation or a note. */
  update(d: Delivery): Promise<DeliveryResult>;
  /** The incident resolved. */
  resolve(d: Delivery): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** An error the channel knows about (HTTP status, API error code); its message never holds secrets. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}
