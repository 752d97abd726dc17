// Deleting a step's candidates, oldest first, until the filesystem is under its target. Between the
// walk and the unlink a directory on the way could have been swapped for a symlink (someone who can
// write into a log directory); each file is checked again just before it goes: its directory still
// resolves to itself and it is still the same regular file, or it is left alone.
import { lstat, realpath, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileEntry } from './disk-cleanup-walk.ts';

export interface DeleteOptions {
  underTarget: () => Promise<boolean>;
  warnings: string[];
  signal: AbortSignal;
}

async function recheck(f: FileEntry): Promise<'same' | 'gone' | 'changed'> {
  const dir = dirname(f.path);
  if ((await realpath(dir).catch(() => undefined)) !== dir) return 'changed';
  const st = await lstat(f.path).catch(() => undefined);
  if (!st) return 'gone';
  return st.isFile() && st.dev === f.dev && st.ino === f.ino ? 'same' : 'changed';
}

/** Returns how many files were deleted. */
export async function deleteOldestFirst(candidates: readonly FileEntry[], opts: DeleteOptions): Promise<number> {
  const ordered = [...new Map(candidates.map((f) => [f.path, f])).values()].sort((a, b) => a.mtimeMs - b.mtimeMs);
  let deleted = 0;
  for (const f of ordered) {
    opts.signal.throwIfAborted();
    if (await opts.underTarget()) break;
    const now = await recheck(f);
    if (now === 'gone') continue; // rotated or removed meanwhile
    if (now === 'changed') {
      opts.warnings.push(`${f.path}: changed since it was listed; left alone`);
      continue;
    }
    try {
      await unlink(f.path);
      deleted++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') opts.warnings.push(`${f.path}: ${code ?? String(err)}`);
    }
  }
  return deleted;
}
