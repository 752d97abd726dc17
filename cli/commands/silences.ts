// `whistle silences`: list; `create` (label matchers, a duration or end time, a comment);
// `expire <id>`. `whistle maintenance`: per-cluster maintenance windows.
import { Command, InvalidArgumentError } from 'commander';
import { InputError } from '../../core/errors.ts';
import { ApiClient, apiFlags } from '../api-client.ts';
import { isoTime, table } from '../table.ts';

interface SilenceOut {
  id: string;
  matchers: { name: string; value: string; regex?: boolean; negate?: boolean }[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  expiredBy?: string;
}

interface WindowOut {
  id: string;
  cluster: string;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

type Flags = { server?: string; token?: string; json?: boolean };

/** "name=value", "name!=value", "name=~regex", "name!~regex" (Alertmanager's amtool syntax). */
export function parseMatcher(text: string, previous: SilenceOut['matchers'] = []): SilenceOut['matchers'] {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*)(=~|!~|!=|=)(.*)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`);
  const [, name, op, value] = m;
  return [...previous, { name: name!, value: value!.replace(/^"(.*)"$/, '$1'), ...(op!.includes('~') ? { regex: true } : {}), ...(op!.startsWith('!') ? { negate: true } : {}) }];
}

/** "90m", "2h", "1d", "30s" to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`duration "${text}": expected a number and s, m, h or d (e.g. 2h)`);
  return Math.round(Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']);
}

function matcherText(m: SilenceOut['matchers'][number]): string {
  return `${m.name}${m.negate ? '!' : ''}${m.regex ? '=~' : '='}${m.value}`;
}

export function silencesCommand(): Command {
  const cmd = apiFlags(new Command('silences').description('list silences').option('--all', 'include expired silences')).action(async (opts: Flags & { all?: boolean }) => {
    const { silences } = await new ApiClient(opts).get<{ silences: SilenceOut[] }>(`/v1/silences${opts.all ? '' : '?active=true'}`);
    if (opts.json) return console.log(JSON.stringify(silences, null, 2));
    if (silences.length === 0) return console.log(opts.all ? 'no silences' : 'no active silences');
    console.log(table(['ID', 'MATCHERS', 'ENDS', 'BY', 'COMMENT'], silences.map((s) => [s.id, s.matchers.map(matcherText).join(' '), isoTime(s.endsAt), s.createdBy, s.comment])));
  });

  cmd.addCommand(
    apiFlags(
      new Command('create')
        .description('silence incidents matching every matcher (cluster, detector, subject, severity or a label)')
        .requiredOption('-m, --matcher <matcher>', 'name=value, name!=value, name=~regex (repeatable)', parseMatcher)
        .option('--duration <d>', 'how long, e.g. 2h', parseDuration)
        .option('--until <time>', 'end time (ISO 8601)')
        .requiredOption('-c, --comment <text>', 'why'),
    ).action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags & { matcher: SilenceOut['matchers']; duration?: number; until?: string; comment: string }>();
      if (opts.duration === undefined && !opts.until) throw new InputError('silences create: give --duration or --until');
      const body = { matchers: opts.matcher, comment: opts.comment, ...(opts.until ? { endsAt: opts.until } : { durationMs: opts.duration }) };
      const { silence } = await new ApiClient(opts).post<{ silence: SilenceOut }>('/v1/silences', body);
      console.log(opts.json ? JSON.stringify(silence, null, 2) : `${silence.id}: silenced until ${isoTime(silence.endsAt)}`);
    }),
  );

  cmd.addCommand(
    apiFlags(new Command('expire').description('end a silence now').argument('<id>')).action(async (id: string, _o: Flags, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      const { silence } = await new ApiClient(opts).delete<{ silence: SilenceOut }>(`/v1/silences/${encodeURIComponent(id)}`);
      console.log(opts.json ? JSON.stringify(silence, null, 2) : `${silence.id}: expired at ${isoTime(silence.endsAt)}`);
    }),
  );
  return cmd;
}

export function maintenanceCommand(): Command {
  const cmd = apiFlags(new Command('maintenance').description('list maintenance windows').option('--cluster <name>', 'only this cluster').option('--all', 'include past windows')).action(
    async (opts: Flags & { cluster?: string; all?: boolean }) => {
      const q = new URLSearchParams();
      if (!opts.all) q.set('active', 'true');
      if (opts.cluster) q.set('cluster', opts.cluster);
      const { maintenance } = await new ApiClient(opts).get<{ maintenance: WindowOut[] }>(`/v1/maintenance?${q}`);
      if (opts.json) return console.log(JSON.stringify(maintenance, null, 2));
      if (maintenance.length === 0) return console.log('no maintenance windows');
      console.log(table(['ID', 'CLUSTER', 'START', 'END', 'BY', 'COMMENT'], maintenance.map((w) => [w.id, w.cluster, isoTime(w.startsAt), isoTime(w.endsAt), w.createdBy, w.comment])));
    },
  );
  cmd.addCommand(
    apiFlags(
      new Command('create')
        .description('no notifications and no remediation for a cluster during a window')
        // Not a requiredOption: the parent's --cluster (a list filter) may have taken the value.
        .option('--cluster <name>', 'the cluster (required)')
        .option('--start <time>', 'start (ISO 8601; default now)')
        .option('--end <time>', 'end (ISO 8601)')
        .option('--duration <d>', 'or how long from the start, e.g. 2h', parseDuration)
        .requiredOption('-c, --comment <text>', 'why'),
    ).action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags & { cluster?: string; start?: string; end?: string; duration?: number; comment: string }>();
      if (!opts.cluster) throw new InputError('maintenance create: --cluster is required');
      const start = opts.start ? Date.parse(opts.start) : Date.now();
      if (Number.isNaN(start)) throw new InputError(`maintenance create: --start "${opts.start}": not an ISO 8601 time`);
      const end = opts.end ?? (opts.duration !== undefined ? start + opts.duration : undefined);
      if (end === undefined) throw new InputError('maintenance create: give --end or --duration');
      const { maintenance } = await new ApiClient(opts).post<{ maintenance: WindowOut }>('/v1/maintenance', { cluster: opts.cluster, start, end, comment: opts.comment });
      console.log(opts.json ? JSON.stringify(maintenance, null, 2) : `${maintenance.id}: ${maintenance.cluster} in maintenance ${isoTime(maintenance.startsAt)} - ${isoTime(maintenance.endsAt)}`);
    }),
  );
  cmd.addCommand(
    apiFlags(new Command('expire').description('end a maintenance window now').argument('<id>')).action(async (id: string, _o: Flags, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      const { maintenance } = await new ApiClient(opts).delete<{ maintenance: WindowOut }>(`/v1/maintenance/${encodeURIComponent(id)}`);
      console.log(opts.json ? JSON.stringify(maintenance, null, 2) : `${maintenance.id}: ended at ${isoTime(maintenance.endsAt)}`);
    }),
  );
  return cmd;
}
