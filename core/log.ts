// One logger for the process. Secrets are redacted by path so a token or password put in a log
// object by mistake never reaches the output.
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'joinToken',
  '*.joinToken',
  'secret',
  '*.secret',
  'botToken',
  '*.botToken',
  'apiToken',
  '*.apiToken',
];

export function createLogger(level = process.env.WHISTLE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export type { Logger };
