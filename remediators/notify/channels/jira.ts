// Tickets through Jira's REST API (v2 shapes): create an issue, comment on changes, transition it
// on resolve. Exactly one ticket per incident, even across restarts and crashes:
//   1. a ticket already recorded for the incident in ClickHouse is used;
//   2. otherwise the intent is recorded first (with a deterministic label), then Jira is searched
//      for an issue carrying that label (a crash between create and record left one behind), and
//      only when none exists is an issue created, carrying the label;
//   3. the key is recorded.
// Basic auth with the account email and an API token; the token is only ever in the header.
import type { Logger } from 'pino';
import type { IncidentView } from '../../../core/pipeline.ts';
import type { Store } from '../../../store/store.ts';
import type { Channel, Delivery, DeliveryResult } from '../channel.ts';
import { ChannelError } from '../channel.ts';
import type { JiraChannelConfig } from '../config.ts';
import { textBody, title } from '../format.ts';

export function ticketLabel(incidentId: string): string {
  return `whistle-${incidentId}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export class JiraChannel implements Channel {
  readonly type = 'jira' as const;
  readonly takesNotes = true;
  readonly id: string;
  private readonly auth: string;
  private readonly base: string;

  constructor(
    private readonly cfg: JiraChannelConfig,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.id = cfg.id;
    this.auth = `Basic ${Buffer.from(`${cfg.email}:${cfg.apiToken}`).toString('base64')}`;
    this.base = cfg.url.replace(/\/$/, '');
  }

  async send(d: Delivery): Promise<DeliveryResult> {
    return { ref: await this.ensureTicket(d.incident, d) };
  }

  async update(d: Delivery): Promise<DeliveryResult> {
    if (d.kind === 'repeat') return { ref: d.ref };
    const existed = d.ref ?? (await this.recordedKey(d.incident.id));
    const key = existed ?? (await this.ensureTicket(d.incident, d));
    const body =
      d.kind === 'escalation'
        ? `Escalated by Whistle's remediation.\n\nPlan:\n${d.plan ?? ''}\n\n${d.link}`
        : d.kind === 'note'
          ? (d.note ?? '')
          : `${d.note ?? 'Incident changed'}\n\n${textBody(d.incident, d.link)}`;
    // A fresh ticket already carries the incident's current text; comment only on what is new.
    if (existed || d.kind === 'escalation' || d.kind === 'note') await this.request('POST', `/rest/api/2/issue/${encodeURIComponent(key)}/comment`, { body });
    return { ref: key };
  }

  async resolve(d: Delivery): Promise<DeliveryResult> {
    const key = d.ref ?? (await this.recordedKey(d.incident.id)) ?? (await this.ensureTicket(d.incident, d));
    await this.request('POST', `/rest/api/2/issue/${encodeURIComponent(key)}/comment`, { body: `Resolved: ${d.incident.summary}\n\n${textBody(d.incident, d.link)}` });
    const { transitions } = (await this.request('GET', `/rest/api/2/issue/${encodeURIComponent(key)}/transitions`)) as { transitions?: { id: string; name: string }[] };
    const wanted = this.cfg.resolveTransition.toLowerCase();
    const t = (transitions ?? []).find((x) => x.name.toLowerCase() === wanted);
    if (!t) {
      // Not retryable in any useful way: the workflow has no such transition. Say so on the ticket.
      this.log.warn({ channel: this.id, ticket: key, available: (transitions ?? []).map((x) => x.name) }, 'no resolve transition on ticket');
      await this.request('POST', `/rest/api/2/issue/${encodeURIComponent(key)}/comment`, {
        body: `Whistle could not move this ticket: no transition named "${this.cfg.resolveTransition}" (available: ${(transitions ?? []).map((x) => x.name).join(', ') || 'none'}).`,
      });
      return { ref: key };
    }
    await this.request('POST', `/rest/api/2/issue/${encodeURIComponent(key)}/transitions`, { transition: { id: t.id } });
    return { ref: key };
  }

  /** The ticket key recorded for an incident, if any. */
  async recordedKey(incidentId: string): Promise<string | undefined> {
    const rows = await this.store.query<{ k: string }>(
      `SELECT argMax(ticket_key, ts) AS k FROM tickets WHERE incident_id = {id:String} AND channel = {ch:String} AND ticket_key != ''`,
      { id: incidentId, ch: this.id },
    );
    return rows[0]?.k || undefined;
  }

  private async ensureTicket(incident: IncidentView, d: Delivery): Promise<string> {
    const recorded = await this.recordedKey(incident.id);
    if (recorded) return recorded;
    const label = ticketLabel(incident.id);
    await this.record(incident.id, label, '', 'creating');
    const found = (await this.request('POST', '/rest/api/2/search', { jql: `labels = "${label}"`, fields: ['key'], maxResults: 1 })) as { issues?: { key: string }[] };
    let key = found.issues?.[0]?.key;
    if (!key) {
      const created = (await this.request('POST', '/rest/api/2/issue', {
        fields: {
          project: { key: this.cfg.project },
          issuetype: { name: this.cfg.issueType },
          summary: title(incident).slice(0, 250),
          description: `${d.kind === 'escalation' && d.plan ? `Escalated by Whistle's remediation.\n\nPlan:\n${d.plan}\n\n` : ''}${textBody(incident, d.link)}`,
          labels: ['whistle', label],
        },
      })) as { key?: string };
      if (!created.key) throw new ChannelError('jira: create answered without an issue key');
      key = created.key;
    }
    await this.record(incident.id, label, key, 'created');
    return key;
  }

  private async record(incidentId: string, label: string, key: string, status: string): Promise<void> {
    await this.store.insert('tickets', [{ ts: Date.now(), incident_id: incidentId, channel: this.id, label, ticket_key: key, status }]);
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: this.auth, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (err) {
      throw new ChannelError(`jira: ${method} ${path}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { errorMessages?: string[]; errors?: Record<string, string> };
        detail = [...(j.errorMessages ?? []), ...Object.entries(j.errors ?? {}).map(([k, v]) => `${k}: ${v}`)].join('; ') || detail;
      } catch {
        /* not JSON: keep the text */
      }
      throw new ChannelError(`jira: ${method} ${path}: HTTP ${res.status} ${detail}`, res.status === 429 || res.status >= 500);
    }
    return text ? (JSON.parse(text) as unknown) : {};
  }
}
