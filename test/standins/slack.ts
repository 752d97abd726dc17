// A local stand-in for the Slack Web API methods Whistle uses (chat.postMessage, chat.update,
// conversations.history, conversations.replies): same request shapes (form-encoded or JSON body,
// bearer token), same response shapes (`ok`, `ts`, `channel`, `error`), 429 with Retry-After on
// demand. It records every call it receives, and whether it has answered it yet: `holdAnswers`
// has chosen calls carried out at once but answered only when released, as a slow Slack does, so
// a client that dies in between has been heard without hearing back.
//
// Interactivity, as Slack does it: `press` is a person pressing a button of a posted message. The
// stand-in sends the app's Request URL what Slack sends (a form field `payload` holding the
// block_actions JSON, signed with the app's signing secret: X-Slack-Signature `v0=` HMAC-SHA256 of
// `v0:<timestamp>:<body>`, X-Slack-Request-Timestamp), and serves the interaction's response_url
// (five posts within 30 minutes; replace_original rewrites the message, otherwise an ephemeral
// line for the presser; answered {"ok":true}).
import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

export interface SlackCall {
  method: string;
  token: string | null;
  body: Record<string, unknown>;
  status: number;
  /** The answer has been sent (false while it is held back, see `holdAnswers`). */
  answered: boolean;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  edits: number;
}

/** A post an app made to a response_url. */
export interface SlackResponse {
  messageTs: string;
  user: string;
  body: Record<string, unknown>;
  status: number;
}

export interface PressOptions {
  /** The message's ts and the button's action_id. */
  ts: string;
  actionId: string;
  /** Who pressed it (a Slack user ID). */
  user: string;
  /** Sign with another secret (a forged request). */
  signingSecret?: string;
  /** The request's Unix time in seconds (default now; an old one is a replay). */
  timestamp?: number;
}

export class SlackStandin {
  /** The app's Interactivity Request URL and signing secret, as set on the app's config page. */
  interactivity: { requestUrl: string; signingSecret: string } | null = null;
  readonly responses: SlackResponse[] = [];
  /** Lines only the presser sees (response_url posts without replace_original). */
  readonly ephemerals: { user: string; text: string }[] = [];
  private readonly responseUrls = new Map<string, { messageTs: string; user: string; uses: number; expiresAt: number }>();
  private base = '';
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, SlackMessage>();
  private app: FastifyInstance | null = null;
  private seq = 0;
  private rateLimits: { remaining: number; retryAfter: number } = { remaining: 0, retryAfter: 1 };
  private failures: { remaining: number; status: number } = { remaining: 0, status: 500 };
  private drops = 0;
  private dropWhen: (method: string, body: Record<string, unknown>) => boolean = () => true;
  private holdWhen: ((call: SlackCall) => boolean) | null = null;
  private readonly held: (() => void)[] = [];
  url = '';

  /** Change it to make the client's token invalid (a revoked token). */
  constructor(public validToken: string) {}

  /** The next `n` calls answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(n: number, retryAfterSeconds = 1): void {
    this.rateLimits = { remaining: n, retryAfter: retryAfterSeconds };
  }

  /** The next `n` calls answer with this HTTP status (a Slack outage). */
  failNext(n: number, status = 503): void {
    this.failures = { remaining: n, status };
  }

  /**
   * The next `n` calls (of those `when` picks) are carried out but their connection is cut before
   * the answer (a lost response).
   */
  dropResponseNext(n: number, when: (method: string, body: Record<string, unknown>) => boolean = () => true): void {
    this.drops = n;
    this.dropWhen = when;
  }

  /** Calls `when` picks are carried out as usual, but their answers wait for `releaseAnswers`. */
  holdAnswers(when: (call: SlackCall) => boolean): void {
    this.holdWhen = when;
  }

  /** Sends every held answer (to a client that may be gone) and stops holding. */
  releaseAnswers(): void {
    this.holdWhen = null;
    for (const release of this.held.splice(0)) release();
  }

  /** Top-level messages (not thread replies), oldest first. */
  topLevel(): SlackMessage[] {
    return [...this.messages.values()].filter((m) => !m.thread_ts);
  }

  replies(ts: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.thread_ts === ts);
  }

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    app.post<{ Params: { method: string }; Body: Record<string, unknown> | undefined }>('/api/:method', async (req, reply) => {
      const body = { ...(req.body ?? {}) };
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7) : typeof body.token === 'string' ? body.token : null;
      delete body.token;
      // Form-encoded calls carry structured fields as JSON strings.
      for (const k of ['blocks', 'attachments', 'metadata']) if (typeof body[k] === 'string') body[k] = JSON.parse(body[k] as string) as unknown;
      const call: SlackCall = { method: req.params.method, token, body, status: 200, answered: false };
      this.calls.push(call);
      reply.raw.once('finish', () => (call.answered = true));
      if (this.rateLimits.remaining > 0) {
        this.rateLimits.remaining--;
        call.status = 429;
        return reply.code(429).header('retry-after', String(this.rateLimits.retryAfter)).send({ ok: false, error: 'ratelimited' });
      }
      if (this.failures.remaining > 0) {
        this.failures.remaining--;
        call.status = this.failures.status;
        return reply.code(this.failures.status).send('upstream unavailable');
      }
      const result = this.handle(req.params.method, token, body);
      if (this.holdWhen?.(call)) await new Promise<void>((release) => this.held.push(release));
      if (this.drops > 0 && this.dropWhen(req.params.method, body)) {
        this.drops--;
        call.status = 0;
        reply.hijack();
        req.raw.socket.destroy();
        return;
      }
      return result;
    });
    app.post<{ Params: { token: string }; Body: Record<string, unknown> | undefined }>('/actions/T0STANDIN/:n/:token', async (req, reply) => {
      const entry = this.responseUrls.get(req.params.token);
      const body = req.body ?? {};
      const answer = (status: number, json: Record<string, unknown>) => {
        this.responses.push({ messageTs: entry?.messageTs ?? '', user: entry?.user ?? '', body, status });
        return reply.code(status).send(json);
      };
      if (!entry) return answer(404, { ok: false, error: 'invalid_url' });
      if (Date.now() > entry.expiresAt) return answer(404, { ok: false, error: 'expired_url' });
      if (++entry.uses > 5) return answer(404, { ok: false, error: 'used_url' });
      const msg = this.messages.get(entry.messageTs);
      if (body.delete_original === true) {
        this.messages.delete(entry.messageTs);
      } else if (body.replace_original === true) {
        if (!msg) return answer(404, { ok: false, error: 'message_not_found' });
        msg.text = String(body.text ?? msg.text);
        if (Array.isArray(body.blocks)) msg.blocks = body.blocks as unknown[];
        msg.edits++;
      } else {
        if (!body.text && !body.blocks) return answer(400, { ok: false, error: 'no_text' });
        this.ephemerals.push({ user: entry.user, text: String(body.text ?? '') });
      }
      return answer(200, { ok: true });
    });
    this.app = app;
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    this.base = address;
    this.url = `${address}/api/`;
    return this.url;
  }

  /**
   * A person presses a button of a posted message: Slack sends the block_actions payload to the
   * app's Request URL, signed. Returns the app's answer. Throws when the message has no such
   * button (a person cannot press one that is not there).
   */
  async press(o: PressOptions): Promise<{ status: number; body: string }> {
    const msg = this.messages.get(o.ts);
    if (!msg) throw new Error(`no message ${o.ts}`);
    const found = findButton(msg.blocks, o.actionId);
    if (!found) throw new Error(`message ${o.ts} has no button ${o.actionId}`);
    const now = Date.now();
    const token = randomBytes(12).toString('hex');
    const n = String(this.responseUrls.size + 1);
    this.responseUrls.set(token, { messageTs: msg.ts, user: o.user, uses: 0, expiresAt: now + 30 * 60_000 });
    const actionTs = (now / 1000).toFixed(6);
    const payload = {
      type: 'block_actions',
      user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: 'T0STANDIN' },
      api_app_id: 'A0STANDIN',
      token: 'verification-token-deprecated',
      container: { type: 'message', message_ts: msg.ts, channel_id: msg.channel, is_ephemeral: false },
      trigger_id: `${Math.floor(now / 1000)}.${n}.${token.slice(0, 8)}`,
      team: { id: 'T0STANDIN', domain: 'standin' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: msg.channel, name: 'ops' },
      message: { type: 'message', subtype: 'bot_message', text: msg.text, ts: msg.ts, bot_id: 'B0STANDIN', blocks: msg.blocks },
      state: { values: {} },
      response_url: `${this.base}/actions/T0STANDIN/${n}/${token}`,
      actions: [{ ...found.button, block_id: found.blockId, action_ts: actionTs }],
    };
    return this.sendInteraction(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), o);
  }

  /** Sends a raw body to the Request URL, signed as Slack signs (for payloads a test makes up). */
  async sendInteraction(rawBody: string, o: { signingSecret?: string; timestamp?: number; contentType?: string } = {}): Promise<{ status: number; body: string }> {
    if (!this.interactivity) throw new Error('interactivity is not configured on the stand-in');
    const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const secret = o.signingSecret ?? this.interactivity.signingSecret;
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
    const res = await fetch(this.interactivity.requestUrl, {
      method: 'POST',
      headers: { 'content-type': o.contentType ?? 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
      body: rawBody,
    });
    return { status: res.status, body: await res.text() };
  }

  private handle(method: string, token: string | null, body: Record<string, unknown>): Record<string, unknown> {
    {
      if (token !== this.validToken) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
      const channel = String(body.channel ?? '');
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const channelId = channel.startsWith('C') ? channel : 'C0STANDIN';
      switch (method) {
        case 'chat.postMessage': {
          if (!body.text && !body.blocks) return { ok: false, error: 'no_text' };
          const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
          const msg: SlackMessage = { channel: channelId, ts, text: String(body.text ?? ''), blocks: (body.blocks as unknown[]) ?? [], edits: 0 };
          if (body.metadata) msg.metadata = body.metadata as SlackMessage['metadata'];
          if (body.thread_ts) {
            if (!this.messages.has(String(body.thread_ts))) return { ok: false, error: 'thread_not_found' };
            msg.thread_ts = String(body.thread_ts);
          }
          this.messages.set(ts, msg);
          return { ok: true, channel: channelId, ts, message: { type: 'message', text: msg.text, ts, ...(msg.thread_ts ? { thread_ts: msg.thread_ts } : {}) } };
        }
        case 'chat.update': {
          const msg = this.messages.get(String(body.ts ?? ''));
          if (!msg || msg.channel !== channelId) return { ok: false, error: 'message_not_found' };
          msg.text = String(body.text ?? msg.text);
          if (body.blocks) msg.blocks = body.blocks as unknown[];
          msg.edits++;
          return { ok: true, channel: channelId, ts: msg.ts, text: msg.text };
        }
        case 'conversations.history': {
          // Newest first, top-level messages only, metadata only when asked for.
          const oldest = Number(body.oldest ?? 0);
          const withMeta = String(body.include_all_metadata) === 'true';
          const messages = [...this.messages.values()]
            .filter((m) => m.channel === channelId && !m.thread_ts && Number(m.ts) >= oldest)
            .reverse()
            .slice(0, Number(body.limit ?? 100))
            // A parent with replies carries thread_ts (its own ts) and reply_count, as on Slack.
            .map((m) => {
              const replies = this.replies(m.ts).length;
              return { type: 'message', ts: m.ts, text: m.text, ...(replies ? { thread_ts: m.ts, reply_count: replies } : {}), ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) };
            });
          return { ok: true, messages, has_more: false };
        }
        case 'conversations.replies': {
          // The parent first, then its replies oldest first; metadata only when asked for.
          const parent = this.messages.get(String(body.ts ?? ''));
          if (!parent || parent.channel !== channelId) return { ok: false, error: 'thread_not_found' };
          const withMeta = String(body.include_all_metadata) === 'true';
          const messages = [parent, ...this.replies(parent.ts)]
            .slice(0, Number(body.limit ?? 1000))
            .map((m) => ({ type: 'message', ts: m.ts, text: m.text, thread_ts: m.thread_ts ?? m.ts, ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) }));
          return { ok: true, messages, has_more: false };
        }
        default:
          return { ok: false, error: 'unknown_method' };
      }
    }
  }

  async stop(): Promise<void> {
    this.releaseAnswers();
    await this.app?.close();
    this.app = null;
  }
}

/** The button with this action_id in a message's actions blocks, as Slack reports it pressed. */
function findButton(blocks: unknown[], actionId: string): { blockId: string; button: Record<string, unknown> } | null {
  for (const b of blocks as { type?: string; block_id?: string; elements?: Record<string, unknown>[] }[]) {
    if (b.type !== 'actions') continue;
    const e = b.elements?.find((x) => x.action_id === actionId);
    if (e) {
      const button: Record<string, unknown> = { action_id: e.action_id, text: e.text, type: 'button' };
      for (const k of ['value', 'style', 'url']) if (e[k] !== undefined) button[k] = e[k];
      return { blockId: b.block_id ?? 'standin', button };
    }
  }
  return null;
}
