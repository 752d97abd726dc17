// What each button does, as the operator the Slack user maps to: "Approve" approves the plan that
// awaits approval on the incident (and it runs), "Silence 1 h" silences the incident's fingerprint
// for an hour, "Open" (a link) needs nothing. Each is recorded in the audit log and in the
// incident's timeline under the operator's name, and answered with what the message should now
// say, or with a line only the presser sees when there is nothing to do.
import type { AuditLog } from '../../core/audit.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { IncidentManager } from '../incidents/manager.ts';
import { iso } from '../notify/format.ts';
import { incidentBlocks, mrkdwnEscape, SLACK_ACTIONS, type SlackBlocks } from '../notify/channels/slack-blocks.ts';
import type { Approvals } from '../policy/approvals.ts';
import type { Interaction } from './payload.ts';

export const SILENCE_MS = 3600_000;

/** What to answer: the message rewritten (`blocks`), or a line for the presser only (`ephemeral`). */
export interface Outcome {
  /** The HTTP status of the acknowledgement. */
  status: number;
  /** What was done, or why nothing was (the acknowledgement's body, and the log). */
  text: string;
  done: boolean;
  blocks?: SlackBlocks;
  ephemeral?: string;
}

export interface SlackActionDeps {
  incidents: IncidentManager;
  approvals: Approvals;
  audit: AuditLog;
  /** The console's page for an incident (the "Open" button), or undefined without a public URL. */
  linkFor: (incidentId: string) => string | undefined;
  now: () => number;
}

export class SlackActions {
  constructor(private readonly d: SlackActionDeps) {}

  async act(i: Interaction, operator: string): Promise<Outcome> {
    const incident = this.d.incidents.get(i.incidentId);
    if (!incident) return nothing(404, `incident ${i.incidentId} is not known to Whistle (resolved long ago, or another Whistle's message)`);
    switch (i.actionId) {
      case SLACK_ACTIONS.approve:
        return this.approve(incident, operator, i);
      case SLACK_ACTIONS.silence:
        return this.silence(incident, operator, i);
      default:
        // The URL button opened the console in the browser; Slack only tells us it was pressed.
        return { status: 200, text: 'opened', done: true };
    }
  }

  private async approve(incident: IncidentView, operator: string, i: Interaction): Promise<Outcome> {
    const waiting = this.d.approvals.list({ incidentId: incident.id, state: 'awaiting_approval' });
    if (waiting.length === 0) {
      const latest = this.d.approvals.list({ incidentId: incident.id })[0];
      return nothing(200, latest ? `nothing awaits approval on ${incident.id}: plan ${latest.id} is ${latest.state} (${latest.actor})` : `no plan was proposed for ${incident.id}`);
    }
    const notes: string[] = [];
    for (const plan of waiting) {
      const approved = await this.d.approvals.approve(plan.id, operator, 'approved from Slack');
      const via = { via: 'slack', slackUser: i.userId };
      await this.d.audit.record({ actor: operator, action: 'plan.approve', cluster: approved.cluster, subject: approved.id, detail: { incidentId: incident.id, kind: approved.kind, ...via } });
      await this.d.incidents.appendHistory(incident.id, { kind: 'operator', message: `plan ${approved.id} (${approved.kind}) approved from Slack`, actor: operator, detail: { planId: approved.id, ...via } });
      notes.push(`:white_check_mark: Plan \`${approved.id}\` approved by *${mrkdwnEscape(operator)}* from Slack at ${iso(this.d.now())}; it is ${approved.state}.`);
    }
    const now = this.d.incidents.get(incident.id) ?? incident;
    return { status: 200, text: `approved ${waiting.map((p) => p.id).join(', ')}`, done: true, blocks: incidentBlocks(now, this.d.linkFor(now.id), { approvable: false, notes }) };
  }

  private async silence(incident: IncidentView, operator: string, i: Interaction): Promise<Outcome> {
    if (incident.state === 'resolved') return nothing(200, `${incident.id} is already resolved`);
    const current = this.d.incidents.suppressedBy(incident);
    // A second press (or a colleague's) is not a second silence.
    if (current) return nothing(200, `${incident.id} is already held back by ${current.kind} ${current.id}${current.comment ? ` (${current.comment})` : ''}`);
    const endsAt = this.d.now() + SILENCE_MS;
    const silence = await this.d.incidents.suppressions.createSilence({
      matchers: [{ name: 'fingerprint', value: incident.fingerprint }],
      endsAt,
      comment: `silenced from Slack by ${operator} for 1 h`,
      createdBy: operator,
    });
    const via = { via: 'slack', slackUser: i.userId };
    await this.d.audit.record({ actor: operator, action: 'silence.create', cluster: incident.cluster, subject: silence.id, detail: { matchers: silence.matchers, endsAt, comment: silence.comment, incidentId: incident.id, ...via } });
    await this.d.incidents.appendHistory(incident.id, { kind: 'operator', message: `silenced for 1 h from Slack (silence ${silence.id}, until ${iso(endsAt)})`, actor: operator, detail: { silenceId: silence.id, ...via } });
    const note = `:no_bell: Silenced for 1 h by *${mrkdwnEscape(operator)}* from Slack, until ${iso(endsAt)} (silence \`${silence.id}\`).`;
    return { status: 200, text: `silenced ${incident.id} as ${silence.id}`, done: true, blocks: incidentBlocks(incident, this.d.linkFor(incident.id), { silenceable: false, notes: [note] }) };
  }
}

function nothing(status: number, text: string): Outcome {
  return { status, text, done: false, ephemeral: `Whistle did nothing: ${text}.` };
}
