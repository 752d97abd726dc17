// `whistle clusters create|list|show|delete|join-token|kubeconfig`: managed clusters through the
// Whistle API. A join token is printed once, when it is made; a kubeconfig is read from a file and
// sent, never printed back.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { ChangeResult, ClusterDetail, FleetNodeView } from '../../bootstrap/fleet/fleet.ts';
import type { Placement } from '../../bootstrap/fleet/placement.ts';
import type { ClusterView } from '../../core/clusters/catalog.ts';
import { InputError } from '../../core/errors.ts';
import { ApiClient, apiFlags } from '../api-client.ts';
import { clustersTable, printChange, printDetail, printPlacement } from './fleet-output.ts';

type Opts = { server?: string; token?: string; json?: boolean; dryRun?: boolean };
const enc = encodeURIComponent;
/** Forming a control plane of a few etcd members takes a while; give it time. */
const CHANGE_TIMEOUT_MS = 10 * 60_000;

function readKubeconfig(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`--kubeconfig ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

function port(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InputError(`${flag} ${v}: must be a port number (1-65535)`);
    return n;
  };
}

export function clustersCommand(): Command {
  const cmd = new Command('clusters').description('managed clusters: create, list, show, delete');
  const sub = (c: Command) => apiFlags(c);

  cmd.addCommand(
    sub(
      new Command('create')
        .description('create a cluster (empty, or with --control-plane N pool nodes spread across zones); prints its join token once')
        .argument('<name>')
        .option('--kubeconfig <file>', 'Kubernetes access for watching, the proxy and drains (stored sealed, never shown again)')
        .option('--context <name>', 'the kubeconfig context to use')
        .option('--control-plane <n>', 'attach this many pool nodes as the control plane, in distinct zones where the pool has them', (v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 7) throw new InputError(`--control-plane ${v}: must be a whole number from 1 to 7`);
          return n;
        })
        .option('--etcd-client-port <port>', 'etcd client port on its control-plane nodes (default 2379)', port('--etcd-client-port'))
        .option('--etcd-peer-port <port>', 'etcd peer port (default 2380)', port('--etcd-peer-port'))
        .option('--dry-run', 'print the placement only'),
    ).action(async (name: string, opts: Opts & { kubeconfig?: string; context?: string; controlPlane?: number; etcdClientPort?: number; etcdPeerPort?: number }) => {
      const api = new ApiClient(opts);
      const body = {
        name,
        ...(opts.kubeconfig ? { kubeconfig: readKubeconfig(opts.kubeconfig) } : {}),
        ...(opts.context ? { context: opts.context } : {}),
        ...(opts.controlPlane ? { controlPlane: opts.controlPlane } : {}),
        ...(opts.etcdClientPort ? { clientPort: opts.etcdClientPort } : {}),
        ...(opts.etcdPeerPort ? { peerPort: opts.etcdPeerPort } : {}),
      };
      if (opts.dryRun) {
        const r = await api.post<{ placement: Placement | null }>('/v1/clusters', { ...body, dryRun: true });
        if (opts.json) return console.log(JSON.stringify(r, null, 2));
        console.log(r.placement ? printPlacement(r.placement) : `cluster ${name} can be created`);
        return console.log('dry run: nothing changed');
      }
      const r = await api.request<{ cluster: ClusterView; joinToken: string; placement: Placement | null; attach: ChangeResult | null; attachError?: string }>('POST', '/v1/clusters', body, CHANGE_TIMEOUT_MS);
      if (opts.json) return console.log(JSON.stringify(r, null, 2));
      console.log(`cluster ${r.cluster.name} created`);
      console.log(`join token (shown once; rotate with whistle clusters join-token ${r.cluster.name}): ${r.joinToken}`);
      if (r.placement) console.log(printPlacement(r.placement));
      if (r.attach) console.log(printChange(r.attach));
      if (r.attachError) {
        console.error(`whistle: ${r.attachError}\n(the cluster exists; attach its control plane with whistle nodes attach ... --cluster ${r.cluster.name} --role control-plane)`);
        process.exitCode = 1;
      }
    }),
  );

  cmd.addCommand(
    sub(new Command('list').description('the managed clusters')).action(async (opts: Opts) => {
      const api = new ApiClient(opts);
      const { clusters } = await api.get<{ clusters: ClusterView[] }>('/v1/clusters');
      if (opts.json) return console.log(JSON.stringify(clusters, null, 2));
      if (clusters.length === 0) return console.log('no clusters');
      const { nodes } = await api.get<{ nodes: FleetNodeView[] }>('/v1/nodes');
      const counts = new Map<string, number>();
      for (const n of nodes) counts.set(n.cluster, (counts.get(n.cluster) ?? 0) + 1);
      console.log(clustersTable(clusters, counts));
    }),
  );

  cmd.addCommand(
    sub(new Command('show').description('one cluster: its nodes, roles, zones and etcd').argument('<name>')).action(async (name: string, opts: Opts) => {
      const d = await new ApiClient(opts).get<ClusterDetail>(`/v1/clusters/${enc(name)}`);
      console.log(opts.json ? JSON.stringify(d, null, 2) : printDetail(d));
    }),
  );

  cmd.addCommand(
    sub(new Command('delete').description('delete a cluster that has no nodes left').argument('<name>')).action(async (name: string, opts: Opts) => {
      await new ApiClient(opts).delete(`/v1/clusters/${enc(name)}`);
      console.log(`cluster ${name} deleted`);
    }),
  );

  cmd.addCommand(
    sub(new Command('join-token').description('make a new join token for a cluster (the old one stops working); printed once').argument('<name>')).action(async (name: string, opts: Opts) => {
      const r = await new ApiClient(opts).post<{ joinToken: string }>(`/v1/clusters/${enc(name)}/join-token`);
      console.log(opts.json ? JSON.stringify(r, null, 2) : r.joinToken);
    }),
  );

  cmd.addCommand(
    sub(new Command('kubeconfig').description('give (or replace) a cluster\'s Kubernetes access').argument('<name>').requiredOption('--kubeconfig <file>', 'the kubeconfig file').option('--context <name>', 'its context to use')).action(
      async (name: string, opts: Opts & { kubeconfig: string; context?: string }) => {
        await new ApiClient(opts).put(`/v1/clusters/${enc(name)}/kubeconfig`, { kubeconfig: readKubeconfig(opts.kubeconfig), ...(opts.context ? { context: opts.context } : {}) });
        console.log(`cluster ${name}: Kubernetes access set; its watchers start now`);
      },
    ),
  );
  return cmd;
}

