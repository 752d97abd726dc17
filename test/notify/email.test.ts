// Email through nodemailer against a real SMTP server on loopback (smtp-server), each received
// message parsed with mailparser. Also: a failing channel is retried with backoff until delivered,
// and the failures show in /metrics and in the incident's history; the password is never logged.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { eventually, metricValue, startStack, type Stack } from './helpers.ts';

const USER = 'whistle@example.test';
const PASSWORD = 'smtp-pa55word-never-in-logs';
const MIN = 60_000;

describe('email channel', () => {
  const tmp = tempDir('email');
  const { log, lines } = capturedLogger();
  const c = clock();
  const received: ParsedMail[] = [];
  let rejectNext = 0;
  let authFailures = 0;
  let store: ChdbStore;
  let stack: Stack;
  let smtp: SMTPServer;

  beforeAll(async () => {
    smtp = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === USER && auth.password === PASSWORD) return cb(null, { user: USER });
        authFailures++;
        cb(new Error('Invalid username or password'));
      },
      onData(stream, _session, cb) {
        if (rejectNext > 0) {
          rejectNext--;
          stream.resume();
          stream.on('end', () => cb(Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream)
          .then((mail) => {
            received.push(mail);
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    store = await openStore(tmp.dir);
    stack = await startStack({
      store,
      log,
      now: c.now,
      notifications: {
        groupWaitMs: 0,
        tickMs: 50,
        retry: { initialMs: 20, maxMs: 100 },
        channels: [{ type: 'email', id: 'oncall-mail', host: '127.0.0.1', port, user: USER, password: PASSWORD, from: 'Whistle <whistle@example.test>', to: ['oncall@example.test'] }],
        routes: [{ match: { severity: ['critical'] }, channels: ['oncall-mail'] }],
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    tmp.cleanup();
  });

  it('sends a parsable email with subject, summary, evidence and link; the resolve replies in the same thread', async () => {
    const t = c.now();
    const f = finding({ subject: 'node-mail', severity: 'critical', summary: 'disk on node-mail is 97% full', evidence: { usedPercent: 97, mount: '/var', hoursToFull: 1.5 } }, t);
    await stack.manager.report(report(t, [f, finding({ subject: 'node-warn' }, t)]));
    await eventually(() => received.length === 1, 'first email');
    const mail = received[0]!;
    expect(mail.subject).toBe('[Whistle] [CRITICAL] prod-1: low-disk on node-mail: disk on node-mail is 97% full');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('oncall@example.test');
    expect(mail.text).toContain('disk on node-mail is 97% full');
    expect(mail.text).toContain('usedPercent: 97');
    expect(mail.text).toContain('hoursToFull: 1.5');
    const id = stack.manager.current().find((i) => i.subject === 'node-mail')!.id;
    expect(mail.text).toContain(`https://whistle.example.test/v1/incidents/${id}`);
    expect(mail.html || '').toContain(`href="https://whistle.example.test/v1/incidents/${id}"`);
    expect(mail.messageId).toBe(`<${id}@example.test>`);
    expect(mail.headers.get('x-whistle-incident')).toBe(id);
    expect(authFailures).toBe(0);

    c.set(t + 10 * MIN);
    await stack.manager.report(report(t + 10 * MIN, []));
    await eventually(() => received.length === 2, 'resolve email');
    const resolved = received[1]!;
    expect(resolved.subject).toMatch(/^\[Whistle\] \[RESOLVED\] prod-1: low-disk on node-mail/);
    expect(resolved.inReplyTo).toBe(`<${id}@example.test>`);
    // The warning was routed nowhere (no default channel): no mail for it.
    expect(received.every((m) => !m.subject?.includes('node-warn'))).toBe(true);
  });

  it('retries a failing channel with backoff until delivered; failures in metrics and history', async () => {
    rejectNext = 3;
    const before = received.length;
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-retry', severity: 'critical' }, t)]));
    await eventually(() => received.length === before + 1, 'email after retries');
    expect(received.at(-1)!.subject).toContain('node-retry');
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: 'oncall-mail' })).toBe(3);
    const id = stack.manager.current().find((i) => i.subject === 'node-retry')!.id;
    await eventually(async () => (await stack.manager.show(id)).history.some((h) => h.kind === 'notification'), 'delivery in history');
    const shown = await stack.manager.show(id);
    const failed = shown.history.filter((h) => h.kind === 'notification_failed');
    expect(failed).toHaveLength(1); // the first failure; then every tenth
    expect(failed[0]!.reason).toMatch(/attempt 1.*451/);
    const delivered = shown.history.filter((h) => h.kind === 'notification');
    expect(delivered.map((h) => h.reason)).toEqual(['opened notification delivered to oncall-mail after 4 attempts']);
    const log = await stack.notifier.outbox.deliveries(id);
    expect(log.map((d) => d.status)).toEqual(['failed', 'failed', 'failed', 'delivered']);
    expect(log.at(-1)!.attempt).toBe(4);
    expect(received.filter((m) => m.subject?.includes('node-retry'))).toHaveLength(1);
  });

  it('never logs the SMTP password', () => {
    expect(lines.join('\n')).toContain('notification delivery failed');
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });
});
