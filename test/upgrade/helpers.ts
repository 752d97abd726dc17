// Shared by the upgrade suites: a real control plane with kwok nodes (two control-plane nodes and
// workers), a real in-process agent per node whose `kubelet` component is installed by a script
// the test controls (it writes the version to a file; a `<file>.fail` next to it makes it fail),
// (`<file>.hold` makes it wait until the file is gone, after writing `<file>.running`), and the
// version read back by `cat` of that file, so each node's reported version comes from its
// own agent after its own install.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import { localTime } from '../../bootstrap/upgrade/windows.ts';
import { ingestServices } from '../../ingest/services.ts';
import { eventually, JOIN_TOKEN, type TestWhistle } from '../helpers/whistle.ts';

const INSTALL = `#!/bin/sh
# install.sh FILE VERSION: stands for "apt-get install kubelet=VERSION".
if [ -e "$1.fail" ]; then echo "E: Unable to fetch kubelet $2: 503 Service Unavailable" >&2; exit 100; fi
if [ -e "$1.hold" ]; then : > "$1.running"; while [ -e "$1.hold" ]; do sleep 0.1; done; fi
printf '%s\\n' "$2" > "$1.tmp" && mv "$1.tmp" "$1"
`;

export async function installScript(dir: string): Promise<string> {
  const path = join(dir, 'install.sh');
  await writeFile(path, INSTALL);
  await chmod(path, 0o755);
  return path;
}

export function versionFile(dir: string, node: string): string {
  return join(dir, 'nodes', node, 'kubelet.version');
}

/** A real agent for `node` of cluster c1, managing one component, kubelet, at `initial`. */
export async function startAgent(o: { dir: string; server: string; node: string; script: string; initial: string; intervalMs?: number }): Promise<NodeAgent> {
  const file = versionFile(o.dir, o.node);
  await mkdir(join(o.dir, 'nodes', o.node), { recursive: true });
  await writeFile(file, `${o.initial}\n`);
  const cfg = parseConfig({
    agent: {
      server: o.server,
      cluster: 'c1',
      node: o.node,
      joinToken: JOIN_TOKEN,
      intervalMs: o.intervalMs ?? 500,
      stateDir: join(o.dir, 'agents', o.node),
      excludeMountPoints: '.',
      tasks: {
        enabled: true,
        etcdMember: false,
        taskTimeoutMs: 60_000,
        packages: [{ name: 'kubelet', install: [o.script, file, '{version}'], version: ['cat', file], timeoutMs: 30_000 }],
      },
    },
  }).agent;
  const agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }), selfMetrics: false });
  await agent.start();
  return agent;
}

/** The two stack releases the rollout suites plan between: c1 runs the first, the second fixes a kubelet CVE. */
export const KUBELET_RELEASES = {
  releases: [
    { name: '2026.11', components: { kubelet: '1.33.5' } },
    { name: '2026.12', description: 'kubelet CVE fix', components: { kubelet: '1.34.4' } },
  ],
  clusterReleases: { c1: '2026.11' },
};

/**
 * A real agent per node (kubelet at `initial`, installed through the suite's script), each
 * authorized through the API, and returned once the plane has every node's reported version for
 * `release`: from then on a rollout of it can be planned.
 */
export async function startReportingAgents(t: TestWhistle, o: { dir: string; nodes: readonly string[]; release: string; initial?: string }): Promise<NodeAgent[]> {
  const script = await installScript(o.dir);
  const agents: NodeAgent[] = [];
  for (const node of o.nodes) agents.push(await startAgent({ dir: o.dir, server: t.url, node, script, initial: o.initial ?? '1.33.5' }));
  for (const node of o.nodes) {
    await eventually(async () => t.whistle.service(ingestServices.nodes).get('c1', node), `${node}'s agent registered`);
    expect((await t.operator('POST', `/v1/nodes/c1/${node}/authorize`)).status).toBe(200);
  }
  const reported = async () => ((await (await t.operator('GET', `/v1/releases/${o.release}`)).json()) as { nodes: unknown[] }).nodes.length;
  await eventually(async () => (await reported()) === o.nodes.length, 'every agent reporting its kubelet version', 60_000, 200);
  return agents;
}

/** An IANA zone (Etc/GMT±N) in which it is now around midday, so a window of the next minutes never crosses local midnight. */
export function middayZone(now = Date.now()): string {
  const h = new Date(now).getUTCHours();
  const k = Math.max(-12, Math.min(14, 12 - h));
  return k === 0 ? 'UTC' : `Etc/GMT${k > 0 ? '-' : '+'}${Math.abs(k)}`;
}

/** "HH:MM:SS" of instant t in zone tz. */
export function hms(t: number, tz: string): string {
  const s = localTime(t, tz).seconds;
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((x) => String(x).padStart(2, '0')).join(':');
}
