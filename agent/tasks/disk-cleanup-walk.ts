// The files a cleanup step may consider: regular files under a configured root that live on the
// filesystem being relieved. The root is resolved once (its realpath); below it nothing is resolved
// again: a symlink is neither followed nor listed, and a directory on another filesystem is not
// entered, so every path listed is the root's realpath plus plain directory names.
import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Mount } from './disk-cleanup-usage.ts';

export interface FileEntry {
  path: string;
  /** Relative to the root's realpath; what globs are matched against. */
  rel: string;
  mtimeMs: number;
  dev: number;
  ino: number;
}

const isInside = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

/**
 * Regular files under `root` on the mount's filesystem. A missing root is nothing to clean (not
 * every node has every directory); a root that resolves to `/` is refused with a warning, since
 * config validation only sees the name and a symlink can still point there.
 */
export async function filesUnder(root: string, mount: Mount, warnings: string[], signal: AbortSignal): Promise<FileEntry[]> {
  let base: string;
  try {
    base = await realpath(root);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') warnings.push(`${root}: ${errorCode(err)}`);
    return [];
  }
  if (base === '/') {
    warnings.push(`${root} resolves to "/": not cleaned`);
    return [];
  }
  // When the mount lies inside the root, only that part of the root can hold its files.
  const start = isInside(mount.path, base) ? mount.path : base;
  const st = await lstat(start).catch(() => undefined);
  if (!st?.isDirectory() || st.dev !== mount.dev) return [];
  const found: FileEntry[] = [];
  await walk(start, base, mount.dev, found, warnings, signal);
  return found;
}

async function walk(dir: string, base: string, dev: number, found: FileEntry[], warnings: string[], signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    warnings.push(`${dir}: ${errorCode(err)}`);
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // lstat, not the dirent's type alone: the device and mtime are needed, and a link stays a link.
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.isSymbolicLink() || st.dev !== dev) continue;
    if (st.isDirectory()) await walk(path, base, dev, found, warnings, signal);
    else if (st.isFile()) found.push({ path, rel: relative(base, path), mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino });
  }
}
