// Tickets in Jira Cloud or Jira Data Center (jira-api.ts holds what differs): create an issue,
// comment on changes, transition it on resolve. Exactly one ticket per incident, even across
// restarts and crashes:
//   1. a ticket already recorded for the incident in ClickHouse (`tickets`) is used;
//   2. otherwise Jira is searched for an issue carrying the incident's label (a crash between
//      create and record left one behind); found, it is recorded and used;
//   3. otherwise, if a create was sent moments ago and its outcome is unknown (the intent row has
//      no key), the search may simply not show it yet (Cloud's search is eventually consistent):
//      the delivery fails with reason `search_lag` and is retried, and only after `searchLagMs`
//      without a hit is a second create sent;
//   4. the intent is recorded, the issue created with the label, and its key recorded.
import type { Logger } from 'pino';
import type { IncidentView } from '../../../core/pipeline.ts';
import type { Store } from '../../../store/store.ts';
import type { Channel, Delivery, DeliveryResult } from '../channel.ts';
import { ChannelError } from '../channel.ts';
import type { JiraChannelConfig } from '../config.ts';
import { textBody, title } from '../format.ts';
import { JiraApi } from './jira-api.ts';

export function ticketLabel(incidentId: string): string {
  return `whistle-${incidentId}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Refusals after which the create certainly did not happen (the intent is then not "uncertain"). */
const DEFINITE_REFUSALS = new Set(['auth', 'forbidden', 'not_found', 'gone', 'rejected']);

export class JiraChannel implements Channel {
  readonly type = 'jira' as const;
  readonly takesNotes = true;
  readonly id: string;
  private readonly api: JiraApi;

  constructor(
    private readonly cfg: JiraChannelConfig,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.id = cfg.id;
    this.api = new JiraApi(cfg);
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
        ? `Escalated by Whistle's remediation.\n\nPlan:\n${d.plan ?? ''}${d.link ? `\n\n${d.link}` : ''}`
        : d.kind === 'note'
          ? (d.note ?? '')
          : `${d.note ?? 'Incident changed'}\n\n${textBody(d.incident, d.link)}`;
    // A fresh ticket already carries the incident's current text; comment only on what is new.
    if (existed || d.kind === 'escalation' || d.kind === 'note') await this.comment(key, body);
    return { ref: key };
  }

  async resolve(d: Delivery): Promise<DeliveryResult> {
    const key = d.ref ?? (await this.recordedKey(d.incident.id)) ?? (await this.ensureTicket(d.incident, d));
    await this.comment(key, `Resolved: ${d.incident.summary}\n\n${textBody(d.incident, d.link)}`);
    const issue = `${this.api.base}/issue/${encodeURIComponent(key)}`;
    // Already in a done status (someone closed it, or an earlier attempt did): nothing to move.
    const { fields } = (await this.api.request('GET', `${issue}?fields=status`)) as { fields?: { status?: { statusCategory?: { key?: string } } } };
    if (fields?.status?.statusCategory?.key === 'done') return { ref: key };
    const { transitions } = (await this.api.request('GET', `${issue}/transitions`)) as { transitions?: { id: string; name: string }[] };
    const wanted = this.cfg.resolveTransition.toLowerCase();
    const t = (transitions ?? []).find((x) => x.name.toLowerCase() === wanted);
    if (!t) {
      // Not retryable in any useful way: the workflow has no such transition. Say so on the ticket.
      this.log.warn({ channel: this.id, ticket: key, available: (transitions ?? []).map((x) => x.name) }, 'no resolve transition on ticket');
      await this.comment(key, `Whistle could not move this ticket: no transition named "${this.cfg.resolveTransition}" (available: ${(transitions ?? []).map((x) => x.name).join(', ') || 'none'}).`);
      return { ref: key };
    }
    await this.api.request('POST', `${issue}/transitions`, { transition: { id: t.id } });
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

  private async comment(key: string, text: string): Promise<void> {
    await this.api.request('POST', `${this.api.base}/issue/${encodeURIComponent(key)}/comment`, { body: this.api.richText(text) });
  }

  private async ensureTicket(incident: IncidentView, d: Delivery): Promise<string> {
    const recorded = await this.recordedKey(incident.id);
    if (recorded) return recorded;
    const label = ticketLabel(incident.id);
    const found = await this.findByLabel(label);
    if (found) {
      await this.record(incident.id, label, found, 'found');
      return found;
    }
    const pending = await this.uncertainCreate(incident.id);
    if (pending !== undefined && Date.now() - pending < this.cfg.searchLagMs)
      throw new ChannelError(
        `jira: a ticket for ${incident.id} may have been created ${Math.round((Date.now() - pending) / 1000)} s ago without its answer arriving; it is not in search yet, so no second one is created before ${Math.round(this.cfg.searchLagMs / 1000)} s have passed`,
        'search_lag',
      );
    await this.record(incident.id, label, '', 'creating');
    let created: { key?: string };
    try {
      created = (await this.api.request('POST', `${this.api.base}/issue`, {
        fields: {
          project: { key: this.cfg.project },
          issuetype: { name: this.cfg.issueType },
          summary: title(incident).slice(0, 250),
          description: this.api.richText(`${d.kind === 'escalation' && d.plan ? `Escalated by Whistle's remediation.\n\nPlan:\n${d.plan}\n\n` : ''}${textBody(incident, d.link)}`),
          labels: ['whistle', label],
        },
      })) as { key?: string };
    } catch (err) {
      // Jira answered no: nothing was created, so the next attempt need not wait for search.
      if (err instanceof ChannelError && DEFINITE_REFUSALS.has(err.reason)) await this.record(incident.id, label, '', 'refused');
      throw err;
    }
    if (!created.key) throw new ChannelError('jira: create answered without an issue key', 'rejected');
    await this.record(incident.id, label, created.key, 'created');
    return created.key;
  }

  /** The oldest issue carrying the label (a clone copies labels; the original is the ticket). */
  private async findByLabel(label: string): Promise<string | undefined> {
    const issues = await this.api.search(`labels = "${label}" ORDER BY created ASC`);
    if (issues.length > 1)
      this.log.warn({ channel: this.id, label, issues: issues.map((i) => i.key) }, 'several issues carry the incident label; using the oldest');
    return [...issues].sort((a, b) => Date.parse(a.created) - Date.parse(b.created) || Number(a.id) - Number(b.id))[0]?.key;
  }

  /** When a create was last sent whose outcome is unknown (an intent with no key after it), if any. */
  private async uncertainCreate(incidentId: string): Promise<number | undefined> {
    const rows = await this.store.query<{ status: string; ms: number }>(
      `SELECT argMax(status, ts) AS status, toUnixTimestamp64Milli(max(ts)) AS ms FROM tickets WHERE incident_id = {id:String} AND channel = {ch:String}`,
      { id: incidentId, ch: this.id },
    );
    const r = rows[0];
    return r && r.status === 'creating' ? Number(r.ms) : undefined;
  }

  private async record(incidentId: string, label: string, key: string, status: 'creating' | 'refused' | 'found' | 'created'): Promise<void> {
    await this.store.insert('tickets', [{ ts: Date.now(), incident_id: incidentId, channel: this.id, label, ticket_key: key, status }]);
  }
}
