// node.disk-cleanup on real files on a real, size-limited filesystem this test mounts (tmpfs, or a
// loop-mounted ext4 image where tmpfs cannot be mounted), run through the agent's real TaskRunner.
// The files that must never go are the oldest ones on the disk and match the patterns, so any way
// out of the configured roots (a symlink, `..`, another filesystem) would take them first.
import { execFileSync } from 'node:child_process';
import { lutimes, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import type { DiskCleanupConfig } from '../../agent/tasks/disk-cleanup-config.ts';
import { usageOf } from '../../agent/tasks/disk-cleanup-usage.ts';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import { checkResult, type TaskResult } from '../../bootstrap/tasks/contract.ts';
import { formatIssues } from '../../core/config/load.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY_MS = 86_400_000;

let dir: string;
let mnt: string;
let fixtureNo = 0;
/** The current test's fixture: everything lives under it, and a second filesystem is mounted inside it. */
let fx: string;
let nestedMount: string | undefined;

function mountSizeLimited(at: string, sizeMiB: number, image: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', at], { stdio: 'pipe' });
  } catch {
    execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', image, at], { stdio: 'pipe' });
  }
}

function unmount(at: string): void {
  try {
    execFileSync('umount', [at], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', at], { stdio: 'pipe' });
  }
}

async function file(path: string, bytes: number, ageDays: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, Buffer.alloc(bytes, 7));
  const t = new Date(Date.now() - ageDays * DAY_MS);
  await utimes(path, t, t);
  return path;
}

async function link(target: string, path: string, ageDays: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(target, path);
  const t = new Date(Date.now() - ageDays * DAY_MS);
  await lutimes(path, t, t);
  return path;
}

/** The node's config as the agent would load it. */
function cleanupConfig(steps: unknown[]): DiskCleanupConfig {
  return agentSchema.parse({ tasks: { diskCleanup: { steps } } }).tasks.diskCleanup;
}

function runner(diskCleanup?: DiskCleanupConfig): TaskRunner {
  return new TaskRunner({ env: { cluster: 'c', node: 'n1', address: '127.0.0.1', dataRoot: join(dir, 'node'), backupDir: join(dir, 'backups'), diskCleanup }, timeoutMs: 30_000 });
}

async function cleanup(r: TaskRunner, params: Record<string, unknown>): Promise<TaskResult<'node.disk-cleanup'>> {
  const res = await r.run({ id: `t${Date.now()}`, cluster: 'c', node: 'n1', kind: 'node.disk-cleanup', params, createdAt: Date.now() });
  expect(res.error).toBeUndefined();
  expect(res.ok).toBe(true);
  const checked = checkResult('node.disk-cleanup', res.output);
  if (!checked.ok) throw new Error(checked.error);
  return checked.value;
}

const survives = (paths: string[]) => expect(paths.filter((p) => !existsSync(p))).toEqual([]);
const deleted = (paths: string[]) => expect(paths.filter((p) => existsSync(p))).toEqual([]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-disk-cleanup-'));
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  mountSizeLimited(mnt, 20, join(dir, 'disk.img'));
});

afterAll(async () => {
  if (mnt) unmount(mnt);
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fx = join(mnt, `t${++fixtureNo}`);
  await mkdir(fx);
});

afterEach(async () => {
  if (nestedMount) unmount(nestedMount);
  nestedMount = undefined;
  await rm(fx, { recursive: true, force: true });
});

/**
 * About 18 of 20 MiB used. Under logs/ and data/ (the configured roots): what the steps should
 * take and what they must leave. Under outside/ (same filesystem, no root) and on the filesystem
 * mounted at logs/nested: the oldest, best-matching files, which must all survive.
 */
async function fill() {
  const logs = join(fx, 'logs');
  const data = join(fx, 'data');
  const outside = join(fx, 'outside');
  nestedMount = join(logs, 'nested');
  await mkdir(nestedMount, { recursive: true });
  mountSizeLimited(nestedMount, 4, join(dir, `nested-${fixtureNo}.img`));
  const f = {
    rotated: {
      // oldest first: the order the step deletes them in
      dated: await file(join(logs, 'app', 'app.log-20240101'), MiB, 12),
      gz: await file(join(logs, 'syslog.2.gz'), MiB, 11),
      one: await file(join(logs, 'syslog.1'), MiB, 10),
      xz: await file(join(logs, 'apt', 'history.log.3.xz'), 512 * KiB, 9),
    },
    tmp: { a: await file(join(data, 'cache', 'a.tmp'), MiB, 5), b: await file(join(data, 'b.tmp'), MiB, 4) },
    keep: {
      currentLog: await file(join(logs, 'syslog'), MiB, 30),
      freshRotated: await file(join(logs, 'fresh.log.1'), MiB, 0),
      notMatching: await file(join(data, 'keep.dat'), MiB, 30),
      freshTmp: await file(join(data, 'new.tmp'), 512 * KiB, 0),
      outsideRotated: await file(join(outside, 'secret.1'), MiB, 40),
      outsideTmp: await file(join(outside, 'x.tmp'), MiB, 40),
      otherFilesystem: await file(join(nestedMount, 'old.log.1'), 512 * KiB, 40),
      filler: await file(join(fx, 'filler.bin'), 6 * MiB, 40),
      // symlinks inside the roots, pointing out of them: neither followed nor deleted
      dirLinkInLogs: await link('../outside', join(logs, 'escape'), 40),
      fileLinkInLogs: await link(join(outside, 'secret.1'), join(logs, 'linked.1'), 40),
      dirLinkInData: await link(join(outside), join(data, 'out'), 40),
      fileLinkInData: await link('../outside/x.tmp', join(data, 'x.tmp'), 40),
    },
    journal: join(fx, 'journal'),
  };
  await mkdir(f.journal);
  return { logs, data, outside, f };
}

const steps = (logs: string, data: string, journal: string) => [
  { kind: 'container-images' },
  { kind: 'journal', maxSize: '1M', directory: journal },
  { kind: 'journal', maxSize: '1M' },
  { kind: 'rotated-logs', directories: [logs], olderThanHours: 24 },
  { kind: 'files', roots: [data], globs: ['**/*.tmp'], olderThanHours: 24 },
];

describe('node.disk-cleanup', () => {
  it('runs every step when the target is out of reach: deletes old rotated logs and matching files in the roots, nothing else', async () => {
    const { logs, data, f } = await fill();
    const before = await usageOf(mnt);
    expect(before.usedRatio).toBeGreaterThan(0.8);
    const out = await cleanup(runner(cleanupConfig(steps(logs, data, f.journal))), { mountPoint: mnt, targetUsedRatio: 0.05 });

    deleted([...Object.values(f.rotated), ...Object.values(f.tmp)]);
    survives(Object.values(f.keep));
    expect(out.steps).toEqual([
      { kind: 'container-images', bytesFreed: 0, filesDeleted: 0, skipped: true, reason: expect.stringMatching(/^(crictl not found on PATH|no image store .* is on )/) },
      // journalctl runs on the journal directory on this filesystem (an empty one: nothing to free)...
      { kind: 'journal', bytesFreed: 0, filesDeleted: 0 },
      // ...and not on the system journal, which is not on it
      { kind: 'journal', bytesFreed: 0, filesDeleted: 0, skipped: true, reason: expect.stringContaining(`is on ${mnt}`) },
      { kind: 'rotated-logs', bytesFreed: 3.5 * MiB, filesDeleted: 4 },
      { kind: 'files', bytesFreed: 2 * MiB, filesDeleted: 2 },
    ]);
    expect(out.before.usedBytes).toBe(before.usedBytes);
    expect(out.before.usedBytes - out.after.usedBytes).toBe(5.5 * MiB);
    expect(out.after.usedRatio).toBeCloseTo((await usageOf(mnt)).usedRatio, 6);
    expect(out).toMatchObject({ mountPoint: mnt, targetUsedRatio: 0.05, targetReached: false });
  });

  it('stops as soon as the filesystem is under the target, oldest files first', async () => {
    const { logs, data, f } = await fill();
    const { usedBytes, sizeBytes } = await usageOf(mnt);
    // Reached after the two oldest rotated logs (2 MiB), not after one.
    const target = (usedBytes - 1.5 * MiB) / sizeBytes;
    const out = await cleanup(runner(cleanupConfig(steps(logs, data, f.journal))), { mountPoint: mnt, targetUsedRatio: target });

    deleted([f.rotated.dated, f.rotated.gz]);
    survives([f.rotated.one, f.rotated.xz, ...Object.values(f.tmp), ...Object.values(f.keep)]);
    expect(out.steps.map((s) => [s.kind, s.filesDeleted, s.bytesFreed, s.reason])).toEqual([
      ['container-images', 0, 0, expect.any(String)],
      ['journal', 0, 0, undefined],
      ['journal', 0, 0, expect.any(String)],
      ['rotated-logs', 2, 2 * MiB, undefined],
      ['files', 0, 0, 'target reached'],
    ]);
    expect(out.targetReached).toBe(true);
    expect(out.after.usedRatio).toBeLessThan(target);
  });

  it('does nothing when the filesystem is already under the target', async () => {
    const { logs, data, f } = await fill();
    const out = await cleanup(runner(cleanupConfig(steps(logs, data, f.journal))), { mountPoint: mnt, targetUsedRatio: 0.99 });
    expect(out.steps.every((s) => s.skipped && s.reason === 'target reached')).toBe(true);
    expect(out.targetReached).toBe(true);
    survives([...Object.values(f.rotated), ...Object.values(f.tmp), ...Object.values(f.keep)]);
  });

  it('never leaves the roots, even with a config that skipped validation: `..` globs, a root resolving to /', async () => {
    const { data, f } = await fill();
    await link('/', join(fx, 'to-root'), 0);
    // Built by hand: what validation refuses must still not reach outside/ at run time.
    const raw = {
      steps: [
        { kind: 'files', roots: [data], globs: ['../outside/*', '../**', '**/../../outside/*.tmp', '*/../../outside/x.tmp'], olderThanHours: 1 },
        { kind: 'files', roots: [join(fx, 'to-root')], globs: ['**/*.tmp', '**/*.1'], olderThanHours: 1 },
      ],
    } as DiskCleanupConfig;
    const out = await cleanup(runner(raw), { mountPoint: mnt, targetUsedRatio: 0.05 });
    survives([...Object.values(f.rotated), ...Object.values(f.tmp), ...Object.values(f.keep)]);
    expect(out.steps.map((s) => s.filesDeleted)).toEqual([0, 0]);
    expect(out.steps[1]!.warnings).toEqual([`${join(fx, 'to-root')} resolves to "/": not cleaned`]);
  });

  it('cleans a mount that lies inside a root, and only that mount', async () => {
    const { logs, f } = await fill();
    const onNested = await file(join(nestedMount!, 'deeper', 'old.log.2'), 512 * KiB, 3);
    const out = await cleanup(runner(cleanupConfig([{ kind: 'rotated-logs', directories: [logs] }])), { mountPoint: nestedMount!, targetUsedRatio: 0.01 });
    deleted([f.keep.otherFilesystem, onNested]);
    survives([...Object.values(f.rotated), ...Object.values(f.keep).filter((p) => p !== f.keep.otherFilesystem)]);
    expect(out.steps).toEqual([{ kind: 'rotated-logs', bytesFreed: MiB, filesDeleted: 2 }]);
  });

  it('refuses a mount point that is not one, bad parameters and a node without cleanup config', async () => {
    const { logs } = await fill();
    const r = runner(cleanupConfig([{ kind: 'rotated-logs', directories: [logs] }]));
    const run = (params: Record<string, unknown>, on = r) => on.run({ id: 'x', cluster: 'c', node: 'n1', kind: 'node.disk-cleanup', params, createdAt: 0 });
    expect(await run({ mountPoint: logs, targetUsedRatio: 0.5 })).toMatchObject({ ok: false, error: `${logs}: not a mount point on this node` });
    expect(await run({ mountPoint: 'var/log', targetUsedRatio: 0.5 })).toMatchObject({ ok: false, error: 'node.disk-cleanup: params.mountPoint: must be an absolute path' });
    expect(await run({ mountPoint: `${mnt}/../..`, targetUsedRatio: 0.5 })).toMatchObject({ ok: false, error: 'node.disk-cleanup: params.mountPoint: must not contain ".."' });
    expect(await run({ mountPoint: mnt, targetUsedRatio: 1.5 })).toMatchObject({ ok: false, error: expect.stringMatching(/^node\.disk-cleanup: params\.targetUsedRatio: /) });
    expect(await run({ mountPoint: mnt, targetUsedRatio: 0.5 }, runner())).toMatchObject({ ok: false, error: expect.stringContaining('agent.tasks.diskCleanup.steps') });
  });
});

describe('agent.tasks.diskCleanup config', () => {
  const problems = (steps: unknown[]) => {
    const r = agentSchema.safeParse({ tasks: { diskCleanup: { steps } } });
    return r.success ? [] : formatIssues(r.error.issues, 'agent');
  };

  it('refuses roots that are /, relative or contain .., naming the field', () => {
    expect(problems([{ kind: 'files', roots: ['/var/tmp', '/'], globs: ['*'], olderThanHours: 1 }])).toEqual(['agent.tasks.diskCleanup.steps.0.roots.1: must not be "/": name the directories that may be cleaned']);
    expect(problems([{ kind: 'rotated-logs', directories: ['//', '/var/log/..', 'var/log', '/var/./'] }])).toEqual([
      'agent.tasks.diskCleanup.steps.0.directories.0: must not be "/": name the directories that may be cleaned',
      'agent.tasks.diskCleanup.steps.0.directories.1: must not contain ".."',
      'agent.tasks.diskCleanup.steps.0.directories.2: must be an absolute path',
    ]);
    expect(problems([{ kind: 'journal', directory: '/var/log/journal/../x' }])).toEqual(['agent.tasks.diskCleanup.steps.0.directory: must not contain ".."']);
  });

  it('refuses globs that reach out of their root and step kinds off the allow-list', () => {
    expect(problems([{ kind: 'files', roots: ['/var/tmp'], globs: ['*.tmp', '../etc/*', '/etc/*'], olderThanHours: 1 }])).toEqual([
      'agent.tasks.diskCleanup.steps.0.globs.1: must not contain ".."',
      'agent.tasks.diskCleanup.steps.0.globs.2: must be relative to the roots (no leading "/")',
    ]);
    expect(problems([{ kind: 'rotated-logs', directories: ['/var/log'] }, { kind: 'shell', command: 'rm -rf /' }])).toEqual([
      'agent.tasks.diskCleanup.steps.1.kind: must be one of container-images, journal, rotated-logs, files',
    ]);
    expect(problems([{ kind: 'files', roots: ['/var/tmp'], globs: ['*'] }])).toEqual([expect.stringMatching(/^agent\.tasks\.diskCleanup\.steps\.0\.olderThanHours: /)]);
  });
});
