// `node.upgrade-install`: bring this node's managed components to a release's versions. For each
// component the release names and this node manages: read its version, run the configured install
// command with the version substituted when it differs (nothing when it is already there, so a
// resumed rollout's repeated install is harmless), then restart the services of the components
// that changed, with their configured commands and probes, and read every version back. Any
// component not at its target afterwards fails the task, naming it.
import type { TaskHandler } from './handler.ts';
import { readVersion, recordVersions } from './component-versions.ts';
import { runCommand, type CommandRun } from './service-restart-command.ts';
import { waitForProbe } from './service-restart-probe.ts';
import { VERSION_PLACEHOLDER } from './upgrade-install-config.ts';

function failure(run: CommandRun, timeoutMs: number): string | undefined {
  if (run.spawnError) return `could not be started (${run.spawnError})`;
  if (run.timedOut) return `timed out after ${timeoutMs} ms`;
  if (run.signal) return `was killed by ${run.signal}`;
  if (run.exitCode !== 0) return `exited with code ${run.exitCode}`;
  return undefined;
}

const tail = (text: string) => text.trim().split('\n').filter(Boolean).slice(-3).join('; ');

export const nodeUpgradeInstall: TaskHandler<'node.upgrade-install'> = async (p, env, signal) => {
  const packages = env.packages ?? [];
  if (packages.length === 0) throw new Error('no components are managed on this node (agent.tasks.packages is empty)');
  const reports = [];
  const changed = new Set<string>();
  for (const [component, target] of Object.entries(p.components)) {
    const pkg = packages.find((k) => k.name === component);
    const started = Date.now();
    if (!pkg) {
      reports.push({ component, target, before: null, after: null, skipped: true, notManaged: true, durationMs: 0 });
      continue;
    }
    const before = (await readVersion(pkg, env.dataRoot, signal)).version;
    if (before === target) {
      reports.push({ component, target, before, after: before, skipped: true, durationMs: Date.now() - started });
      continue;
    }
    const argv = pkg.install.map((w) => w.replaceAll(VERSION_PLACEHOLDER, target));
    const run = await runCommand(argv, pkg.timeoutMs, signal);
    const failed = failure(run, pkg.timeoutMs);
    if (failed) {
      const stderr = tail(run.stderrTail);
      throw new Error(`${component} ${target}: install command ${JSON.stringify(argv)} ${failed}${stderr ? `: ${stderr}` : ''}`);
    }
    if (!pkg.version) await recordVersions(env.dataRoot, { [component]: target });
    changed.add(component);
    reports.push({ component, target, before, after: null as string | null, skipped: false, durationMs: Date.now() - started });
  }

  // Each unit once, in the order agent.tasks.services lists them (a runtime before the kubelet).
  const units = new Set(packages.filter((k) => changed.has(k.name)).flatMap((k) => k.restart));
  const restarted = [];
  for (const service of (env.services ?? []).filter((s) => units.has(s.unit))) {
    const run = await runCommand(service.restart, service.timeoutMs, signal);
    const failed = failure(run, service.timeoutMs);
    if (failed) throw new Error(`${service.unit}: restart command ${JSON.stringify(service.restart)} ${failed}${run.stderrTail ? `: ${tail(run.stderrTail)}` : ''}`);
    const probe = service.probe ? await waitForProbe(service.unit, service.probe, signal) : undefined;
    if (probe && !probe.ok) throw new Error(`${service.unit}: restarted, but its probe did not answer within ${service.probe?.waitMs} ms`);
    restarted.push({ unit: service.unit, probeOk: probe?.ok ?? null });
  }

  const versions: Record<string, string | null> = {};
  for (const pkg of packages) versions[pkg.name] = (await readVersion(pkg, env.dataRoot, signal)).version;
  for (const r of reports) {
    if (r.notManaged) continue;
    r.after = versions[r.component] ?? null;
    if (r.after !== r.target) throw new Error(`${r.component}: after the install the node reports ${r.after ?? 'no version'}, not ${r.target}`);
  }
  return { release: p.release, components: reports, restarted, versions };
};
