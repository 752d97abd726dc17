// The `upgrades` config section: the stack releases Whistle may roll out, the recurring maintenance
// windows of each cluster, and how a rollout paces itself (concurrency, soak, timeouts). Defaults
// live here and nowhere else.
import { z } from 'zod';
import { componentName, componentVersion } from '../tasks/contract/upgrade.ts';
import { checkWindowOrder, windowFields } from './windows.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

/** A stack release: component versions tested together, rolled out as one. */
export const releaseSchema = z.strictObject({
  name,
  description: z.string().max(2000).default(''),
  /** component name → version, e.g. { kubelet: "1.34.4", containerd: "2.1.4", cilium: "1.18.2" }. */
  components: z.record(componentName, componentVersion).refine((c) => Object.keys(c).length > 0, 'must name at least one component'),
});

export const recurringWindowSchema = z.strictObject({ cluster: name, ...windowFields }).superRefine(checkWindowOrder);

export const upgradesSchema = z
  .strictObject({
    releases: z.array(releaseSchema).default([]),
    /** The release each cluster runs before Whistle rolls anything out there (a finished rollout records the next). */
    clusterReleases: z.record(name, name).default({}),
    /** Recurring windows per cluster; more can be added through the API (`/v1/upgrades/windows`). */
    windows: z.array(recurringWindowSchema).default([]),
    /** A cluster without any window may be upgraded at any time; true: never (a window is required). */
    requireWindow: z.boolean().default(false),
    /** Worker nodes upgraded at once (control-plane nodes always one at a time). */
    concurrency: z.number().int().min(1).max(100).default(1),
    /** After a node is back, how long no new incident may open on it or its cluster before the next node starts. */
    soakMs: z.number().int().nonnegative().default(5 * 60_000),
    /** The drain: evictions and waiting for the pods to go, PDBs honoured; at the deadline the rollout stops and escalates. */
    drainTimeoutMs: z.number().int().positive().default(10 * 60_000),
    /** The agent's install task (package commands and service restarts). */
    installTimeoutMs: z.number().int().positive().default(15 * 60_000),
    /** From the install's end until the node is Ready and its agent reports the target versions. */
    readyTimeoutMs: z.number().int().positive().default(10 * 60_000),
    /** How often a rollout re-reads windows, pause and abort while it waits. */
    tickMs: z.number().int().positive().default(5_000),
    /** Pods no controller owns: left on the node (default) or evicted like the rest (they are then lost). */
    unmanagedPods: z.enum(['skip', 'evict']).default('skip'),
    /** Incidents (by detector) that a node being upgraded is expected to cause: tied to the rollout, not paged. */
    expectedDetectors: z.array(name).default(['node-not-ready', 'kubelet-down', 'agent-silent']),
  })
  .superRefine((u, ctx) => {
    const seen = new Set<string>();
    u.releases.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['releases', i, 'name'], message: `"${r.name}" is listed twice` });
      seen.add(r.name);
    });
    for (const [cluster, release] of Object.entries(u.clusterReleases)) {
      if (!seen.has(release)) ctx.addIssue({ code: 'custom', path: ['clusterReleases', cluster], message: `no release "${release}" in upgrades.releases` });
    }
  });

export type UpgradesConfig = z.output<typeof upgradesSchema>;
export type Release = z.output<typeof releaseSchema>;
export type RecurringWindowConfig = z.output<typeof recurringWindowSchema>;
