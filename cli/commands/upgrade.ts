// `whistle upgrade`: roll a stack release out to a cluster, node by node, inside its maintenance windows.
//   whistle upgrade plan CLUSTER --to RELEASE     the order, what each node gets, PDBs, refusals
//   whistle upgrade start CLUSTER --to RELEASE
//   whistle upgrade status [ROLLOUT] [--cluster C]
//   whistle upgrade pause|resume|abort ROLLOUT [--reason TEXT]
//   whistle upgrade windows [--cluster C]
//   whistle upgrade window add CLUSTER --start HH:MM --end HH:MM [--days mon,tue] [--tz Europe/Berlin]
//   whistle upgrade window rm ID
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, isoTime, table } from '../table.ts';
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import type { StoredWindow } from '../../bootstrap/upgrade/window-store.ts';
import type { UpgradePlan } from '../../bootstrap/upgrade/plan.ts';

type Opts = { server?: string; token?: string; json?: boolean; to?: string; reason?: string; cluster?: string; start?: string; end?: string; days?: string; tz?: string; comment?: string };
type WindowState = { cluster: string; open: boolean; closesAt: number | null; nextOpening: number | null; windows: number };

const windowLine = (w: WindowState) =>
  w.windows === 0 && w.open ? 'no window configured: any time' : w.open ? `open${w.closesAt ? ` until ${isoTime(w.closesAt)}` : ''}` : `closed${w.nextOpening ? `, opens ${isoTime(w.nextOpening)}` : ''}`;

function printRollout(r: Rollout, w?: WindowState): void {
  console.log(`${r.id}  ${r.cluster}  ${r.fromRelease ?? '?'} -> ${r.release}  ${r.state}  (${r.reason})${w ? `\n  window: ${windowLine(w)}` : ''}`);
  console.log(table(['NODE', 'PHASE', 'REACHED', 'UPDATED', 'REASON'], r.nodes.map((n) => [n.node, n.phase, n.reached, n.updatedAt ? ago(n.updatedAt) : '-', n.reason || '-'])));
}

function target(name: 'plan' | 'start', what: string): Command {
  return apiFlags(new Command(name).description(what).argument('<cluster>', 'cluster name').requiredOption('--to <release>', 'the release to upgrade to')).action(async (cluster: string, opts: Opts) => {
    const api = new ApiClient(opts);
    if (name === 'plan') {
      const res = await api.post<{ plan: UpgradePlan; text: string; window: WindowState }>('/v1/upgrades/plan', { cluster, release: opts.to });
      if (opts.json) return console.log(JSON.stringify(res, null, 2));
      console.log(`${res.text}\n  window: ${windowLine(res.window)}`);
      if (res.plan.refusals.length > 0) process.exitCode = 1;
      return;
    }
    const res = await api.post<{ rollout: Rollout; window: WindowState }>('/v1/upgrades', { cluster, release: opts.to });
    if (opts.json) return console.log(JSON.stringify(res, null, 2));
    printRollout(res.rollout, res.window);
  });
}

function change(action: 'pause' | 'resume' | 'abort', what: string): Command {
  return apiFlags(new Command(action).description(what).argument('<rollout>', 'rollout id').option('--reason <text>', 'why (recorded with it)')).action(async (id: string, opts: Opts) => {
    const { rollout } = await new ApiClient(opts).post<{ rollout: Rollout }>(`/v1/upgrades/${encodeURIComponent(id)}/${action}`, opts.reason ? { reason: opts.reason } : {});
    if (opts.json) return console.log(JSON.stringify(rollout, null, 2));
    printRollout(rollout);
  });
}

export function upgradeCommand(): Command {
  const cmd = new Command('upgrade').description('roll a stack release out to a cluster, node by node, inside its maintenance windows');
  cmd.addCommand(target('plan', 'print the order, what each node gets, the PDBs and single-replica workloads affected, and any refusal'));
  cmd.addCommand(target('start', 'start a rollout (refused with the reason when the plan is)'));
  cmd.addCommand(
    apiFlags(new Command('status').description('one rollout, or every rollout').argument('[rollout]', 'rollout id').option('--cluster <name>', 'only this cluster')).action(async (id: string | undefined, opts: Opts) => {
      const api = new ApiClient(opts);
      if (id) {
        const res = await api.get<{ rollout: Rollout; window: WindowState }>(`/v1/upgrades/${encodeURIComponent(id)}`);
        if (opts.json) return console.log(JSON.stringify(res, null, 2));
        return printRollout(res.rollout, res.window);
      }
      const { rollouts } = await api.get<{ rollouts: Rollout[] }>(`/v1/upgrades${opts.cluster ? `?cluster=${encodeURIComponent(opts.cluster)}` : ''}`);
      if (opts.json) return console.log(JSON.stringify(rollouts, null, 2));
      console.log(table(['ROLLOUT', 'CLUSTER', 'RELEASE', 'STATE', 'DONE', 'STARTED', 'REASON'], rollouts.map((r) => [r.id, r.cluster, r.release, r.state, `${r.nodes.filter((n) => n.phase === 'done').length}/${r.nodes.length}`, ago(r.createdAt), r.reason])));
    }),
  );
  cmd.addCommand(change('pause', 'stop before the next node (a node already started finishes)'));
  cmd.addCommand(change('resume', 'continue a paused or failed rollout (a failed node is retried from where it stopped)'));
  cmd.addCommand(change('abort', 'stop for good; nodes not started are left as they are'));
  cmd.addCommand(
    apiFlags(new Command('windows').description('recurring maintenance windows, and whether each cluster\'s is open now').option('--cluster <name>', 'only this cluster')).action(async (opts: Opts) => {
      const res = await new ApiClient(opts).get<{ windows: StoredWindow[]; state: WindowState[] }>(`/v1/upgrades/windows${opts.cluster ? `?cluster=${encodeURIComponent(opts.cluster)}` : ''}`);
      if (opts.json) return console.log(JSON.stringify(res, null, 2));
      console.log(table(['ID', 'CLUSTER', 'DAYS', 'START', 'END', 'ZONE', 'SOURCE'], res.windows.map((w) => [w.id, w.cluster, w.days.join(','), w.start, w.end, w.timeZone, w.source])));
      for (const s of res.state) console.log(`${s.cluster}: ${windowLine(s)}`);
    }),
  );
  const window = new Command('window').description('add or remove a recurring maintenance window');
  window.addCommand(
    apiFlags(
      new Command('add')
        .argument('<cluster>', 'cluster name')
        .requiredOption('--start <HH:MM>', 'local start time')
        .requiredOption('--end <HH:MM>', 'local end time (after the start)')
        .option('--days <list>', 'comma-separated days (mon,tue,...); default every day')
        .option('--tz <zone>', 'IANA time zone', 'UTC')
        .option('--comment <text>', 'why'),
    ).action(async (cluster: string, opts: Opts) => {
      const body = { cluster, start: opts.start, end: opts.end, timeZone: opts.tz, ...(opts.days ? { days: opts.days.split(',').map((d) => d.trim().toLowerCase()) } : {}), ...(opts.comment ? { comment: opts.comment } : {}) };
      const res = await new ApiClient(opts).post<{ window: StoredWindow; state: WindowState }>('/v1/upgrades/windows', body);
      console.log(opts.json ? JSON.stringify(res, null, 2) : `${res.window.id}: ${cluster} ${res.window.days.join(',')} ${res.window.start}-${res.window.end} ${res.window.timeZone}; ${windowLine(res.state)}`);
    }),
  );
  window.addCommand(
    apiFlags(new Command('rm').argument('<id>', 'window id')).action(async (id: string, opts: Opts) => {
      const res = await new ApiClient(opts).delete<{ deleted: StoredWindow }>(`/v1/upgrades/windows/${encodeURIComponent(id)}`);
      console.log(opts.json ? JSON.stringify(res, null, 2) : `deleted ${res.deleted.id}`);
    }),
  );
  cmd.addCommand(window);
  return cmd;
}
