// `whistle releases`: the stack releases Whistle can roll out (upgrades.releases).
//   whistle releases list            every release, its components, the clusters running it
//   whistle releases show NAME       one release, and each node's reported versions against it
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { table } from '../table.ts';
import type { Release } from '../../bootstrap/upgrade/config.ts';

type Opts = { server?: string; token?: string; json?: boolean };
const components = (r: Release) => Object.entries(r.components).map(([c, v]) => `${c}=${v}`).join(' ');

export function releasesCommand(): Command {
  const cmd = new Command('releases').description('stack releases: component versions tested together');
  cmd.addCommand(
    apiFlags(new Command('list').description('every release and the clusters running it')).action(async (opts: Opts) => {
      const res = await new ApiClient(opts).get<{ releases: Release[]; clusters: { cluster: string; release: string | null }[] }>('/v1/releases');
      if (opts.json) return console.log(JSON.stringify(res, null, 2));
      console.log(table(['RELEASE', 'COMPONENTS', 'CLUSTERS'], res.releases.map((r) => [r.name, components(r), res.clusters.filter((c) => c.release === r.name).map((c) => c.cluster).join(', ') || '-'])));
    }),
  );
  cmd.addCommand(
    apiFlags(new Command('show').description('one release, and each node\'s reported versions against it').argument('<name>', 'release name')).action(async (name: string, opts: Opts) => {
      const res = await new ApiClient(opts).get<{ release: Release; clusters: string[]; nodes: { cluster: string; node: string; components: Record<string, string>; atRelease: boolean }[] }>(`/v1/releases/${encodeURIComponent(name)}`);
      if (opts.json) return console.log(JSON.stringify(res, null, 2));
      console.log(`${res.release.name}${res.release.description ? `: ${res.release.description}` : ''}\n  ${components(res.release)}\n  clusters on it: ${res.clusters.join(', ') || 'none'}\n`);
      console.log(table(['CLUSTER', 'NODE', 'AT RELEASE', 'REPORTED'], res.nodes.map((n) => [n.cluster, n.node, n.atRelease ? 'yes' : 'no', Object.entries(n.components).map(([c, v]) => `${c}=${v || '?'}`).join(' ')])));
    }),
  );
  return cmd;
}
