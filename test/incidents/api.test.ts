// The operator API through a real Whistle app as `whistle start` builds it: list and show
// incidents, silences and maintenance windows that hold notifications back (and release them when
// they end), clear 4xx for bad input, and the CLI commands against the same server.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Whistle } from '../../app/whistle.ts';
import { parseConfig } from '../../app/config.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { notifyServices } from '../../remediators/notify/services.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { SlackStandin } from '../standins/slack.ts';
import { eventually } from '../notify/helpers.ts';
import { capturedLogger, finding, openStore, report, tempDir } from './helpers.ts';
import { incidentsCommand } from '../../cli/commands/incidents.ts';
import { silencesCommand } from '../../cli/commands/silences.ts';
import { program } from '../../cli/main.ts';
import type { IncidentPort, TicketPort } from '../../remediators/policy/ports.ts';

const OPERATOR = 'operator-token-0123456789abcdef';
const SLACK_TOKEN = 'xoxb-api-test-secret-token';

describe('incidents API', () => {
  const tmp = tempDir('incidents-api');
  const slack = new SlackStandin(SLACK_TOKEN);
  const { log, lines } = capturedLogger();
  let store: ChdbStore;
  let app: Whistle;
  let url = '';

  async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token: string | null = OPERATOR): Promise<{ status: number; body: T }> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  beforeAll(async () => {
    await slack.start();
    store = await openStore(tmp.dir);
    const config = parseConfig({
      server: { host: '127.0.0.1', port: 0, operatorTokens: [{ name: 'alice', token: OPERATOR }] },
      writer: { spoolDir: join(tmp.dir, 'spool') },
      agent: { enabled: false },
      incidents: { refreshMs: 100 },
      notifications: {
        groupWaitMs: 0,
        tickMs: 50,
        retry: { initialMs: 20, maxMs: 200 },
        channels: [{ type: 'slack', id: 'ops', token: SLACK_TOKEN, channel: 'C0OPS', slackApiUrl: slack.url }],
        defaultChannels: ['ops'],
      },
    });
    app = await Whistle.create(config, { store, logger: log });
    url = await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await store?.close();
    await slack.stop();
    tmp.cleanup();
  });

  it('lists and shows incidents with findings, history and notifications', async () => {
    const manager = app.service(incidentServices.manager);
    const notifier = app.service(notifyServices.notifier);
    const t = Date.now();
    await manager.report(report(t, [finding({ subject: 'node-1', severity: 'critical' }, t)]));
    await eventually(() => slack.topLevel().length === 1, 'slack message');
    await notifier.drained();

    const list = await api<{ incidents: { id: string; subject: string; state: string }[] }>('GET', '/v1/incidents?cluster=prod-1&active=true');
    expect(list.status).toBe(200);
    expect(list.body.incidents.map((i) => [i.subject, i.state])).toEqual([['node-1', 'open']]);
    const id = list.body.incidents[0]!.id;
    await eventually(async () => (await api<{ notifications: unknown[] }>('GET', `/v1/incidents/${id}`)).body.notifications.length === 1, 'delivery recorded');
    const shown = await api<{ incident: { id: string }; findings: unknown[]; history: { kind: string }[]; notifications: { channel: string; status: string }[] }>('GET', `/v1/incidents/${id}`);
    expect(shown.body.incident.id).toBe(id);
    expect(shown.body.findings).toHaveLength(1);
    expect(shown.body.history.map((h) => h.kind)).toEqual(['opened', 'notification']);
    expect(shown.body.notifications).toEqual([expect.objectContaining({ channel: 'ops', status: 'delivered' })]);
    // Remediation steps recorded by a remediator (remediators/policy/recorder.ts) show with it.
    await store.insert('actions', [
      { ts: Date.now(), id: 'act-1', incident_id: id, cluster: 'prod-1', subject: 'node-1', kind: 'prune-images', state: 'started', reason: 'disk 96% full', dry_run: 0, actor: 'disk-remediator', detail: '{}' },
      { ts: Date.now() + 5, id: 'act-1', incident_id: id, cluster: 'prod-1', subject: 'node-1', kind: 'prune-images', state: 'succeeded', reason: 'disk 96% full', dry_run: 0, actor: 'disk-remediator', detail: '{"freedBytes":1}' },
    ]);
    const withActions = await api<{ actions: { id: string; state: string; detail: Record<string, unknown> }[] }>('GET', `/v1/incidents/${id}`);
    expect(withActions.body.actions).toEqual([expect.objectContaining({ id: 'act-1', state: 'succeeded', detail: { freedBytes: 1 } })]);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/whistle_notify_delivered_total\{channel="ops",kind="opened"\} 1/);
    expect(metrics).toContain('whistle_notify_failures_total');
    expect(metrics).toMatch(/whistle_incidents_open\{severity="critical"\} 1/);
    expect((await api('GET', '/v1/incidents/inc-missing')).status).toBe(404);
    expect((await api('GET', '/v1/incidents?severity=fatal')).status).toBe(400);
    expect((await api('GET', '/v1/incidents', undefined, null)).status).toBe(401);
  });

  it('a silence holds notifications back while it applies and releases them when expired', async () => {
    const manager = app.service(incidentServices.manager);
    const created = await api<{ silence: { id: string } }>('POST', '/v1/silences', {
      matchers: [{ name: 'subject', value: 'node-s.*', regex: true }, { name: 'cluster', value: 'prod-1' }],
      durationMs: 3_600_000,
      comment: 'disk replacement on node-s*',
    });
    expect(created.status).toBe(201);
    const sid = created.body.silence.id;
    const active = await api<{ silences: { id: string; createdBy: string }[] }>('GET', '/v1/silences?active=true');
    expect(active.body.silences).toEqual([expect.objectContaining({ id: sid, createdBy: 'alice' })]);

    const t = Date.now();
    await manager.report(report(t, [finding({ subject: 'node-1', severity: 'critical' }, t), finding({ subject: 'node-s1' }, t)]));
    const id = manager.current().find((i) => i.subject === 'node-s1')!.id;
    expect(manager.isSuppressed(id)).toBe(true);
    await eventually(async () => (await manager.show(id)).history.some((h) => h.kind === 'notification_suppressed'), 'suppression in history');
    // Several ticks later: still nothing posted for it.
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.topLevel().some((m) => m.text.includes('node-s1'))).toBe(false);

    const expired = await api<{ silence: { endsAt: number; expiredBy: string } }>('DELETE', `/v1/silences/${sid}`);
    expect(expired.status).toBe(200);
    expect(expired.body.silence.expiredBy).toBe('alice');
    expect(manager.isSuppressed(id)).toBe(false);
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-s1')), 'message after silence expired');
  });

  it('a maintenance window suppresses a whole cluster until it ends', async () => {
    const manager = app.service(incidentServices.manager);
    const res = await api<{ maintenance: { id: string; cluster: string } }>('POST', '/v1/maintenance', {
      cluster: 'prod-2',
      start: new Date(Date.now() - 1000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'control plane upgrade',
    });
    expect(res.status).toBe(201);
    const t = Date.now();
    await manager.report(report(t, [finding({ subject: 'node-m', cluster: 'prod-2' }, t)], 'low-disk', 'prod-2'));
    const id = manager.current().find((i) => i.subject === 'node-m')!.id;
    expect(manager.suppressedBy(id)).toMatchObject({ kind: 'maintenance', id: res.body.maintenance.id });
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.topLevel().some((m) => m.text.includes('node-m'))).toBe(false);
    expect((await api('DELETE', `/v1/maintenance/${res.body.maintenance.id}`)).status).toBe(200);
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-m')), 'message after maintenance ended');
  });

  it('rejects bad input with a 4xx naming the field', async () => {
    const badRegex = await api<{ error: string }>('POST', '/v1/silences', { matchers: [{ name: 'subject', value: '(', regex: true }], durationMs: 60_000, comment: 'x' });
    expect(badRegex.status).toBe(400);
    expect(badRegex.body.error).toMatch(/matchers\[0\]\.value: invalid regular expression/);
    const noComment = await api<{ error: string }>('POST', '/v1/silences', { matchers: [{ name: 'cluster', value: 'a' }], durationMs: 60_000 });
    expect(noComment.status).toBe(400);
    expect(noComment.body.error).toMatch(/comment/);
    const noEnd = await api<{ error: string }>('POST', '/v1/silences', { matchers: [{ name: 'cluster', value: 'a' }], comment: 'x' });
    expect(noEnd.status).toBe(400);
    expect(noEnd.body.error).toMatch(/endsAt/);
    const badDate = await api<{ error: string }>('POST', '/v1/maintenance', { cluster: 'a', end: 'tomorrow-ish', comment: 'x' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error).toMatch(/body\.end: not a date/);
    const past = await api<{ error: string }>('POST', '/v1/maintenance', { cluster: 'a', start: 1000, end: 2000, comment: 'x' });
    expect(past.status).toBe(400);
    expect((await api('DELETE', '/v1/silences/sil-nope')).status).toBe(404);
  });

  it('the CLI lists incidents and creates and expires silences through the API', async () => {
    const out: string[] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      await incidentsCommand().parseAsync(['--server', url, '--token', OPERATOR, '--cluster', 'prod-1'], { from: 'user' });
      expect(out.join('\n')).toMatch(/node-1 +critical +open/);
      const id = /^(inc-\S+) .* node-1 /m.exec(out.join('\n'))?.[1];
      out.length = 0;
      await incidentsCommand().parseAsync(['show', id!, '--server', url, '--token', OPERATOR], { from: 'user' });
      const shown = out.join('\n');
      expect(shown).toContain(`${id}  [critical] open`);
      expect(shown).toMatch(/History[\s\S]*opened[\s\S]*notification/);
      expect(shown).toMatch(/Notifications[\s\S]*ops +opened +delivered/);
      expect(shown).toMatch(/Actions[\s\S]*act-1 +prune-images +succeeded/);
      expect(shown).toContain('usedPercent: 87');
      out.length = 0;
      await silencesCommand().parseAsync(['create', '--server', url, '--token', OPERATOR, '-m', 'detector=low-disk', '-m', 'subject=~node-9.*', '--duration', '2h', '-c', 'testing'], { from: 'user' });
      const sid = /^(sil-\S+):/.exec(out.join('\n'))?.[1];
      expect(sid).toBeTruthy();
      out.length = 0;
      await silencesCommand().parseAsync(['--server', url, '--token', OPERATOR], { from: 'user' });
      expect(out.join('\n')).toContain('subject=~node-9.*');
      out.length = 0;
      await silencesCommand().parseAsync(['expire', sid!, '--server', url, '--token', OPERATOR], { from: 'user' });
      expect(out.join('\n')).toContain(`${sid}: expired`);
      // Through the whole `whistle` program, flags after the subcommand (as people type them).
      out.length = 0;
      await program().parseAsync(['node', 'whistle', 'maintenance', 'create', '--cluster', 'prod-9', '--duration', '1h', '-c', 'node pool swap', '--server', url, '--token', OPERATOR]);
      expect(out.join('\n')).toMatch(/^mw-\S+: prod-9 in maintenance /);
      out.length = 0;
      await program().parseAsync(['node', 'whistle', 'maintenance', '--server', url, '--token', OPERATOR, '--cluster', 'prod-9']);
      expect(out.join('\n')).toContain('node pool swap');
    } finally {
      console.log = orig;
    }
  });

  it('provides what remediators expect (remediators/policy/ports.ts)', async () => {
    const manager = app.service(incidentServices.manager);
    const notifier = app.service(notifyServices.notifier);
    const incidents: IncidentPort = manager;
    const tickets: TicketPort = notifier;
    expect(typeof incidents.subscribe).toBe('function');
    expect(typeof tickets.openTicket).toBe('function');
  });

  it('keeps tokens out of the logs', () => {
    const text = lines.join('\n');
    expect(text).not.toContain(SLACK_TOKEN);
    expect(text).not.toContain(OPERATOR);
  });
});
