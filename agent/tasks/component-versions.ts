// What version of each managed component this node has: its version command's answer, or, for a
// component without one, the version this agent last installed (a file it keeps). The telemetry
// collector and the install task both read through here, so what the plane waits for after an
// install is exactly what the install read back.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentVersion } from '../../bootstrap/tasks/contract/upgrade.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { runCommand } from './service-restart-command.ts';
import type { PackageConfig } from './upgrade-install-config.ts';

const VERSION_COMMAND_TIMEOUT_MS = 10_000;

export function versionsFile(dataRoot: string): string {
  return join(dataRoot, 'component-versions.json');
}

export async function recordedVersions(dataRoot: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(versionsFile(dataRoot), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export async function recordVersions(dataRoot: string, versions: Record<string, string>): Promise<void> {
  await mkdir(dataRoot, { recursive: true, mode: 0o700 });
  await writeFileAtomic(versionsFile(dataRoot), JSON.stringify({ ...(await recordedVersions(dataRoot)), ...versions }, null, 2));
}

/** The version in a version command's output: the pattern's first group, else the first word that looks like a version. */
export function parseVersion(output: string, pattern: string | undefined): string | null {
  const text = output.trim();
  const raw = pattern ? new RegExp(pattern).exec(text)?.[1] : text.split(/\s+/).find((w) => /\d/.test(w))?.replace(/^v(?=\d)/, '');
  return raw !== undefined && componentVersion.safeParse(raw).success ? raw : null;
}

/** The component's version now; null when its command failed or printed no version (the reason in `error`). */
export async function readVersion(pkg: PackageConfig, dataRoot: string, signal: AbortSignal): Promise<{ version: string | null; error?: string }> {
  if (!pkg.version) return { version: (await recordedVersions(dataRoot))[pkg.name] ?? null };
  const run = await runCommand(pkg.version, VERSION_COMMAND_TIMEOUT_MS, signal);
  if (run.spawnError) return { version: null, error: `could not be started (${run.spawnError})` };
  if (run.exitCode !== 0) return { version: null, error: `exited with ${run.exitCode ?? run.signal}: ${run.stderrTail.trim().slice(-200)}` };
  const version = parseVersion(run.stdoutTail, pkg.versionPattern);
  return version === null ? { version, error: `printed no version: ${run.stdoutTail.trim().slice(0, 200)}` } : { version };
}
