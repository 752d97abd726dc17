// `whistle remediation`: stop and restart automatic remediation per cluster. A pause is recorded
// (the actions table), so it holds across restarts until someone resumes.
//   whistle remediation status              every cluster: paused or not, by whom, since when
//   whistle remediation pause CLUSTER [--reason TEXT]
//   whistle remediation resume CLUSTER [--reason TEXT]
//   whistle remediation plan [CLUSTER] [--no-record]   the whole chain each active incident would get
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, table } from '../table.ts';
import type { ChainPlan } from '../../remediators/plan.ts';
import type { PauseState } from '../../remediators/policy/pause.ts';

type Opts = { server?: string; token?: string; json?: boolean; reason?: string; record?: boolean };

function change(action: 'pause' | 'resume'): Command {
  return apiFlags(
    new Command(action)
      .description(action === 'pause' ? 'stop automatic remediation on a cluster (plans and records only what it would do)' : 'let remediation act on a cluster again')
      .argument('<cluster>', 'cluster name')
      .option('--reason <text>', 'why (recorded with it)'),
  ).action(async (cluster: string, opts: Opts) => {
    const api = new ApiClient(opts);
    const { state } = await api.post<{ state: PauseState }>(`/v1/remediation/${encodeURIComponent(cluster)}/${action}`, opts.reason ? { reason: opts.reason } : {});
    console.log(opts.json ? JSON.stringify(state, null, 2) : `remediation on ${cluster}: ${state.paused ? 'paused' : 'active'} (${state.reason})`);
  });
}

export function remediationCommand(): Command {
  // The flags are the subcommands' own: on the parent too, commander would take them from every subcommand.
  const cmd = new Command('remediation').description('pause or resume automatic remediation per cluster, or print the chains it would run');
  cmd.addCommand(
    apiFlags(new Command('status').description('every cluster: remediation paused or active, by whom, since when')).action(async (opts: Opts) => {
      const api = new ApiClient(opts);
      const { clusters } = await api.get<{ clusters: PauseState[] }>('/v1/remediation');
      if (opts.json) return console.log(JSON.stringify(clusters, null, 2));
      console.log(table(['CLUSTER', 'REMEDIATION', 'BY', 'SINCE', 'REASON'], clusters.map((c) => [c.cluster, c.paused ? 'paused' : 'active', c.actor || '-', c.since ? ago(c.since) : '-', c.reason || '-'])));
    }),
  );
  cmd.addCommand(
    apiFlags(
      new Command('plan')
        .description('dry run: every step the escalation chain would still take for each active incident, then the person at the end; changes nothing, records the plan')
        .argument('[cluster]', 'only this cluster')
        .option('--no-record', 'print only; do not record the plan in the actions table'),
    ).action(async (cluster: string | undefined, opts: Opts) => {
      const api = new ApiClient(opts);
      const { plans } =
        opts.record === false
          ? await api.get<{ plans: ChainPlan[] }>(`/v1/remediation/plan${cluster ? `?cluster=${encodeURIComponent(cluster)}` : ''}`)
          : await api.post<{ plans: ChainPlan[] }>('/v1/remediation/plan', cluster ? { cluster } : {});
      if (opts.json) return console.log(JSON.stringify(plans, null, 2));
      if (plans.length === 0) return console.log(`no active incident${cluster ? ` on ${cluster}` : ''}: nothing would be done`);
      console.log(plans.map((p) => p.text).join('\n\n'));
      if (opts.record !== false) console.log(`\n(recorded as ${plans.length} dry-run action${plans.length === 1 ? '' : 's'}, each in its incident: whistle incidents show ID)`);
    }),
  );
  cmd.addCommand(change('pause'));
  cmd.addCommand(change('resume'));
  return cmd;
}
