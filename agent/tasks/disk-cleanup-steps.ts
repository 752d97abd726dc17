// One configured cleanup step on one filesystem: what it deleted and why it did nothing, if so.
// Bytes freed are not counted here: the handler measures the filesystem around each step, which
// also sees what a tool freed and what a still-open deleted file did not.
import { basename } from 'node:path';
import { pruneImages, vacuumJournal } from './disk-cleanup-commands.ts';
import type { CleanupStep } from './disk-cleanup-config.ts';
import { deleteOldestFirst } from './disk-cleanup-delete.ts';
import { globMatcher, isRotatedLog } from './disk-cleanup-match.ts';
import type { Mount } from './disk-cleanup-usage.ts';
import { filesUnder, type FileEntry } from './disk-cleanup-walk.ts';

export interface StepContext {
  mount: Mount;
  underTarget: () => Promise<boolean>;
  signal: AbortSignal;
}

export interface StepOutcome {
  filesDeleted: number;
  skipped?: boolean;
  reason?: string;
  error?: string;
  warnings?: string[];
}

const HOUR_MS = 3_600_000;

async function deleteFromRoots(roots: readonly string[], olderThanHours: number, accept: (f: FileEntry) => boolean, ctx: StepContext): Promise<StepOutcome> {
  const warnings: string[] = [];
  const cutoff = Date.now() - olderThanHours * HOUR_MS;
  const candidates: FileEntry[] = [];
  for (const root of roots) {
    for (const f of await filesUnder(root, ctx.mount, warnings, ctx.signal)) if (f.mtimeMs < cutoff && accept(f)) candidates.push(f);
  }
  const filesDeleted = await deleteOldestFirst(candidates, { underTarget: ctx.underTarget, warnings, signal: ctx.signal });
  return { filesDeleted, ...(warnings.length ? { warnings } : {}) };
}

export async function runStep(step: CleanupStep, ctx: StepContext): Promise<StepOutcome> {
  switch (step.kind) {
    case 'container-images':
      return { filesDeleted: 0, ...(await pruneImages(step, ctx.mount, ctx.signal)) };
    case 'journal':
      return { filesDeleted: 0, ...(await vacuumJournal(step, ctx.mount, ctx.signal)) };
    case 'rotated-logs':
      return deleteFromRoots(step.directories, step.olderThanHours, (f) => isRotatedLog(basename(f.path)), ctx);
    case 'files': {
      const matches = globMatcher(step.globs);
      return deleteFromRoots(step.roots, step.olderThanHours, (f) => matches(f.rel), ctx);
    }
  }
}
