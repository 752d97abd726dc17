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
  /**
   * The incident's page in the console (`<server.publicUrl>/console/incidents/<id>`). Absent when
   * no public URL is configured: a message without a link beats one with a wrong link.
   */
  link?: string;
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

/**
 * Why a delivery failed, from a small fixed set: the `reason` label of
 * `whistle_notify_failures_total`, so a dashboard can tell a revoked token from an outage.
 */
export type FailureReason =
  | 'auth' // credentials refused (401, invalid_auth)
  | 'forbidden' // authenticated, but not allowed (403, missing scope)
  | 'not_found' // wrong URL, project, channel or issue (404)
  | 'gone' // the service removed the endpoint (410)
  | 'rejected' // the request itself was refused (400 and other 4xx, SMTP 5xx)
  | 'rate_limited' // 429 beyond what was waited out
  | 'unavailable' // 5xx, SMTP 4xx: the service is there but cannot take it now
  | 'search_lag' // a ticket may exist but is not searchable yet (see channels/jira.ts)
  | 'tls' // the certificate did not verify, or TLS was required and not offered
  | 'timeout'
  | 'network'
  | 'error'; // anything else

/** An error the channel knows about (HTTP status, API error code); its message never holds secrets. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly reason: FailureReason = 'error',
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export function failureReason(err: unknown): FailureReason {
  return err instanceof ChannelError ? err.reason : 'error';
}
