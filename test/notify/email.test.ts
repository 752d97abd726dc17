// Email through nodemailer against real SMTP servers on loopback (smtp-server), each received
// message parsed with mailparser: a plain relay (requireTls off), and STARTTLS servers with
// certificates from a CA made in the test. The channel configured with that CA verifies and
// delivers over TLS (the server side sees a TLS session and the AUTH inside it); without the CA,
// with a certificate for another host, or against a server that does not offer STARTTLS, nothing
// is sent and the incident's history names the cause. A failing channel is retried with backoff
// until delivered; failures show in /metrics by cause; the password is never logged.
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { CertificateAuthority } from '../../bootstrap/pki/ca.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { eventually, metricValue, startStack, type Stack } from './helpers.ts';

const USER = 'whistle@example.test';
const PASSWORD = 'smtp-pa55word-never-in-logs';
const MIN = 60_000;

/** What a server received, with the session it came in (TLS or not, and the cipher). */
interface Received {
  mail: ParsedMail;
  secure: boolean;
  tls: { version?: string } | false;
  user?: string;
}

describe('email channel', () => {
  const tmp = tempDir('email');
  const { log, lines } = capturedLogger();
  const c = clock();
  const plain: Received[] = [];
  const overTls: Received[] = [];
  let rejectNext = 0;
  let authFailures = 0;
  let store: ChdbStore;
  let stack: Stack;
  const servers: SMTPServer[] = [];
  /** What the plain relay received. */
  const received: ParsedMail[] = [];

  /** A submission server; with a certificate it offers STARTTLS and takes AUTH only inside TLS. */
  async function smtpServer(into: Received[], tls?: { key: string; cert: string }): Promise<number> {
    const server = new SMTPServer({
      secure: false,
      ...(tls ? { key: tls.key, cert: tls.cert } : { disabledCommands: ['STARTTLS'], allowInsecureAuth: true }),
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === USER && auth.password === PASSWORD) return cb(null, { user: USER });
        authFailures++;
        cb(new Error('Invalid username or password'));
      },
      onData(stream, session: SMTPServerSession, cb) {
        if (rejectNext > 0 && !tls) {
          rejectNext--;
          stream.resume();
          stream.on('end', () => cb(Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream)
          .then((mail) => {
            into.push({ mail, secure: session.secure, tls: session.tlsOptions as { version?: string } | false, user: session.user });
            if (into === plain) received.push(mail);
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    // A private CA, a server certificate for the address the channel dials, and one for another host.
    const ca = await CertificateAuthority.ensure(join(tmp.dir, 'mail-ca'), 'Whistle test mail CA');
    const caFile = join(tmp.dir, 'mail-ca', 'ca.crt');
    const good = await ca.issueWithKey({ commonName: '127.0.0.1', role: 'server', ips: ['127.0.0.1'] });
    const elsewhere = await ca.issueWithKey({ commonName: 'mail.elsewhere.test', role: 'server', dnsNames: ['mail.elsewhere.test'] });
    const plainPort = await smtpServer(plain);
    const tlsPort = await smtpServer(overTls, { key: good.keyPem, cert: good.certPem });
    const elsewherePort = await smtpServer([], { key: elsewhere.keyPem, cert: elsewhere.certPem });
    const mail = { host: '127.0.0.1', user: USER, password: PASSWORD, from: 'Whistle <whistle@example.test>', to: ['oncall@example.test'] };
    store = await openStore(tmp.dir);
    stack = await startStack({
      store,
      log,
      now: c.now,
      notifications: {
        groupWaitMs: 0,
        tickMs: 50,
        retry: { initialMs: 20, maxMs: 100 },
        channels: [
          // A relay on a trusted network that cannot do TLS: requireTls turned off.
          { type: 'email', id: 'oncall-mail', ...mail, port: plainPort, requireTls: false },
          { type: 'email', id: 'mail-tls', ...mail, port: tlsPort, caFile },
          { type: 'email', id: 'mail-no-ca', ...mail, port: tlsPort },
          { type: 'email', id: 'mail-wrong-host', ...mail, port: elsewherePort, caFile },
          { type: 'email', id: 'mail-no-starttls', ...mail, port: plainPort },
        ],
        routes: [
          { match: { severity: ['critical'], cluster: ['prod-1'] }, channels: ['oncall-mail'] },
          ...['mail-tls', 'mail-no-ca', 'mail-wrong-host', 'mail-no-starttls'].map((id) => ({ match: { cluster: [id] }, channels: [id] })),
        ],
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
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
    expect(mail.text).toContain(`https://whistle.example.test/console/incidents/${id}`);
    expect(mail.html || '').toContain(`href="https://whistle.example.test/console/incidents/${id}"`);
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

  it('delivers over STARTTLS to a server whose certificate verifies against caFile; AUTH inside TLS', async () => {
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ cluster: 'mail-tls', subject: 'node-tls', severity: 'critical' }, t)], 'low-disk', 'mail-tls'));
    await eventually(() => overTls.length === 1, 'email over TLS');
    const got = overTls[0]!;
    expect(got.mail.subject).toBe('[Whistle] [CRITICAL] mail-tls: low-disk on node-tls: disk on node-tls is 87% full');
    // The server side saw a session upgraded with STARTTLS and the login inside it.
    expect(got.secure).toBe(true);
    expect(got.tls && got.tls.version).toMatch(/^TLSv1\.[23]$/);
    expect(got.user).toBe(USER);
    const id = stack.manager.current().find((i) => i.cluster === 'mail-tls')!.id;
    await eventually(async () => (await stack.manager.show(id)).history.some((h) => h.kind === 'notification'), 'delivery in history');
    expect((await stack.manager.show(id)).history.some((h) => h.kind === 'notification_failed')).toBe(false);
  });

  const refused: { cluster: string; cause: RegExp }[] = [
    { cluster: 'mail-no-ca', cause: /certificate did not verify: .*(self.signed|unable to (get|verify)|issuer).*set caFile to the CA that signed it/ },
    { cluster: 'mail-wrong-host', cause: /certificate is not for 127\.0\.0\.1: .*(altnames|does not match)/ },
    { cluster: 'mail-no-starttls', cause: /STARTTLS refused and requireTls is set/ },
  ];

  it.each(refused)('refuses to send without verified TLS ($cluster), naming the cause in the history', async ({ cluster, cause }) => {
    const tlsBefore = overTls.length;
    const plainBefore = plain.length;
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ cluster, subject: `node-${cluster}`, severity: 'critical' }, t)], 'low-disk', cluster));
    const id = stack.manager.current().find((i) => i.cluster === cluster)!.id;
    await eventually(async () => (await stack.manager.show(id)).history.some((h) => h.kind === 'notification_failed'), 'failure in history');
    const failed = (await stack.manager.show(id)).history.find((h) => h.kind === 'notification_failed')!;
    expect(failed.reason).toMatch(new RegExp(`opened notification to ${cluster} failed \\(attempt 1, tls\\): smtp 127\\.0\\.0\\.1:\\d+: `));
    expect(failed.reason).toMatch(cause);
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: cluster, reason: 'tls' })).toBeGreaterThanOrEqual(1);
    // Nothing of this incident reached any server (other incidents' reminders may have).
    expect([...overTls.slice(tlsBefore), ...plain.slice(plainBefore)].filter((r) => r.mail.subject?.includes(cluster))).toEqual([]);
  });

  it('never logs the SMTP password', () => {
    expect(lines.join('\n')).toContain('notification delivery failed');
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });
});
