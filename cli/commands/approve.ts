// `whistle approve <plan>`: a person approves a plan Whistle would not run alone (an etcd restore
// after a lost quorum, a Deployment's rollback after a restart storm). Without an id it lists the plans awaiting approval. `--reject` refuses one.
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, table } from '../table.ts';
import type { ProposedPlan } from '../../remediators/policy/approvals.ts';

export function approveCommand(): Command {
  return apiFlags(
    new Command('approve')
      .description('approve a remediation plan awaiting approval (no id: list them)')
      .argument('[plan]', 'plan id (see `whistle approve`)')
      .option('--comment <text>', 'why (recorded with the approval)')
      .option('--reject <reason>', 'reject the plan instead'),
  ).action(async (id: string | undefined, opts: { server?: string; token?: string; json?: boolean; comment?: string; reject?: string }) => {
    const api = new ApiClient(opts);
    if (!id) {
      const { plans } = await api.get<{ plans: ProposedPlan[] }>('/v1/plans?state=awaiting_approval');
      if (opts.json) return console.log(JSON.stringify(plans, null, 2));
      if (plans.length === 0) return console.log('no plans awaiting approval');
      console.log(table(['PLAN', 'CLUSTER', 'KIND', 'INCIDENT', 'PROPOSED'], plans.map((p) => [p.id, p.cluster, p.kind, p.incidentId, ago(p.createdAt)])));
      return;
    }
    const { plan } = await api.get<{ plan: ProposedPlan }>(`/v1/plans/${encodeURIComponent(id)}`);
    console.log(plan.text);
    if (opts.reject !== undefined) {
      const r = await api.post<{ plan: ProposedPlan }>(`/v1/plans/${encodeURIComponent(id)}/reject`, { reason: opts.reject });
      return console.log(opts.json ? JSON.stringify(r.plan, null, 2) : `rejected ${id}`);
    }
    const r = await api.post<{ plan: ProposedPlan }>(`/v1/plans/${encodeURIComponent(id)}/approve`, opts.comment ? { comment: opts.comment } : {});
    const follow = r.plan.kind.startsWith('etcd.') ? `whistle etcd info ${r.plan.cluster}` : `whistle incidents show ${r.plan.incidentId}`;
    console.log(opts.json ? JSON.stringify(r.plan, null, 2) : `approved ${id}: ${r.plan.state} (follow with: ${follow})`);
  });
}
