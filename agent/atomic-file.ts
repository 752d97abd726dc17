// Crash-safe file writes: write a temp file, fsync it, rename it over the target, fsync the directory.
// A crash leaves either the old file or the complete new one, never a torn one. Temp files start
// with ".tmp-" so readers can skip and clean them.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const TEMP_PREFIX = '.tmp-';

export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600, syncDir = true): Promise<void> {
  const tmp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${basename(path)}`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  if (syncDir) await fsyncDir(dirname(path));
}

/** Makes renames and unlinks in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
