// Answers to a pressed button go to the interaction's response_url, after the acknowledgement
// (Slack wants that within 3 s; what the message should now say may take longer). Slack takes up
// to five posts to one response_url within 30 minutes and answers {"ok": true}; an outage (5xx, a
// network error) is retried with backoff a few times, a refusal (expired_url, 4xx) is not.
import type { Logger } from 'pino';
import type { Component } from '../../core/component.ts';
import { retry } from '../../core/backoff.ts';
import type { SlackBlocks } from '../notify/channels/slack-blocks.ts';

export type ResponseBody =
  | { replace_original: true; text: string; blocks: SlackBlocks }
  | { response_type: 'ephemeral'; replace_original: false; text: string };

class Refused extends Error {}

export class ResponseUrlPoster implements Component {
  readonly name = 'slack-response-url';
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs = 10_000,
  ) {}

  async start(): Promise<void> {}

  /** Posts in the background; failures are logged, never thrown (the action itself is done). */
  post(url: string, body: ResponseBody, context: Record<string, unknown>): void {
    const run = retry(() => this.once(url, body), {
      initialMs: 500,
      maxMs: 5_000,
      maxAttempts: 4,
      signal: this.abort.signal,
      onError: (err, attempt) => {
        if (err instanceof Refused) throw err;
        this.log.warn({ ...context, attempt, err: (err as Error).message }, 'posting to the Slack response_url failed; retrying');
      },
    })
      .catch((err: Error) => this.log.error({ ...context, err: err.message }, 'the Slack message could not be updated through response_url'))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async once(url: string, body: ResponseBody): Promise<void> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
    });
    const text = await res.text();
    // Slack answers {"ok":true} (older workspaces: the plain text "ok").
    let ok = res.ok;
    let error = `HTTP ${res.status}`;
    try {
      const json = JSON.parse(text) as { ok?: boolean; error?: string };
      if (json.ok === false) [ok, error] = [false, json.error ?? error];
    } catch {
      /* plain text */
    }
    if (ok) return;
    if (res.status >= 500) throw new Error(`response_url: ${error}`);
    throw new Refused(`response_url refused: ${error}`);
  }

  async stop(): Promise<void> {
    // Give posts under way a moment to land, then cut them off.
    const settled = Promise.allSettled([...this.inFlight]);
    const timer = setTimeout(() => this.abort.abort(), 2_000);
    await settled;
    clearTimeout(timer);
  }
}
