// Mid-notification crash: a real `whistle start` process (test/harness/whistle-process.ts) with the
// Slack stand-in and a real SMTP server, incidents opened through the real API (an agent's
// telemetry: three filesystems 90% full, then 97%), killed with SIGKILL while deliveries are in
// flight, started again on the same data directory. Twice: while the incidents' first messages are
// being delivered, and while their updates are. At each kill one Slack call and one email have been
// carried out by the service but not answered (the stand-ins hold those answers), so the process
// dies not knowing whether they went through.
//
// Afterwards, per incident: one Slack message, one thread reply for the update, and on the SMTP
// server exactly the two distinct emails (opened, updated): nothing lost, nothing posted twice.
// SMTP cannot be asked whether it accepted a message, so the email whose answer was lost is sent
// again, with the same Message-ID (mail systems show one); the test checks that this is the only
// repeat and that it is identical (remediators/notify/README.md, "Crashes").
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhistleProcess } from '../harness/whistle-process.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { SlackStandin, type SlackCall } from '../standins/slack.ts';

const JOIN = 'crash-notify-join-token-0123456789';
const OPERATOR = 'crash-notify-operator-token-0123456789';
const SLACK_TOKEN = 'xoxb-crash-notify-secret';
const MOUNTS = ['/var/lib/containerd', '/var/log', '/srv'];
const GiB = 1024 ** 3;

interface Mail {
  messageId: string;
  incident: string;
  kind: string;
  subject: string;
  text: string;
  answered: boolean;
}

/** A submission server that records every message and can hold back its answer to chosen ones. */
class Mailbox {
  readonly mails: Mail[] = [];
  private holdWhen: ((m: Mail) => boolean) | null = null;
  private readonly held: (() => void)[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  hold(when: (m: Mail) => boolean): void {
    this.holdWhen = when;
  }

  release(): void {
    this.holdWhen = null;
    for (const r of this.held.splice(0)) r();
  }

  async start(): Promise<void> {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _session, cb) => {
        simpleParser(stream)
          .then((parsed) => {
            const mail: Mail = {
              messageId: parsed.messageId ?? '',
              incident: String(parsed.headers.get('x-whistle-incident') ?? ''),
              kind: String(parsed.headers.get('x-whistle-kind') ?? ''),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              answered: false,
            };
            this.mails.push(mail);
            const answer = () => {
              mail.answered = true;
              cb();
            };
            if (this.holdWhen?.(mail)) this.held.push(answer);
            else answer();
          })
          .catch((err: Error) => cb(err));
      },
    });
    // A client that was killed mid-session leaves a reset socket behind; that is expected here.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('SIGKILL while notifications are being delivered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-crash-notify-'));
  const slack = new SlackStandin(SLACK_TOKEN);
  const mailbox = new Mailbox();
  let whistle: WhistleProcess;
  let nodeToken = '';
  let usedPercent = 90;
  let agent: NodeJS.Timeout | null = null;

  async function api<T>(method: string, path: string, body?: unknown, token = OPERATOR): Promise<T> {
    const res = await fetch(`${whistle.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** What the node's agent reports: its three filesystems at the current level. */
  function telemetry() {
    const ts = Date.now();
    return {
      cluster: 'c1',
      node: 'n1',
      samples: MOUNTS.flatMap((mount, i) => {
        const labels = { mount, fstype: 'ext4', device: `/dev/sda${i + 1}`, readonly: 'false' };
        return [
          { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels },
          { name: 'node_filesystem_used_bytes', value: usedPercent * GiB, ts, labels },
        ];
      }),
    };
  }

  /** Reports every second, like an agent; a report while Whistle is down is simply lost. */
  function startAgent(): void {
    const send = () =>
      fetch(`${whistle.url}/v1/telemetry`, {
        method: 'POST',
        headers: { authorization: `Bearer ${nodeToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(telemetry()),
        signal: AbortSignal.timeout(5_000),
      }).catch(() => undefined);
    void send();
    agent = setInterval(() => void send(), 1_000);
  }

  async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${what}; whistle logs in ${dir}:\n${lastLog()}`);
  }

  function lastLog(): string {
    const logs = readdirSync(dir).filter((f) => /^whistle-\d+\.log$/.test(f)).sort();
    return logs.length ? readFileSync(join(dir, logs.at(-1)!), 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
  }

  type Delivery = { channel: string; kind: string; status: string; key: string };
  async function deliveries(id: string): Promise<Delivery[]> {
    return (await api<{ notifications: Delivery[] }>('GET', `/v1/incidents/${encodeURIComponent(id)}`)).notifications;
  }

  /** Every incident has had `kind` delivered to both channels. */
  async function delivered(ids: string[], kind: string): Promise<boolean> {
    for (const id of ids) {
      const d = await deliveries(id).catch(() => []);
      for (const channel of ['ops', 'oncall']) if (!d.some((x) => x.channel === channel && x.kind === kind && x.status === 'delivered')) return false;
    }
    return true;
  }

  /** Kills Whistle once the chosen Slack call and email have been received but not answered. */
  async function killWhenHeld(slackHeld: (c: SlackCall) => boolean, mailHeld: (m: Mail) => boolean): Promise<string[]> {
    await until('a Slack call and an email heard but unanswered', () => slack.calls.some((c) => slackHeld(c) && !c.answered) && mailbox.mails.some((m) => mailHeld(m) && !m.answered));
    await whistle.kill();
    const lost = mailbox.mails.filter((m) => !m.answered).map((m) => m.messageId);
    slack.releaseAnswers();
    mailbox.release();
    return lost;
  }

  /** The nth call `pick` matches. */
  const nth = <T,>(n: number, pick: (x: T) => boolean) => {
    let seen = 0;
    return (x: T) => pick(x) && ++seen === n;
  };
  const topLevelPost = (c: SlackCall) => c.method === 'chat.postMessage' && !c.body.thread_ts;
  const threadReply = (c: SlackCall) => c.method === 'chat.postMessage' && !!c.body.thread_ts;

  beforeAll(async () => {
    await slack.start();
    await mailbox.start();
    whistle = new WhistleProcess({
      dir,
      config: {
        server: { operatorTokens: [{ name: 'crash-test', token: OPERATOR }] },
        clusters: [{ name: 'c1', joinToken: JOIN }],
        agent: { enabled: false },
        writer: { flushIntervalMs: 100 },
        // low-disk only, on a short tick; the others have nothing to read here.
        detectors: onlyDetectors({ lowDisk: {} }, { tickMs: 200 }),
        // Notifications only: the disk-cleanup remediator would add its own thread replies
        // (what it tried, its escalation) to these incidents, which this test does not count.
        remediation: { diskCleanup: { enabled: false } },
        notifications: {
          groupWaitMs: 0,
          tickMs: 200,
          retry: { initialMs: 200, maxMs: 1_000 },
          channels: [
            { type: 'slack', id: 'ops', token: SLACK_TOKEN, channel: 'C0OPS', slackApiUrl: slack.url, sdkRetries: 0 },
            { type: 'email', id: 'oncall', host: '127.0.0.1', port: mailbox.port, requireTls: false, from: 'Whistle <whistle@example.test>', to: ['oncall@example.test'] },
          ],
          defaultChannels: ['ops', 'oncall'],
        },
      },
    });
    await whistle.start();
    const reg = await fetch(`${whistle.url}/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cluster: 'c1', node: 'n1', joinToken: JOIN }) });
    nodeToken = ((await reg.json()) as { token: string }).token;
    await api('POST', '/v1/nodes/c1/n1/authorize');
  });

  afterAll(async () => {
    if (agent) clearInterval(agent);
    await whistle?.kill();
    await slack.stop();
    await mailbox.stop();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('delivers every message exactly once across two kills: one Slack message and one reply per incident, each email once (the one in flight repeated identically)', { timeout: 300_000 }, async () => {
    // Kill 1: the second incident's Slack message and its email reached the services, unanswered.
    slack.holdAnswers(nth(2, topLevelPost));
    mailbox.hold(nth(2, (m: Mail) => m.kind === 'opened'));
    startAgent();
    const lost1 = await killWhenHeld(topLevelPost, (m) => m.kind === 'opened');
    await whistle.start();
    const ids = await until('three incidents', async () => {
      const { incidents } = await api<{ incidents: { id: string }[] }>('GET', '/v1/incidents?active=true');
      return incidents.length === MOUNTS.length ? incidents.map((i) => i.id) : null;
    });
    await until('every incident announced on both channels', () => delivered(ids, 'opened'));

    // Kill 2: the disks get worse; the second update's thread reply and its email are in flight.
    slack.holdAnswers(nth(2, threadReply));
    mailbox.hold(nth(2, (m: Mail) => m.kind === 'updated'));
    usedPercent = 97;
    const lost2 = await killWhenHeld(threadReply, (m) => m.kind === 'updated');
    await whistle.start();
    await until('every update delivered on both channels', () => delivered(ids, 'updated'));
    await until('nothing pending', async () => {
      const metrics = await (await fetch(`${whistle.url}/metrics`)).text();
      return /whistle_notify_pending\{channel="ops"\} 0/.test(metrics) && /whistle_notify_pending\{channel="oncall"\} 0/.test(metrics);
    });
    await new Promise((r) => setTimeout(r, 1_500)); // a few notifier ticks: anything sent late would show

    for (const id of ids) {
      // Slack: one message for the incident, one reply in its thread (the update).
      const messages = slack.topLevel().filter((m) => m.metadata?.event_payload.incident_id === id);
      expect(messages, `Slack messages of ${id}`).toHaveLength(1);
      const replies = slack.replies(messages[0]!.ts);
      expect(replies.map((r) => r.metadata?.event_payload.key), `thread replies of ${id}`).toEqual([expect.stringMatching(new RegExp(`^${id}\\|ops\\|updated\\|`))]);
      expect(messages[0]!.edits, `message of ${id} updated in place`).toBeGreaterThanOrEqual(1);

      // Email: the opened and the updated message, each under one Message-ID.
      const mails = mailbox.mails.filter((m) => m.incident === id);
      const byId = new Map<string, Mail[]>();
      for (const m of mails) byId.set(m.messageId, [...(byId.get(m.messageId) ?? []), m]);
      expect([...byId.values()].map((copies) => copies[0]!.kind).sort(), `distinct emails of ${id}`).toEqual(['opened', 'updated']);
      expect(byId.has(`<${id}@example.test>`)).toBe(true);
      for (const [messageId, copies] of byId) {
        // Sent again only if its answer was lost in a kill; then the very same message.
        expect(copies.length, `copies of ${messageId}`).toBe([...lost1, ...lost2].includes(messageId) ? 2 : 1);
        expect(new Set(copies.map((c) => `${c.subject}\n${c.text}`)).size).toBe(1);
      }
    }
    // Both kills did land with a delivery in flight on each channel.
    expect([lost1.length, lost2.length]).toEqual([1, 1]);
  });
});
