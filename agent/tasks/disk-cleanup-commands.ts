// The two cleanup steps that are a tool's job: pruning unused container images (crictl) and
// vacuuming the journal (journalctl). Fixed binaries, fixed argument shapes, no shell. Each runs
// only when its tool is installed and what it frees lives on the filesystem being relieved:
// pruning images to relieve /var/log would cost the next pulls and free nothing there.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { CleanupStep } from './disk-cleanup-config.ts';
import type { Mount } from './disk-cleanup-usage.ts';

export interface CommandOutcome {
  skipped?: boolean;
  reason?: string;
  error?: string;
}

type Step<K extends CleanupStep['kind']> = Extract<CleanupStep, { kind: K }>;

/** Where `name` would run from, searching PATH as execFile does. */
export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    const st = await stat(candidate).catch(() => undefined);
    if (st?.isFile() && (await access(candidate, constants.X_OK).then(() => true, () => false))) return candidate;
  }
  return undefined;
}

/** Followed through symlinks on purpose: /var/lib/containerd may be a link to where the images really are. */
async function anyOnMount(dirs: readonly string[], mount: Mount): Promise<boolean> {
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => undefined);
    if (st?.isDirectory() && st.dev === mount.dev) return true;
  }
  return false;
}

function run(bin: string, args: string[], timeoutMs: number, signal: AbortSignal): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, signal, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve({});
      const tail = String(stderr).trim().split('\n').filter(Boolean).slice(-3).join('; ');
      resolve({ error: `${[bin, ...args].join(' ')} failed: ${tail || err.message}` });
    });
  });
}

const SYSTEM_JOURNALS = ['/var/log/journal', '/run/log/journal'];

export async function pruneImages(step: Step<'container-images'>, mount: Mount, signal: AbortSignal): Promise<CommandOutcome> {
  const crictl = await onPath('crictl');
  if (!crictl) return { skipped: true, reason: 'crictl not found on PATH' };
  if (!(await anyOnMount(step.imageStores, mount))) return { skipped: true, reason: `no image store (${step.imageStores.join(', ')}) is on ${mount.path}` };
  return run(crictl, ['rmi', '--prune'], step.timeoutMs, signal);
}

export async function vacuumJournal(step: Step<'journal'>, mount: Mount, signal: AbortSignal): Promise<CommandOutcome> {
  const journalctl = await onPath('journalctl');
  if (!journalctl) return { skipped: true, reason: 'journalctl not found on PATH' };
  const dirs = step.directory ? [step.directory] : SYSTEM_JOURNALS;
  if (!(await anyOnMount(dirs, mount))) return { skipped: true, reason: `no journal (${dirs.join(', ')}) is on ${mount.path}` };
  const args = [`--vacuum-size=${step.maxSize}`, ...(step.directory ? [`--directory=${step.directory}`] : [])];
  return run(journalctl, args, step.timeoutMs, signal);
}
