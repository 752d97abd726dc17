// `whistle etcd init|join|info|remove|reset|snapshot|restore|preflight`: the etcd bootstrap engine
// through the Whistle API. Every changing command prints its plan first (a dry run of the same
// request) and stops there with --dry-run.
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { table } from '../table.ts';
import type { EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import { formatPlan, type OperationResult } from '../../bootstrap/etcd/plan.ts';
import { formatPreflight, type PreflightReport } from '../../bootstrap/preflight/preflight.ts';

type Opts = { server?: string; token?: string; json?: boolean; dryRun?: boolean };

function bytes(n: number | null): string {
  if (n === null) return '-';
  return n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

export function printInfo(info: EtcdInfo): string {
  const head = `cluster ${info.cluster}: ${info.quorum ? 'quorum' : 'NO QUORUM'}, leader ${info.leader ?? '-'}, revision ${info.revision ?? '-'}`;
  const members = info.members.length
    ? table(
        ['MEMBER', 'ID', 'NODE', 'CLIENT URL', 'ROLE', 'HEALTH', 'DB SIZE', 'RAFT INDEX'],
        info.members.map((m) => [m.name || '(not started)', m.id, m.node ?? '-', m.clientURL || '-', m.isLeader ? 'leader' : m.isLearner ? 'learner' : 'follower', m.healthy ? 'healthy' : `unhealthy: ${m.error ?? '?'}`, bytes(m.dbSize), m.raftIndex ?? '-']),
      )
    : 'no member answered';
  const nodes = table(['NODE', 'ADDRESS', 'ROLE', 'AGENT', 'MEMBER'], info.nodes.map((n) => [n.node, n.address, n.role, n.agentAlive ? 'up' : 'gone', n.member ?? '-']));
  return [head, '', members, '', nodes].join('\n');
}

/** Prints the plan (dry run), then, unless --dry-run, runs the operation and prints its outcome. */
async function planThenAct(api: ApiClient, path: string, body: Record<string, unknown>, opts: Opts): Promise<void> {
  const dry = await api.post<OperationResult>(path, { ...body, dryRun: true });
  if (opts.json && opts.dryRun) return console.log(JSON.stringify(dry, null, 2));
  console.log(formatPlan(dry.plan));
  if (opts.dryRun) return console.log('dry run: nothing changed');
  const r = await api.post<OperationResult>(path, body);
  if (opts.json) return console.log(JSON.stringify(r, null, 2));
  console.log(r.changed ? `done: ${r.op} ${r.cluster}` : `nothing to do: ${r.plan.summary}`);
  if (r.after && typeof r.after === 'object' && 'members' in (r.after as object)) console.log(`\n${printInfo(r.after as EtcdInfo)}`);
}

export function etcdCommand(): Command {
  const cmd = new Command('etcd').description('install, inspect, back up and restore managed etcd clusters');
  const withFlags = (c: Command) => apiFlags(c).option('--dry-run', 'print the plan only');
  const enc = encodeURIComponent;

  cmd.addCommand(
    apiFlags(new Command('info').description('members, health of each, leader, DB size, revision').argument('<cluster>')).action(async (cluster: string, opts: Opts) => {
      const { info } = await new ApiClient(opts).get<{ info: EtcdInfo }>(`/v1/etcd/${enc(cluster)}/info`);
      console.log(opts.json ? JSON.stringify(info, null, 2) : printInfo(info));
    }),
  );
  cmd.addCommand(
    withFlags(new Command('init').description('start a new cluster with its first member').argument('<cluster>').option('--node <node>', 'the first member (default: the first node with role member)')).action(
      async (cluster: string, opts: Opts & { node?: string }) => planThenAct(new ApiClient(opts), `/v1/etcd/${enc(cluster)}/init`, opts.node ? { node: opts.node } : {}, opts),
    ),
  );
  cmd.addCommand(
    withFlags(new Command('join').description('add a node as a member (learner, start, promote)').argument('<cluster>').argument('<node>').option('--via <node>', 'join through this member')).action(
      async (cluster: string, node: string, opts: Opts & { via?: string }) => planThenAct(new ApiClient(opts), `/v1/etcd/${enc(cluster)}/join`, { node, ...(opts.via ? { via: opts.via } : {}) }, opts),
    ),
  );
  for (const [name, what] of [
    ['remove', 'remove a node\'s member from the cluster and stop it'],
    ['reset', 'leave the cluster and clean the node\'s etcd data'],
  ] as const) {
    cmd.addCommand(
      withFlags(new Command(name).description(what).argument('<cluster>').argument('<node>')).action(async (cluster: string, node: string, opts: Opts) =>
        planThenAct(new ApiClient(opts), `/v1/etcd/${enc(cluster)}/${name}`, { node }, opts),
      ),
    );
  }
  const snapshot = withFlags(new Command('snapshot').description('save a snapshot now (verified; retention applied)').argument('<cluster>')).action(async (cluster: string, opts: Opts) =>
    planThenAct(new ApiClient(opts), `/v1/etcd/${enc(cluster)}/snapshot`, {}, opts),
  );
  snapshot.addCommand(
    apiFlags(new Command('list').description('snapshots kept').argument('<cluster>')).action(async (cluster: string, opts: Opts) => {
      const { snapshots } = await new ApiClient(opts).get<{ snapshots: { file: string; node: string; revision: number; ts: number }[] }>(`/v1/etcd/${enc(cluster)}/snapshots`);
      if (opts.json) return console.log(JSON.stringify(snapshots, null, 2));
      console.log(snapshots.length ? table(['FILE', 'FROM', 'REVISION', 'TAKEN'], snapshots.map((s) => [s.file, s.node, s.revision, new Date(s.ts).toISOString()])) : 'no snapshots');
    }),
  );
  cmd.addCommand(snapshot);
  cmd.addCommand(
    withFlags(
      new Command('restore')
        .description('a new cluster from a snapshot (the way out of a lost quorum)')
        .argument('<cluster>')
        .option('--snapshot <file>', 'snapshot file (default: the newest that verifies)')
        .option('--nodes <list>', 'comma-separated nodes for the new cluster (default: member nodes with live agents)'),
    ).action(async (cluster: string, opts: Opts & { snapshot?: string; nodes?: string }) =>
      planThenAct(new ApiClient(opts), `/v1/etcd/${enc(cluster)}/restore`, { ...(opts.snapshot ? { snapshot: opts.snapshot } : {}), ...(opts.nodes ? { nodes: opts.nodes.split(',').map((s) => s.trim()).filter(Boolean) } : {}) }, opts),
    ),
  );
  cmd.addCommand(
    apiFlags(new Command('preflight').description('ports free and peers reachable, on every node at once').argument('<cluster>').option('--nodes <list>', 'only these nodes')).action(
      async (cluster: string, opts: Opts & { nodes?: string }) => {
        const { report } = await new ApiClient(opts).post<{ report: PreflightReport }>(`/v1/etcd/${enc(cluster)}/preflight`, opts.nodes ? { nodes: opts.nodes.split(',') } : {});
        console.log(opts.json ? JSON.stringify(report, null, 2) : formatPreflight(report));
        if (!report.ok) process.exitCode = 1;
      },
    ),
  );
  return cmd;
}
