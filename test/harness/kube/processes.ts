// Small process helpers for the control-plane harness: free loopback ports, components started in
// their own process group (so a stop kills the whole tree), readiness polling.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface Component {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Set when the process has exited (code or signal). */
  exited: string | null;
}

/** Starts `bin args` detached in its own process group, output appended to `logFile`. */
export function startComponent(name: string, bin: string, args: string[], logFile: string, detach = false): Component {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  const comp: Component = { name, pid: child.pid, logFile, child, exited: null };
  child.on('exit', (code, signal) => {
    comp.exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.on('error', (err) => {
    comp.exited = `spawn error: ${err.message}`;
  });
  // A cluster started by `npm run cluster:up` must outlive that command.
  if (detach) child.unref();
  return comp;
}

export function logTail(logFile: string, lines = 25): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. Safe to call on an exited process. */
export async function killGroup(pid: number, graceMs = 5000): Promise<void> {
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signalGroup('SIGKILL');
  while (alive(pid) && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Polls `check` until it returns true; fails early when `comp` exits, naming its log tail. Bounded:
 * at `timeoutMs` it throws naming `what` (and `state()`, what was last seen), a check still running
 * then is aborted through the signal it was handed, and `signal` (a test's) stops the wait at once.
 */
export async function waitUntil(
  what: string,
  check: (signal: AbortSignal) => Promise<boolean>,
  opts: { timeoutMs: number; comp?: Component; intervalMs?: number; signal?: AbortSignal; state?: () => string },
): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let lastErr = '';
  const seen = () => {
    const st = opts.state?.();
    return `${st ? `; last seen: ${st}` : ''}${lastErr ? ` (last error: ${lastErr})` : ''}`;
  };
  for (;;) {
    if (opts.comp?.exited) {
      throw new Error(`${what}: ${opts.comp.name} exited (${opts.comp.exited}); log ${opts.comp.logFile}:\n${logTail(opts.comp.logFile)}`);
    }
    if (opts.signal?.aborted) throw new Error(`${what}: wait stopped after ${Date.now() - started} ms (${String(opts.signal.reason ?? 'aborted')})${seen()}`);
    const ac = new AbortController();
    const onAbort = () => ac.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const cut = new Promise<'cut'>((resolve) => {
        timer = setTimeout(() => resolve('cut'), Math.max(0, deadline - Date.now()));
        ac.signal.addEventListener('abort', () => resolve('cut'), { once: true });
      });
      const pending = check(ac.signal);
      pending.catch(() => {});
      if ((await Promise.race([pending, cut])) === true) return;
    } catch (err) {
      lastErr = (err as Error).message;
    } finally {
      clearTimeout(timer);
      ac.abort(new Error(`${what}: check cut short`));
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (opts.signal?.aborted) throw new Error(`${what}: wait stopped after ${Date.now() - started} ms (${String(opts.signal.reason ?? 'aborted')})${seen()}`);
    if (Date.now() >= deadline) {
      const tail = opts.comp ? `\nlog ${opts.comp.logFile}:\n${logTail(opts.comp.logFile)}` : '';
      throw new Error(`${what}: not ready after ${opts.timeoutMs} ms${seen()}${tail}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 250, Math.max(0, deadline - Date.now()))));
  }
}
