// One logger for the process. Secrets are redacted by path so a token or password put in a log
// object by mistake never reaches the output. A person at a terminal reads one line per event
// (pino-pretty: time, level, message, then the fields); anything else (a pipe, a file, journald, a
// log shipper) gets one JSON object per line. WHISTLE_LOG_FORMAT=json|pretty overrides the choice.
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

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
  'signingSecret',
  '*.signingSecret',
];

export type LogFormat = 'json' | 'pretty';

/** Pretty for a terminal, JSON otherwise, unless WHISTLE_LOG_FORMAT says which. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): LogFormat {
  const asked = env.WHISTLE_LOG_FORMAT;
  if (asked === 'json' || asked === 'pretty') return asked;
  return stdout.isTTY ? 'pretty' : 'json';
}

export function createLogger(level = process.env.WHISTLE_LOG_LEVEL ?? 'info', format: LogFormat = logFormat()): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (format === 'json') return pino(options);
  // Synchronous, in this thread: a line is on the screen before the process can die after it,
  // and no worker thread is started for a person's terminal.
  const stream: DestinationStream = pretty({ colorize: true, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino(options, stream);
}

export type { Logger };
