// `whistle nodes`: registered agents and their state; `authorize` / `revoke` change it.
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, table } from '../table.ts';

interface NodeOut {
  cluster: string;
  node: string;
  status: string;
  address: string;
  agentVersion: string;
  registeredAt: number;
  lastSeen: number | null;
}

export function nodesCommand(): Command {
  const cmd = apiFlags(new Command('nodes').description('list registered node agents').option('--cluster <name>', 'only this cluster')).action(
    async (opts: { server?: string; token?: string; json?: boolean; cluster?: string }) => {
      const api = new ApiClient(opts);
      const { nodes } = await api.get<{ nodes: NodeOut[] }>(`/v1/nodes${opts.cluster ? `?cluster=${encodeURIComponent(opts.cluster)}` : ''}`);
      if (opts.json) return console.log(JSON.stringify(nodes, null, 2));
      if (nodes.length === 0) return console.log('no nodes registered');
      console.log(
        table(
          ['CLUSTER', 'NODE', 'STATUS', 'ADDRESS', 'AGENT', 'REGISTERED', 'LAST SAMPLE'],
          nodes.map((n) => [n.cluster, n.node, n.status, n.address || '-', n.agentVersion || '-', ago(n.registeredAt), ago(n.lastSeen)]),
        ),
      );
    },
  );
  for (const verb of ['authorize', 'revoke'] as const) {
    cmd.addCommand(
      apiFlags(new Command(verb).description(`${verb} a node agent`).argument('<cluster>').argument('<node>')).action(
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
  return cmd;
}
