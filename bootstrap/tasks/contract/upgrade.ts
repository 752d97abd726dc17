// The upgrade task: install a stack release's component versions on this node. The plane names the
// release and the versions; how a component is installed (the package command), how its version
// is read and which services restart after it are the node's own configuration
// (`agent.tasks.packages`), never a parameter. A version is pinned to a shape that cannot carry a
// flag, a path or a shell word, since the node substitutes it into its own argv.
import { z } from 'zod';

export const componentName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 lower-case letters, digits, ".", "_" or "-" (a component like kubelet or containerd)');

export const componentVersion = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$/, 'must be a version like 1.34.4, 2.1.4-1 or 1:1.34.4-1.1 (letters, digits, ".", "+", "~", ":", "_", "-")');

const releaseName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

const componentReport = z.object({
  component: z.string(),
  target: z.string(),
  /** What the node reported before the install; null when it could not tell. */
  before: z.string().nullable(),
  after: z.string().nullable(),
  /** Already at the target: nothing was run (a retried or resumed install). */
  skipped: z.boolean(),
  /** The component is not managed on this node (no package command for it): nothing to do here. */
  notManaged: z.boolean().optional(),
  durationMs: z.number().nonnegative(),
});

export const upgradeTasks = {
  /** Installs the release's versions with the node's package commands, restarts the affected services, reads the versions back. */
  'node.upgrade-install': {
    params: z.strictObject({
      release: releaseName,
      components: z.record(componentName, componentVersion).refine((c) => Object.keys(c).length > 0 && Object.keys(c).length <= 64, 'must name 1-64 components'),
    }),
    result: z.object({
      release: z.string(),
      components: z.array(componentReport),
      restarted: z.array(z.object({ unit: z.string(), probeOk: z.boolean().nullable() })),
      /** Every managed component's version as read after the install. */
      versions: z.record(z.string(), z.string().nullable()),
    }),
  },
};
