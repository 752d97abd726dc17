// The components `node.upgrade-install` manages on this node (`agent.tasks.packages`): for each,
// the package command that installs a version (an argv array in which `{version}` is replaced,
// never a shell line), the command that prints the installed version, and the services
// (`agent.tasks.services`) restarted after it changed. The plane only names versions.
import { z } from 'zod';
import { componentName } from '../../bootstrap/tasks/contract/upgrade.ts';
import { unitName } from '../../bootstrap/tasks/contract/node-ops.ts';

export const VERSION_PLACEHOLDER = '{version}';

const argv = z.array(z.string().min(1)).min(1);

export const packageSchema = z.strictObject({
  name: componentName,
  /** e.g. ["apt-get", "install", "-y", "--allow-downgrades", "kubelet={version}"]; `{version}` is the release's version. */
  install: argv.refine((a) => a.some((w) => w.includes(VERSION_PLACEHOLDER)), `must contain ${VERSION_PLACEHOLDER} in one of its words`),
  /**
   * Prints the installed version, e.g. ["dpkg-query", "-W", "-f=${Version}", "kubelet"]. Without it,
   * the version is the one this agent last installed (kept in <dataRoot>/component-versions.json).
   */
  version: argv.optional(),
  /** Applied to the version command's output; its first group is the version. Default: the first word. */
  versionPattern: z
    .string()
    .refine((s) => {
      try {
        return new RegExp(s).source.includes('(');
      } catch {
        return false;
      }
    }, 'must be a regular expression with a capture group')
    .optional(),
  /** Units of agent.tasks.services restarted after this component changed. */
  restart: z.array(unitName).default([]),
  timeoutMs: z.number().int().positive().default(300_000),
});

export const packagesSchema = z.array(packageSchema).default([]).superRefine((pkgs, ctx) => {
  const seen = new Set<string>();
  pkgs.forEach((p, i) => {
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${p.name}" is listed twice` });
    seen.add(p.name);
  });
});

export type PackageConfig = z.output<typeof packageSchema>;

/** Every unit a package restarts must be a configured service (its restart command and probe come from there). */
export function checkPackageUnits(packages: PackageConfig[], services: { unit: string }[], ctx: z.RefinementCtx): void {
  const units = new Set(services.map((s) => s.unit));
  packages.forEach((p, i) =>
    p.restart.forEach((u, j) => {
      if (!units.has(u)) ctx.addIssue({ code: 'custom', path: ['packages', i, 'restart', j], message: `"${u}" is not in agent.tasks.services (its restart command and probe are configured there)` });
    }),
  );
}
