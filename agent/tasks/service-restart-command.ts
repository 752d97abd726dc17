// Runs a configured restart command: an argv array (no shell), bounded by a timeout and by the
// task's abort signal, keeping only the tails of what it printed.
import { spawn } from 'node:child_process';

export interface CommandRun {
  exitCode: number | null;
  /** Set when the command was killed: by the timeout, the task's abort, or anyone else. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The command could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
  stdoutTail: string;
  stderrTail: string;
}

const TAIL_CHARS = 4_096;

/**
 * A restart script that starts a daemon in the background may leave it holding our stdout; the
 * command is done when it exits, so after its exit the pipes get this long to drain, no longer.
 */
const DRAIN_AFTER_EXIT_MS = 1_000;

class Tail {
  private text = '';
  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-TAIL_CHARS);
  }
  toString(): string {
    return this.text;
  }
}

export function runCommand(argv: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<CommandRun> {
  const [bin, ...args] = argv;
  if (bin === undefined) throw new Error('empty command');
  return new Promise((resolve) => {
    const out = new Tail();
    const err = new Tail();
    let timedOut = false;
    let settled = false;
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    child.stdout.on('data', (c: Buffer) => out.add(c));
    child.stderr.on('data', (c: Buffer) => err.add(c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (run: Omit<CommandRun, 'stdoutTail' | 'stderrTail' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ ...run, timedOut, stdoutTail: out.toString(), stderrTail: err.toString() });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      // An abort also lands here, after the kill; the exit that follows carries the signal.
      if (e.name !== 'AbortError') finish({ exitCode: null, signal: null, spawnError: e.code ?? e.message });
    });
    child.once('exit', (exitCode, sig) => {
      const drained = setTimeout(() => finish({ exitCode, signal: sig }), DRAIN_AFTER_EXIT_MS);
      child.once('close', () => {
        clearTimeout(drained);
        finish({ exitCode, signal: sig });
      });
    });
  });
}
