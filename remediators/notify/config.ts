// Notification routing and channels. Unknown keys are rejected; every default lives here.
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');
/** Slack member IDs: U... (W... on Enterprise Grid). */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const severity = z.enum(['info', 'warning', 'critical']);

const retrySchema = z
  .strictObject({
    initialMs: z.number().int().positive().default(1_000),
    maxMs: z.number().int().positive().default(5 * 60_000),
  })
  .prefault({});

const slackChannel = z.strictObject({
  type: z.literal('slack'),
  id,
  /** Bot token (xoxb-...). Never logged. */
  token: z.string().min(1),
  /** Slack channel ID (C..., G...) the bot is a member of; an ID because messages are looked up by it. */
  channel: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel ID such as C0123456789 (channel details, bottom of the About tab)'),
  /** Where the Web API lives; tests point this at a local stand-in. */
  slackApiUrl: z.string().url().default('https://slack.com/api/'),
  /** In-call retries by the SDK (429 Retry-After is always waited for); the outbox retries beyond. */
  sdkRetries: z.number().int().nonnegative().max(10).default(3),
  timeoutMs: z.number().int().positive().default(10_000),
  /**
   * The buttons in this channel's messages ("Approve", "Silence 1 h"): the Slack app's Interactivity
   * Request URL is `<server.publicUrl>/v1/slack/interactivity`. Absent: the buttons are shown but
   * Whistle refuses what they send. Served by remediators/slack-actions/.
   */
  interactivity: z
    .strictObject({
      /** The app's Signing Secret (Basic Information, App Credentials): every request is checked against it. Never logged. */
      signingSecret: z.string().min(16, 'must be the Slack app\'s signing secret (Basic Information, App Credentials)'),
      /**
       * Who may act: Slack user ID → operator name (one of server.operatorTokens), the name recorded in
       * the audit log and the incident's timeline. A user not listed is refused.
       */
      users: z.record(z.string(), z.string().min(1)).default({}),
    })
    .optional(),
});

const emailChannel = z.strictObject({
  type: z.literal('email'),
  id,
  host: z.string().min(1),
  /** 587 is submission with STARTTLS; 465 is TLS from the start (set `secure`). */
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the connection's first byte (port 465); otherwise the session upgrades with STARTTLS. */
  secure: z.boolean().default(false),
  /**
   * Refuse to send unless the session is upgraded with STARTTLS (a server that does not offer it,
   * or an attacker stripping the offer, gets neither the password nor the message). Turn off only
   * for a relay on a trusted network that cannot do TLS.
   */
  requireTls: z.boolean().default(true),
  /**
   * PEM file with the CA certificate(s) that sign the server's certificate, for a private CA; it
   * replaces the system trust store for this channel. Absent: the system's CAs. The certificate
   * must also name `host` (DNS name or IP address).
   */
  caFile: z.string().min(1).optional(),
  user: z.string().optional(),
  /** Never logged. */
  password: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  timeoutMs: z.number().int().positive().default(15_000),
});

const jiraChannel = z.strictObject({
  type: z.literal('jira'),
  id,
  /**
   * Which Jira: `cloud` (*.atlassian.net: REST v3, enhanced JQL search, basic auth with `email` and
   * an API token) or `datacenter` (self-hosted: REST v2, classic search, a personal access token).
   */
  flavor: z.enum(['cloud', 'datacenter']).default('cloud'),
  /** Base URL, e.g. https://example.atlassian.net or https://jira.example.com (with its context path, if any). */
  url: z.string().url(),
  /** Cloud: the Atlassian account's email, the user part of basic auth (required). */
  email: z.string().min(3).optional(),
  /**
   * Data Center only: a username for basic auth with `apiToken` as its password, for servers without
   * personal access tokens (before Jira 8.14). Absent, `apiToken` is sent as a bearer token.
   */
  username: z.string().min(1).optional(),
  /** Cloud: the account's API token; Data Center: a personal access token (or the password). Never logged. */
  apiToken: z.string().min(1),
  project: z.string().min(1),
  issueType: z.string().default('Task'),
  /** Name of the workflow transition applied when the incident resolves. */
  resolveTransition: z.string().default('Done'),
  /**
   * How long a created issue may take to show in search (Cloud's search is eventually consistent).
   * After a create whose answer was lost, no second ticket is created before this has passed.
   */
  searchLagMs: z.number().int().nonnegative().default(30_000),
  timeoutMs: z.number().int().positive().default(15_000),
});

export const channelSchema = z.discriminatedUnion('type', [slackChannel, emailChannel, jiraChannel]);

const routeSchema = z.strictObject({
  /** Every listed condition must hold; an empty list or absent key matches anything. */
  match: z
    .strictObject({
      severity: z.array(severity).default([]),
      cluster: z.array(z.string()).default([]),
      detector: z.array(z.string()).default([]),
      labels: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  channels: z.array(id).min(1),
  /** Keep evaluating later routes after this one matched (Alertmanager's `continue`). */
  continue: z.boolean().default(false),
  groupWaitMs: z.number().int().nonnegative().optional(),
  repeatIntervalMs: z.number().int().positive().optional(),
  sendResolved: z.boolean().optional(),
});

export const notificationsSchema = z
  .strictObject({
    /** Wait this long after an incident opens before the first notification (a blip that resolves sooner is never sent). */
    groupWaitMs: z.number().int().nonnegative().default(30_000),
    /** A still-open incident is re-notified after this long. */
    repeatIntervalMs: z.number().int().positive().default(4 * 3600_000),
    sendResolved: z.boolean().default(true),
    /** How often pending timers (group wait, repeat) are evaluated. */
    tickMs: z.number().int().positive().default(1_000),
    /**
     * The address messages link to (`<linkBase>/console/incidents/<id>`), when people reach the
     * console by another address than server.publicUrl; defaults to server.publicUrl.
     */
    linkBase: z.string().url().optional(),
    retry: retrySchema,
    channels: z.array(channelSchema).default([]),
    routes: z.array(routeSchema).default([]),
    /** Channels for incidents no route matched. */
    defaultChannels: z.array(id).default([]),
    /** The ticket channel remediators' escalations go to (openTicket); the first jira channel when absent. */
    escalationChannel: id.optional(),
  })
  .superRefine((cfg, ctx) => {
    const ids = new Set<string>();
    cfg.channels.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `duplicate channel id "${c.id}"` });
      ids.add(c.id);
      if (c.type === 'jira' && c.flavor === 'cloud' && !c.email)
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'email'], message: 'required for flavor cloud (basic auth is the account email and an API token)' });
      if (c.type === 'jira' && c.flavor === 'datacenter' && c.email)
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'email'], message: 'not used by flavor datacenter (apiToken is a personal access token; for basic auth give username)' });
      if (c.type === 'slack')
        for (const user of Object.keys(c.interactivity?.users ?? {}))
          if (!SLACK_USER_ID.test(user))
            ctx.addIssue({ code: 'custom', path: ['channels', i, 'interactivity', 'users', user], message: 'must be a Slack user ID such as U0123ABCD (the profile\'s "Copy member ID")' });
      if (c.type === 'jira' && c.flavor === 'cloud' && c.username)
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'username'], message: 'not used by flavor cloud (basic auth is email and apiToken)' });
    });
    cfg.routes.forEach((r, i) =>
      r.channels.forEach((c, j) => {
        if (!ids.has(c)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels', j], message: `unknown channel "${c}"` });
      }),
    );
    cfg.defaultChannels.forEach((c, j) => {
      if (!ids.has(c)) ctx.addIssue({ code: 'custom', path: ['defaultChannels', j], message: `unknown channel "${c}"` });
    });
    if (cfg.escalationChannel) {
      const ch = cfg.channels.find((c) => c.id === cfg.escalationChannel);
      if (!ch) ctx.addIssue({ code: 'custom', path: ['escalationChannel'], message: `unknown channel "${cfg.escalationChannel}"` });
      else if (ch.type !== 'jira') ctx.addIssue({ code: 'custom', path: ['escalationChannel'], message: `channel "${ch.id}" is not a ticket (jira) channel` });
    }
  });

export type NotificationsConfig = z.infer<typeof notificationsSchema>;
export type ChannelConfig = z.infer<typeof channelSchema>;
export type SlackChannelConfig = z.infer<typeof slackChannel>;
export type EmailChannelConfig = z.infer<typeof emailChannel>;
export type JiraChannelConfig = z.infer<typeof jiraChannel>;
export type RouteConfig = z.infer<typeof routeSchema>;
