// What the console stage provides (the CLI and tests reach them through whistle.service).
import { serviceRef } from '../core/stage.ts';
import type { ConsoleOperators } from './operators.ts';
import type { ConsoleSessions } from './sessions.ts';

export const consoleServices = {
  /** Operators who sign in with a name and password. */
  operators: serviceRef<ConsoleOperators>('console.operators'),
  /** Console sessions, server-side. */
  sessions: serviceRef<ConsoleSessions>('console.sessions'),
};
