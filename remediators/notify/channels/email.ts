// Email through nodemailer (SMTP). Every message about one incident shares a thread: the first has
// a Message-ID derived from the incident id, later ones reply to it. The SMTP password goes to the
// transport only; nodemailer's own logger stays off so it never prints the AUTH exchange.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Channel, Delivery, DeliveryResult } from '../channel.ts';
import { ChannelError } from '../channel.ts';
import type { EmailChannelConfig } from '../config.ts';
import { textBody, title } from '../format.ts';

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export class EmailChannel implements Channel {
  readonly type = 'email' as const;
  /** One email per remediation step would be noise: mail gets transitions only. */
  readonly takesNotes = false;
  readonly id: string;
  private readonly transport: Transporter;

  constructor(private readonly cfg: EmailChannelConfig) {
    this.id = cfg.id;
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      requireTLS: cfg.requireTls,
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
    const domain = this.cfg.from.split('@')[1]?.replace(/>.*$/, '') || 'whistle.local';
    const root = `<${d.incident.id}@${domain}>`;
    const text = textBody(d.incident, d.link, d.kind === 'escalation' ? d.plan : d.note);
    const html = `<pre style="font-family: monospace">${htmlEscape(text)}</pre><p><a href="${htmlEscape(d.link)}">Open incident ${htmlEscape(d.incident.id)} in Whistle</a></p>`;
    try {
      await this.transport.sendMail({
        from: this.cfg.from,
        to: this.cfg.to,
        subject: `[Whistle] ${prefix}${title(d.incident)}: ${d.incident.summary}`.slice(0, 250),
        text,
        html,
        ...(d.kind === 'opened' ? { messageId: root } : { inReplyTo: root, references: [root] }),
        headers: { 'X-Whistle-Incident': d.incident.id, 'X-Whistle-Kind': d.kind },
      });
      return { ref: root };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; message?: string };
      throw new ChannelError(`smtp: ${e.code ?? ''}${e.responseCode ? ` ${e.responseCode}` : ''} ${e.message ?? String(err)}`.trim());
    }
  }
}
