// Reading /proc files. The root is a parameter so a containerised agent can read the host's /proc
// mounted elsewhere (e.g. /host/proc).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function readProc(procRoot: string, file: string): Promise<string> {
  return readFile(join(procRoot, file), 'utf8');
}
