// Slack: one message per incident (Block Kit), updated in place with chat.update as the incident
// changes and when it resolves; what happens next goes to the message's thread (thread_ts).
// Rate limits: the SDK waits out a 429's Retry-After before retrying (rejectRateLimitedCalls is
// false and retries > 0); the outbox retries whatever still fails.
import { LogLevel, WebClient, WebClientEvent, type Logger as SlackLogger, type RetryOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Channel, Delivery, DeliveryResult, FailureReason } from '../channel.ts';
import { ChannelError } from '../channel.ts';
import type { SlackChannelConfig } from '../config.ts';
import { iso, title } from '../format.ts';
import { incidentBlocks } from './slack-blocks.ts';

/** What the SDK throws after waiting out a 429 (WebClient.makeRequest), to have it retried. */
const RATE_LIMITED = /A rate limit was exceeded/;
const METADATA_EVENT = 'whistle_incident';
/** Thread replies carry their outbox key under this event type, to be found again. */
const REPLY_EVENT = 'whistle_notification';

/** The SDK's logger interface over pino; its debug output (request bodies) is dropped. */
function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: () => undefined,
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackChannelDeps {
  log: Logger;
  onRateLimited?: (retryAfterSeconds: number) => void;
}

export class SlackChannel implements Channel {
  readonly type = 'slack' as const;
  readonly takesNotes = true;
  readonly id: string;
  private readonly client: WebClient;

  constructor(
    private readonly cfg: SlackChannelConfig,
    deps: SlackChannelDeps,
  ) {
    this.id = cfg.id;
    this.client = new WebClient(cfg.token, {
      slackApiUrl: cfg.slackApiUrl,
      logger: slackLogger(deps.log.child({ channel: cfg.id })),
      timeout: cfg.timeoutMs,
      rejectRateLimitedCalls: false,
      // The SDK retries only what is certain not to have been processed: a 429 it waited out. A
      // lost response or a 5xx goes to the outbox, which retries with `uncertain` set (see send).
      // (`onFailedAttempt` is p-retry's, which the SDK hands this object to; its type omits it.)
      retryConfig: {
        retries: cfg.sdkRetries,
        factor: 2,
        minTimeout: 250,
        maxTimeout: 5_000,
        onFailedAttempt: (err: Error) => {
          if (!RATE_LIMITED.test(err.message)) throw err;
        },
      } as RetryOptions,
    });
    this.client.on(WebClientEvent.RATE_LIMITED, (retryAfter: number) => {
      deps.log.warn({ channel: cfg.id, retryAfterSeconds: retryAfter }, 'slack rate limited; waiting as asked');
      deps.onRateLimited?.(retryAfter);
    });
  }

  async send(d: Delivery): Promise<DeliveryResult> {
    if (d.uncertain) {
      // An earlier post may have gone through: find it by its metadata instead of posting twice.
      const found = await this.findPosted(d);
      if (found) return { ref: found };
    }
    const res = await this.call(() =>
      this.client.chat.postMessage({
        channel: this.cfg.channel,
        text: `${title(d.incident)}: ${d.incident.summary}`,
        blocks: incidentBlocks(d.incident, d.link),
        unfurl_links: false,
        metadata: { event_type: METADATA_EVENT, event_payload: { incident_id: d.incident.id } },
      }),
    );
    if (!res.ts || !res.channel) throw new ChannelError('slack: chat.postMessage answered without ts/channel');
    return { ref: `${res.channel}/${res.ts}` };
  }

  /** The "channel/ts" of this incident's message if it was already posted (recent history, by metadata). */
  private async findPosted(d: Delivery): Promise<string | undefined> {
    const res = await this.call(() =>
      this.client.conversations.history({ channel: this.cfg.channel, oldest: String(Math.floor(d.incident.openedAt / 1000) - 60), limit: 200, include_all_metadata: true }),
    );
    // A top-level message with replies carries thread_ts equal to its own ts; a reply, another.
    const hit = (res.messages ?? []).find(
      (m) =>
        m.metadata?.event_type === METADATA_EVENT && (m.metadata.event_payload as Record<string, unknown> | undefined)?.incident_id === d.incident.id && (!m.thread_ts || m.thread_ts === m.ts),
    );
    return hit?.ts ? `${this.cfg.channel}/${hit.ts}` : undefined;
  }

  async update(d: Delivery): Promise<DeliveryResult> {
    const target = this.target(d);
    if (!target) return this.send(d); // never posted (e.g. a route added later): post it now
    if (d.kind !== 'repeat' && d.kind !== 'note') await this.rewrite(target, d);
    await this.reply(target, d);
    return { ref: d.ref };
  }

  async resolve(d: Delivery): Promise<DeliveryResult> {
    const target = this.target(d);
    if (!target) return this.send(d);
    await this.rewrite(target, d);
    await this.reply(target, d);
    return { ref: d.ref };
  }

  private target(d: Delivery): { channel: string; ts: string } | null {
    if (!d.ref) return null;
    const [channel, ts] = d.ref.split('/');
    return channel && ts ? { channel, ts } : null;
  }

  private async rewrite(t: { channel: string; ts: string }, d: Delivery): Promise<void> {
    await this.call(() => this.client.chat.update({ channel: t.channel, ts: t.ts, text: `${title(d.incident)}: ${d.incident.summary}`, blocks: incidentBlocks(d.incident, d.link) }));
  }

  /**
   * A thread reply, tagged with its outbox key. When an earlier attempt may have gone through
   * (`uncertain`), the thread is read first and a reply with the same key is not posted again.
   */
  private async reply(t: { channel: string; ts: string }, d: Delivery): Promise<void> {
    if (d.uncertain && (await this.replied(t, d.key))) return;
    await this.call(() =>
      this.client.chat.postMessage({ channel: t.channel, thread_ts: t.ts, text: this.threadText(d), metadata: { event_type: REPLY_EVENT, event_payload: { incident_id: d.incident.id, key: d.key } } }),
    );
  }

  private async replied(t: { channel: string; ts: string }, key: string): Promise<boolean> {
    const res = await this.call(() => this.client.conversations.replies({ channel: t.channel, ts: t.ts, limit: 1000, include_all_metadata: true }));
    return (res.messages ?? []).some((m) => m.metadata?.event_type === REPLY_EVENT && (m.metadata.event_payload as Record<string, unknown> | undefined)?.key === key);
  }

  private threadText(d: Delivery): string {
    const i = d.incident;
    switch (d.kind) {
      case 'resolved':
        return `:white_check_mark: Resolved at ${iso(i.resolvedAt ?? i.updatedAt)}: ${i.summary}`;
      case 'repeat':
        return `:hourglass: Still ${i.state} since ${iso(i.openedAt)}: ${i.summary}`;
      case 'escalation':
        return `:rotating_light: Escalated: ${d.plan ?? i.summary}`;
      case 'note':
        return `:wrench: ${d.note ?? ''}`;
      default:
        return `:arrows_counterclockwise: ${d.note ?? `now ${i.state}, severity ${i.severity}`}`;
    }
  }

  /** Slack errors carry only the API error code ("invalid_auth") in what we keep; never the token. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; data?: { error?: string }; statusCode?: number; original?: Error; message?: string };
      const detail = e.data?.error ?? (e.statusCode ? `HTTP ${e.statusCode}` : undefined) ?? e.original?.message ?? e.message ?? String(err);
      throw new ChannelError(`slack: ${detail}`, slackReason(e));
    }
  }
}

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);
const NOT_FOUND_ERRORS = new Set(['channel_not_found', 'not_in_channel', 'message_not_found', 'thread_not_found', 'is_archived']);

function slackReason(e: { code?: string; data?: { error?: string }; statusCode?: number; original?: Error; message?: string }): FailureReason {
  const api = e.data?.error;
  if (api) return AUTH_ERRORS.has(api) ? 'auth' : api === 'missing_scope' ? 'forbidden' : NOT_FOUND_ERRORS.has(api) ? 'not_found' : api === 'ratelimited' ? 'rate_limited' : 'rejected';
  if (e.statusCode) return e.statusCode === 429 ? 'rate_limited' : e.statusCode >= 500 ? 'unavailable' : 'rejected';
  if (RATE_LIMITED.test(e.message ?? '')) return 'rate_limited';
  const cause = `${e.original?.message ?? ''} ${e.message ?? ''}`;
  return /timeout|timed out/i.test(cause) ? 'timeout' : /certificate|self.signed|SSL|TLS/i.test(cause) ? 'tls' : e.code === 'slack_webapi_request_error' ? 'network' : 'error';
}
