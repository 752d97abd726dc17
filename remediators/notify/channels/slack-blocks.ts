// The Slack message for an incident (Block Kit): what, where, since when, evidence, and the buttons
// that act on it. The buttons' action ids are the contract with the interactivity endpoint
// (remediators/slack-actions/), which Slack calls when one is pressed; their value is the incident id.
import type { ChatUpdateArguments } from '@slack/web-api';
import type { IncidentView } from '../../../core/pipeline.ts';
import { evidenceLines, iso, severityTag, since, where } from '../format.ts';

export const SLACK_ACTIONS = {
  /** Approves the plan awaiting approval on the incident (shown only while one waits). */
  approve: 'whistle_approve',
  /** Silences the incident (its fingerprint) for an hour. */
  silence: 'whistle_silence_1h',
  /** A URL button to the console's incident page; Slack still tells the app it was pressed. */
  open: 'whistle_open',
} as const;

export type SlackBlocks = Extract<ChatUpdateArguments, { blocks: unknown }>['blocks'];

const EMOJI: Record<string, string> = { CRITICAL: ':red_circle:', WARNING: ':large_orange_circle:', INFO: ':large_blue_circle:', RESOLVED: ':white_check_mark:' };

export function mrkdwnEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface BlockOptions {
  /** Offer "Approve": a plan awaits approval. Default: the incident is in state awaiting_approval. */
  approvable?: boolean;
  /** Offer "Silence 1 h". Default: the incident is not resolved. */
  silenceable?: boolean;
  /** Lines shown under the incident (who did what from Slack), as mrkdwn. */
  notes?: string[];
}

export function incidentBlocks(i: IncidentView, link: string | undefined, opts: BlockOptions = {}): SlackBlocks {
  const tag = severityTag(i);
  const evidence = evidenceLines(i, 10).map(mrkdwnEscape).join('\n');
  const approvable = opts.approvable ?? i.state === 'awaiting_approval';
  const buttons: Record<string, unknown>[] = [];
  if (approvable)
    buttons.push({
      type: 'button',
      action_id: SLACK_ACTIONS.approve,
      text: { type: 'plain_text', text: 'Approve' },
      style: 'primary',
      value: i.id,
      // Slack asks before sending: approving runs a plan that changes a cluster.
      confirm: {
        title: { type: 'plain_text', text: 'Approve the plan?' },
        text: { type: 'mrkdwn', text: `Whistle will run the plan awaiting approval for \`${i.id}\` on ${mrkdwnEscape(i.cluster)}.` },
        confirm: { type: 'plain_text', text: 'Approve' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    });
  if (opts.silenceable ?? i.state !== 'resolved') buttons.push({ type: 'button', action_id: SLACK_ACTIONS.silence, text: { type: 'plain_text', text: 'Silence 1 h' }, value: i.id });
  if (link) buttons.push({ type: 'button', action_id: SLACK_ACTIONS.open, text: { type: 'plain_text', text: 'Open' }, url: link, value: i.id });
  return [
    { type: 'header', text: { type: 'plain_text', text: `${tag}: ${i.detector} on ${i.subject}`.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `${EMOJI[tag] ?? ''} *${mrkdwnEscape(i.summary)}*` } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Where*\n${mrkdwnEscape(where(i))}` },
        { type: 'mrkdwn', text: `*Since*\n${since(i)}` },
        { type: 'mrkdwn', text: `*State*\n${i.state}` },
        { type: 'mrkdwn', text: `*Severity*\n${i.severity}` },
      ],
    },
    ...(evidence ? [{ type: 'section', text: { type: 'mrkdwn', text: `*Evidence*\n\`\`\`${evidence.slice(0, 2900)}\`\`\`` } }] : []),
    ...(buttons.length > 0 ? [{ type: 'actions', block_id: 'whistle_incident_actions', elements: buttons }] : []),
    ...(opts.notes && opts.notes.length > 0 ? [{ type: 'section', text: { type: 'mrkdwn', text: opts.notes.join('\n').slice(0, 2900) } }] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `incident \`${i.id}\` · updated ${iso(i.updatedAt)}` }] },
  ] as SlackBlocks;
}
