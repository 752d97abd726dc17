// Email through nodemailer (SMTP submission, STARTTLS on port 587 by default). Every message about
// one incident shares a thread: the first has a Message-ID derived from the incident id, later ones
// reply to it. Each message's Message-ID is derived from its outbox key, so one resent after a crash
// (sent, but not yet recorded) carries the same id and mail systems show it once.
// TLS: the session must be upgraded (requireTls, default on) and the server's certificate must
// verify against the system CAs or `caFile`, and name `host`; nothing is sent otherwise. The SMTP
// password goes to the transport only; nodemailer's own logger stays off so it never prints AUTH.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { ConfigError } from '../../../core/errors.ts';
import type { Channel, Delivery, DeliveryResult } from '../channel.ts';
import type { EmailChannelConfig } from '../config.ts';
import { textBody, title } from '../format.ts';
import { smtpError } from './smtp-errors.ts';

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export class EmailChannel implements Channel {
  readonly type = 'email' as const;
  /** One email per remediation step would be noise: mail gets transitions only. */
  readonly takesNotes = false;
  readonly id: string;
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(private readonly cfg: EmailChannelConfig) {
    this.id = cfg.id;
    this.domain = cfg.from.split('@')[1]?.replace(/>.*$/, '') || 'whistle.local';
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      requireTLS: cfg.requireTls,
      // Verified always; a private CA is given, never verification turned off.
      tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(cfg.caFile ? { ca: readCa(cfg) } : {}) },
      auth: cfg.user ? { user: cfg.user, pass: cfg.password ?? '' } : undefined,
      connectionTimeout: cfg.timeoutMs,
      greetingTimeout: cfg.timeoutMs,
      socketTimeout: cfg.timeoutMs,
      logger: false,
      debug: false,
    });
  }

  send(d: Delivery): Promise<DeliveryResult> {
    return this.mail(d, '');
  }

  update(d: Delivery): Promise<DeliveryResult> {
    const prefix = d.kind === 'repeat' ? 'Still open: ' : d.kind === 'escalation' ? 'Escalated: ' : 'Updated: ';
    return this.mail(d, prefix);
  }

  resolve(d: Delivery): Promise<DeliveryResult> {
    return this.mail(d, '');
  }

  async close(): Promise<void> {
    this.transport.close();
  }

  private async mail(d: Delivery, prefix: string): Promise<DeliveryResult> {
    const root = `<${d.incident.id}@${this.domain}>`;
    const text = textBody(d.incident, d.link, d.kind === 'escalation' ? d.plan : d.note);
    const html = `<pre style="font-family: monospace">${htmlEscape(text)}</pre>${d.link ? `<p><a href="${htmlEscape(d.link)}">Open incident ${htmlEscape(d.incident.id)} in the Whistle console</a></p>` : ''}`;
    try {
      await this.transport.sendMail({
        from: this.cfg.from,
        to: this.cfg.to,
        subject: `[Whistle] ${prefix}${title(d.incident)}: ${d.incident.summary}`.slice(0, 250),
        text,
        html,
        messageId: d.kind === 'opened' ? root : `<${d.incident.id}.${createHash('sha256').update(d.key).digest('hex').slice(0, 16)}@${this.domain}>`,
        ...(d.kind === 'opened' ? {} : { inReplyTo: root, references: [root] }),
        headers: { 'X-Whistle-Incident': d.incident.id, 'X-Whistle-Kind': d.kind },
      });
      return { ref: root };
    } catch (err) {
      throw smtpError(err, this.cfg);
    }
  }
}

function readCa(cfg: EmailChannelConfig): string {
  try {
    return readFileSync(cfg.caFile!, 'utf8');
  } catch (err) {
    throw new ConfigError([`notifications.channels (${cfg.id}).caFile: cannot read ${cfg.caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
}
