// What a nodemailer failure means for the email channel's configuration: a ChannelError naming the
// cause (the certificate did not verify and why, STARTTLS refused, credentials refused, the server
// said no) with its failure reason. Never includes the password: nodemailer's messages do not.
import { ChannelError, type FailureReason } from '../channel.ts';
import type { EmailChannelConfig } from '../config.ts';

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

export function smtpError(err: unknown, cfg: EmailChannelConfig): ChannelError {
  const e = err as SmtpFailure;
  const message = e.message ?? String(err);
  const at = `smtp ${cfg.host}:${cfg.port}`;
  const [reason, what] = explain(e, message, cfg);
  return new ChannelError(`${at}: ${what}${e.code ? ` [${e.code}${e.responseCode ? ` ${e.responseCode}` : ''}]` : ''}`, reason);
}

function explain(e: SmtpFailure, message: string, cfg: EmailChannelConfig): [FailureReason, string] {
  if (e.code === 'ETLS' || (e.code === 'ESOCKET' && /certificate|self.signed|altnames|SSL|TLS/i.test(message))) {
    if (/altnames|does not match/i.test(message)) return ['tls', `the server's certificate is not for ${cfg.host}: ${message} (connect by a name the certificate carries)`];
    if (/expired|not yet valid/i.test(message)) return ['tls', `the server's certificate is out of date: ${message}`];
    if (/self.signed|unable to (get|verify)|issuer|untrusted|verify/i.test(message))
      return ['tls', `the server's certificate did not verify: ${message} (${cfg.caFile ? `is it signed by the CA in ${cfg.caFile}?` : 'set caFile to the CA that signed it'})`];
    if (/STARTTLS/.test(message)) return ['tls', `STARTTLS refused and requireTls is set: ${message}${e.response && !message.includes(e.response) ? ` (${e.response})` : ''}`];
    return ['tls', `TLS failed: ${message}`];
  }
  if (e.code === 'EAUTH') return ['auth', `the server refused the credentials of ${cfg.user ?? '(no user)'}: ${e.response ?? message}`];
  if (e.code === 'ETIMEDOUT') return ['timeout', `no answer within ${cfg.timeoutMs} ms: ${message}`];
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'EDNS') return ['network', message];
  if (e.responseCode && e.responseCode >= 400 && e.responseCode < 500) return ['unavailable', `the server deferred the message: ${e.response ?? message}`];
  if (e.responseCode && e.responseCode >= 500) return ['rejected', `the server refused the message: ${e.response ?? message}`];
  return ['error', message];
}
