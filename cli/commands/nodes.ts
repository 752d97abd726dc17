// `whistle nodes`: registered agents and their state, the pool (nodes in no cluster) among them;
// `authorize` / `revoke` change a node's state, `attach` / `detach` move pool nodes into a cluster
// and back, `join-token` makes the fleet join token agents use to join the pool.
import { Command } from 'commander';
import type { ChangeResult } from '../../bootstrap/fleet/fleet.ts';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, table } from '../table.ts';
import { printChange } from './fleet-output.ts';

interface NodeOut {
  cluster: string;
  home: string;
  node: string;
  status: string;
  role: string;
  zone: string;
  address: string;
  agentVersion: string;
  registeredAt: number;
  lastSeen: number | null;
}

type Opts = { server?: string; token?: string; json?: boolean; dryRun?: boolean };
const CHANGE_TIMEOUT_MS = 10 * 60_000;

/** Prints the plan (a dry run of the same request), then unless --dry-run runs the change. */
async function planThenChange(api: ApiClient, path: string, body: Record<string, unknown>, opts: Opts): Promise<void> {
  const dry = await api.post<ChangeResult>(path, { ...body, dryRun: true });
  if (opts.dryRun) return console.log(opts.json ? JSON.stringify(dry, null, 2) : printChange(dry));
  const r = await api.request<ChangeResult>('POST', path, body, CHANGE_TIMEOUT_MS);
  console.log(opts.json ? JSON.stringify(r, null, 2) : printChange(r));
}

export function nodesCommand(): Command {
  const cmd = apiFlags(
    new Command('nodes').description('list registered node agents (the pool: cluster "pool")').option('--cluster <name>', 'only this cluster ("pool": nodes in no cluster)').option('--pool', 'only the pool'),
  ).action(async (opts: Opts & { cluster?: string; pool?: boolean }) => {
    const api = new ApiClient(opts);
    const cluster = opts.pool ? 'pool' : opts.cluster;
    const { nodes } = await api.get<{ nodes: NodeOut[] }>(`/v1/nodes${cluster ? `?cluster=${encodeURIComponent(cluster)}` : ''}`);
    if (opts.json) return console.log(JSON.stringify(nodes, null, 2));
    if (nodes.length === 0) return console.log(cluster === 'pool' ? 'the pool is empty' : 'no nodes registered');
    console.log(
      table(
        ['CLUSTER', 'NODE', 'ROLE', 'ZONE', 'STATUS', 'ADDRESS', 'AGENT', 'REGISTERED', 'LAST SAMPLE'],
        nodes.map((n) => [n.cluster === n.home ? n.cluster : `${n.cluster} (from pool)`, n.node, n.role || '-', n.zone || '-', n.status, n.address || '-', n.agentVersion || '-', ago(n.registeredAt), ago(n.lastSeen)]),
      ),
    );
  });
  for (const verb of ['authorize', 'revoke'] as const) {
    cmd.addCommand(
      apiFlags(new Command(verb).description(`${verb} a node agent (cluster "pool" for a pool node)`).argument('<cluster>').argument('<node>')).action(
        async (cluster: string, node: string, _opts: unknown, sub: Command) => {
          // The parent `nodes` command also declares --server/--token/--json and claims them when
          // they come after the subcommand; read both levels.
          const opts = sub.optsWithGlobals<{ server?: string; token?: string; json?: boolean }>();
          const api = new ApiClient(opts);
          const res = await api.post<{ node: NodeOut }>(`/v1/nodes/${encodeURIComponent(cluster)}/${encodeURIComponent(node)}/${verb}`);
          console.log(opts.json ? JSON.stringify(res.node, null, 2) : `${cluster}/${node}: ${res.node.status}`);
        },
      ),
    );
  }
  cmd.addCommand(
    apiFlags(
      new Command('attach')
        .description('attach pool nodes to a cluster: preflight on every node, then (control plane) etcd formed or grown over TLS')
        .argument('<nodes...>')
        .requiredOption('--cluster <name>', 'the cluster')
        .requiredOption('--role <role>', 'control-plane or worker')
        .option('--dry-run', 'print the plan only'),
    ).action(async (nodes: string[], _opts: unknown, sub: Command) => {
      const opts = sub.optsWithGlobals<Opts & { cluster: string; role: string }>();
      await planThenChange(new ApiClient(opts), `/v1/clusters/${encodeURIComponent(opts.cluster)}/attach`, { nodes, role: opts.role }, opts);
    }),
  );
  cmd.addCommand(
    apiFlags(
      new Command('detach')
        .description('detach nodes back to the pool: a control-plane member only while quorum holds, a worker drained first')
        .argument('<nodes...>')
        .requiredOption('--cluster <name>', 'the cluster')
        .option('--dry-run', 'print the plan only'),
    ).action(async (nodes: string[], _opts: unknown, sub: Command) => {
      const opts = sub.optsWithGlobals<Opts & { cluster: string }>();
      await planThenChange(new ApiClient(opts), `/v1/clusters/${encodeURIComponent(opts.cluster)}/detach`, { nodes }, opts);
    }),
  );
  cmd.addCommand(
    apiFlags(new Command('join-token').description('make a new fleet join token (agents with agent.cluster: pool join the pool); printed once')).action(async (_opts: unknown, sub: Command) => {
      const opts = sub.optsWithGlobals<Opts>();
      const r = await new ApiClient(opts).post<{ joinToken: string }>('/v1/pool/join-token');
      console.log(opts.json ? JSON.stringify(r, null, 2) : r.joinToken);
    }),
  );
  return cmd;
}
