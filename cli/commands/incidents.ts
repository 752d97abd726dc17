// `whistle incidents`: list incidents; `whistle incidents show <id>`: one incident with its
// findings, history (transitions, remediation actions, deliveries) and notifications.
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, isoTime, table } from '../table.ts';

interface IncidentOut {
  id: string;
  cluster: string;
  detector: string;
  subject: string;
  severity: string;
  state: string;
  summary: string;
  openedAt: number;
  updatedAt: number;
  resolvedAt?: number;
  evidence: Record<string, unknown>;
  labels: Record<string, string>;
  suppressedBy?: { kind: string; id: string } | null;
}

interface ShowOut {
  incident: IncidentOut;
  findings: { ts: number; severity: string; summary: string }[];
  history: { ts: number; kind: string; state: string; reason: string; actor: string }[];
  notifications: { ts: number; channel: string; kind: string; status: string; attempt: number; error: string }[];
  actions: { ts: number; id: string; kind: string; state: string; reason: string; actor: string; dryRun: boolean }[];
  suppressedBy: { kind: string; id: string; comment: string } | null;
}

type Flags = { server?: string; token?: string; json?: boolean };

export function incidentsCommand(): Command {
  const cmd = apiFlags(
    new Command('incidents')
      
      .description('list incidents (newest first)')
      .option('--cluster <name>', 'only this cluster')
      .option('--detector <id>', 'only this detector')
      .option('--severity <level>', 'info, warning or critical')
      .option('--state <state>', 'open, remediating, awaiting_approval, escalated or resolved')
      .option('--all', 'include resolved incidents (default: active only)')
      .option('--limit <n>', 'at most this many', '100'),
  ).action(async (opts: Flags & { cluster?: string; detector?: string; severity?: string; state?: string; all?: boolean; limit: string }) => {
    const q = new URLSearchParams();
    for (const k of ['cluster', 'detector', 'severity', 'state'] as const) if (opts[k]) q.set(k, opts[k]);
    if (!opts.all && !opts.state) q.set('active', 'true');
    q.set('limit', opts.limit);
    const { incidents } = await new ApiClient(opts).get<{ incidents: IncidentOut[] }>(`/v1/incidents?${q}`);
    if (opts.json) return console.log(JSON.stringify(incidents, null, 2));
    if (incidents.length === 0) return console.log(opts.all ? 'no incidents' : 'no active incidents');
    console.log(
      table(
        ['ID', 'CLUSTER', 'DETECTOR', 'SUBJECT', 'SEVERITY', 'STATE', 'OPENED', 'SUMMARY'],
        incidents.map((i) => [i.id, i.cluster, i.detector, i.subject, i.severity, i.suppressedBy ? `${i.state} (silenced)` : i.state, ago(i.openedAt), i.summary]),
      ),
    );
  });

  cmd.addCommand(
    apiFlags(new Command('show').description('one incident: findings, history, notifications').argument('<id>')).action(async (id: string, _o: Flags, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      const s = await new ApiClient(opts).get<ShowOut>(`/v1/incidents/${encodeURIComponent(id)}`);
      if (opts.json) return console.log(JSON.stringify(s, null, 2));
      const i = s.incident;
      console.log(`${i.id}  [${i.severity}] ${i.state}${s.suppressedBy ? `  (suppressed by ${s.suppressedBy.kind} ${s.suppressedBy.id})` : ''}`);
      console.log(`  ${i.summary}`);
      console.log(`  where:  cluster ${i.cluster}, ${i.subject}  detector ${i.detector}`);
      console.log(`  opened: ${isoTime(i.openedAt)}${i.resolvedAt ? `  resolved: ${isoTime(i.resolvedAt)}` : ''}`);
      const evidence = Object.entries(i.evidence);
      if (evidence.length > 0) {
        console.log('\nEvidence');
        for (const [k, v] of evidence) console.log(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      }
      console.log('\nHistory');
      console.log(table(['TIME', 'KIND', 'STATE', 'BY', 'WHAT'], s.history.map((h) => [isoTime(h.ts), h.kind, h.state || '-', h.actor, h.reason])));
      if (s.actions.length > 0) {
        console.log('\nActions');
        console.log(table(['TIME', 'ACTION', 'KIND', 'STATE', 'BY', 'WHY'], s.actions.map((a) => [isoTime(a.ts), a.id, a.kind, `${a.state}${a.dryRun ? ' (dry run)' : ''}`, a.actor, a.reason])));
      }
      if (s.notifications.length > 0) {
        console.log('\nNotifications');
        console.log(table(['TIME', 'CHANNEL', 'KIND', 'STATUS', 'ATTEMPT', 'ERROR'], s.notifications.map((n) => [isoTime(n.ts), n.channel, n.kind, n.status, n.attempt, n.error || '-'])));
      }
      console.log(`\nFindings (${s.findings.length} recorded changes)`);
      for (const f of s.findings.slice(0, 10)) console.log(`  ${isoTime(f.ts)}  [${f.severity}] ${f.summary}`);
    }),
  );
  return cmd;
}
