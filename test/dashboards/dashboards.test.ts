// Every dashboard against the real schema: a real Whistle on chDB (schema migrated at start), agent
// telemetry posted through the ingest API, incidents made by the real incident manager, and the
// other pipeline tables filled with rows shaped like their writers'. Then each dashboard's JSON is
// validated and every variable and panel query is expanded the way Grafana and the ClickHouse
// plugin do and run: it must succeed, return the columns its panel declares, and return data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEFAULT_DATASOURCE_UID, expectedColumns, type Dashboard } from '../../dashboards/builder.ts';
import { resultProblems, runDashboard, validateDashboard, type QueryResult } from '../../dashboards/check.ts';
import { DASHBOARDS, buildAll } from '../../dashboards/index.ts';
import type { Finding, Severity } from '../../core/types.ts';
import { IncidentManager } from '../../remediators/incidents/manager.ts';
import type { Store } from '../../store/store.ts';
import { incidentsConfig } from '../incidents/helpers.ts';
import { JOIN_TOKEN, eventually, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { agentTicks, kubeRows } from './fixtures.ts';

const MIN = 60_000;

/** Stat panels whose value is legitimately 0 with the fixture data. */
const ZERO_OK = new Set(['whistle-etcd/Clusters without a leader']);

describe('dashboards on the real schema', () => {
  let tw: TestWhistle;
  let store: Store;
  let manager: IncidentManager;
  const now = Date.now();
  const range = { from: now - 3 * 60 * MIN, to: now + MIN, intervalMs: MIN };
  const dashboards = buildAll();
  const byUid = new Map(dashboards.map((d) => [d.uid, d]));
  const runs = new Map<string, QueryResult[]>();
  let posted = 0;

  async function postSamples(token: string, node: string, samples: ReturnType<typeof agentTicks>) {
    const res = await tw.post('/v1/telemetry', { cluster: 'c1', node, samples }, token);
    expect(res.status, await res.clone().text()).toBe(202);
    posted += samples.length;
  }

  beforeAll(async () => {
    // The incidents and actions here are made by hand, and the counts below are of those: the plane's
    // own detectors must not add theirs from the posted samples. With the default 10 s tick they did
    // whenever setting up took longer than a tick (a fresh-clone run on a busy machine: 6 open, not 3).
    tw = await startTestWhistle({ detectors: { tickMs: 3_600_000 } });
    store = tw.whistle.store;

    // Agents: node-a reports (with etcd), node-b went silent 20 minutes ago, node-c awaits authorization.
    const tokenA = await tw.addNode('node-a');
    const tokenB = await tw.addNode('node-b');
    const reg = await tw.post('/v1/register', { cluster: 'c1', node: 'node-c', joinToken: JOIN_TOKEN });
    expect(reg.status).toBe(202);
    await postSamples(tokenA, 'node-a', agentTicks(now, 30, { etcd: true }));
    await postSamples(tokenB, 'node-b', agentTicks(now - 20 * MIN, 5));
    await eventually(async () => {
      const [r] = await store.query<{ n: string }>("SELECT count() AS n FROM samples WHERE cluster = 'c1'");
      return Number(r?.n) === posted;
    }, 'posted samples to be stored');

    // Incidents through the real manager: opened, taken up, escalated, awaiting approval, resolved.
    manager = new IncidentManager({ store, config: incidentsConfig(), log: pino({ level: 'silent' }) });
    await manager.start();
    const finding = (detector: string, subject: string, severity: Severity, summary: string): Finding => ({
      detector,
      cluster: 'c1',
      subject,
      severity,
      summary,
      evidence: {},
      labels: { node: subject },
      fingerprint: `${detector}/c1/${subject}`,
      ts: Date.now(),
    });
    const report = async (f: Finding) => manager.report({ cluster: 'c1', detector: f.detector, ts: f.ts, findings: [f] });
    await report(finding('low-disk', 'node-a:/', 'warning', 'disk / on node-a is 66% full, full in 3 h'));
    await report(finding('agent-silent', 'node-b', 'critical', 'agent on node-b silent for 20 min'));
    await report(finding('etcd-quorum', 'm3', 'critical', 'etcd member m3 is down'));
    await report(finding('cert-expiry', 'node-a', 'info', 'apiserver certificate expires in 20 days'));
    await manager.idle();
    const ids = new Map((await manager.list({ cluster: 'c1' })).map((i) => [i.detector, i.id]));
    expect(ids.size).toBe(4);
    const id = (detector: string) => ids.get(detector)!;
    await manager.transition(id('low-disk'), 'remediating', 'cleaning up container images', 'whistle');
    await manager.appendHistory(id('low-disk'), { kind: 'action', message: 'image prune freed 12 GB' });
    await manager.transition(id('low-disk'), 'resolved', 'disk below threshold', 'whistle');
    await manager.transition(id('agent-silent'), 'escalated', 'node unreachable, needs a person', 'whistle');
    await manager.transition(id('etcd-quorum'), 'awaiting_approval', 'member replacement proposed', 'whistle');
    await manager.suppressions.createSilence({ matchers: [{ name: 'subject', value: 'node-zzz' }], endsAt: now + 60 * MIN, comment: 'decommissioning', createdBy: 'alice' });
    await manager.suppressions.createMaintenance({ cluster: 'c2', startsAt: now - MIN, endsAt: now + 60 * MIN, comment: 'upgrade', createdBy: 'bob' });

    // Notifications (as remediators/notify/outbox.ts writes them): one delivered, one failing, one waiting.
    const silent = id('agent-silent');
    const t = (minutesAgo: number) => now - minutesAgo * MIN;
    await store.insert('notify_outbox', [
      { ts: t(30), key: `${silent}/slack/opened`, channel: 'slack', incident_id: silent, kind: 'opened', payload: '{}' },
      { ts: t(29), key: `${silent}/email/opened`, channel: 'email', incident_id: silent, kind: 'opened', payload: '{}' },
      { ts: t(5), key: `${silent}/jira/opened`, channel: 'jira', incident_id: silent, kind: 'opened', payload: '{}' },
    ]);
    await store.insert('notify_log', [
      { ts: t(29.9), key: `${silent}/slack/opened`, channel: 'slack', incident_id: silent, kind: 'opened', status: 'delivered', attempt: 1, ref: '1700000000.000100', error: '' },
      { ts: t(28), key: `${silent}/email/opened`, channel: 'email', incident_id: silent, kind: 'opened', status: 'failed', attempt: 1, ref: '', error: '421 try again later' },
      { ts: t(20), key: `${silent}/email/opened`, channel: 'email', incident_id: silent, kind: 'opened', status: 'failed', attempt: 2, ref: '', error: 'connection refused' },
    ]);

    // The Jira channel records its ticket before and after creating it (remediators/notify/channels/jira.ts).
    await store.insert('tickets', [
      { ts: t(29), incident_id: silent, channel: 'jira', label: `whistle-${silent}`, ticket_key: '', status: 'creating' },
      { ts: t(28), incident_id: silent, channel: 'jira', label: `whistle-${silent}`, ticket_key: 'OPS-42', status: 'created' },
    ]);

    // Remediation (as remediators/policy/recorder.ts and approvals.ts, bootstrap/tasks/queue.ts and the etcd engine write them).
    const action = (ts: number, aid: string, state: string, dry: boolean, kind: string, reason: string) => ({
      ts,
      id: aid,
      incident_id: id('etcd-quorum'),
      cluster: 'c1',
      subject: 'm3',
      kind,
      state,
      reason,
      dry_run: dry ? 1 : 0,
      actor: 'whistle',
      detail: '{}',
    });
    await store.insert('actions', [
      action(t(40), 'act-1', 'started', false, 'etcd.snapshot', 'before member replacement'),
      action(t(40), 'act-1', 'succeeded', false, 'etcd.snapshot', 'before member replacement'),
      action(t(35), 'act-2', 'planned', true, 'etcd.member-replace', 'dry run'),
      action(t(35), 'act-2', 'skipped', true, 'etcd.member-replace', 'dry-run policy'),
      action(t(30), 'act-3', 'started', false, 'node.cordon', 'node unreachable'),
      action(t(29), 'act-3', 'failed', false, 'node.cordon', 'apiserver timeout'),
    ]);
    await store.insert('remediation_plans', [
      { ts: t(25), id: 'plan-1', incident_id: id('etcd-quorum'), cluster: 'c1', kind: 'etcd.member-replace', state: 'awaiting_approval', actor: 'whistle', reason: 'proposed', plan: '{}' },
      { ts: t(90), id: 'plan-0', incident_id: id('low-disk'), cluster: 'c1', kind: 'node.drain', state: 'awaiting_approval', actor: 'whistle', reason: 'proposed', plan: '{}' },
      { ts: t(80), id: 'plan-0', incident_id: id('low-disk'), cluster: 'c1', kind: 'node.drain', state: 'rejected', actor: 'alice', reason: 'not now', plan: '{}' },
    ]);
    const task = (ts: number, tid: string, state: string, kind: string, error = '') => ({ ts, id: tid, cluster: 'c1', node: 'node-a', kind, state, params: '{}', output: '', error });
    await store.insert('agent_tasks', [
      task(t(40), 'task-1', 'queued', 'etcd.snapshot'),
      task(t(40), 'task-1', 'dispatched', 'etcd.snapshot'),
      task(t(39), 'task-1', 'succeeded', 'etcd.snapshot'),
      task(t(30), 'task-2', 'queued', 'node.cordon'),
      task(t(29), 'task-2', 'failed', 'node.cordon', 'apiserver timeout'),
      task(t(20), 'task-3', 'queued', 'etcd.member-status'),
      task(t(19), 'task-3', 'expired', 'etcd.member-status', 'no agent picked it up'),
    ]);
    const snap = (ts: number, file: string, state: string, size: number) => ({ ts, cluster: 'c1', node: 'node-a', file, state, revision: 1000, total_keys: 420, size_bytes: size, hash: 123, error: '' });
    await store.insert('etcd_snapshots', [snap(t(400), 'c1-0.db', 'saved', 40e6), snap(t(39), 'c1-1.db', 'saved', 52e6), snap(t(39), 'c1-0.db', 'deleted', 0)]);

    // Kubernetes, encoded by the watchers' own functions.
    const kube = kubeRows('c1', now);
    await store.insert('kube_objects', kube.objects as unknown as Record<string, unknown>[]);
    await store.insert('kube_events', kube.events as unknown as Record<string, unknown>[]);

    for (const d of dashboards) {
      const selections: Record<string, string | string[]> = d.uid === 'whistle-node' ? { cluster: 'c1', node: 'node-a' } : { silent_s: '300' };
      runs.set(d.uid, (await runDashboard(store, d, { ...range, selections })).results);
    }
  });

  afterAll(async () => {
    await manager?.stop();
    await tw?.stop();
  });

  it('builds six dashboards with unique uids', () => {
    expect(dashboards.map((d) => d.uid)).toEqual(['whistle-fleet', 'whistle-node', 'whistle-incidents', 'whistle-remediation', 'whistle-etcd', 'whistle-kubernetes']);
    expect(new Set(dashboards.map((d) => d.title)).size).toBe(dashboards.length);
  });

  it('reads only tables that exist in the migrated schema', async () => {
    const tables = new Set((await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase()')).map((r) => r.name));
    for (const d of DASHBOARDS) for (const t of d.tables) expect(tables.has(t), `${d.uid} reads ${t}`).toBe(true);
  });

  describe.each(DASHBOARDS.map((d) => d.uid))('%s', (uid) => {
    const d = (): Dashboard => byUid.get(uid)!;

    it('has a valid structure', () => {
      expect(validateDashboard(d(), DEFAULT_DATASOURCE_UID)).toEqual([]);
    });

    it('runs every variable and panel query without error, with the declared columns', () => {
      const results = runs.get(uid)!;
      expect(results.length).toBeGreaterThan(0);
      expect(results.flatMap(resultProblems)).toEqual([]);
      for (const r of results) {
        const declared = r.panel ? expectedColumns(r.panel) : [];
        if (declared.length) expect(r.columns.map((c) => c.name), r.source).toEqual(declared);
      }
    });

    it('returns data for every query from the fixture rows', () => {
      for (const r of runs.get(uid)!) {
        expect(r.rows.length, `${r.source} returned no rows\n${r.sql}`).toBeGreaterThan(0);
        if (r.panel?.type === 'stat' && !ZERO_OK.has(`${uid}/${r.panel.title}`)) {
          const v = Object.values(r.rows[0]!)[0];
          expect(v === null ? 0 : Number(v), `${r.source} = ${String(v)}`).toBeGreaterThan(0);
        }
      }
    });
  });

  it('runs every dashboard with one cluster selected (the IN-list path, not All)', async () => {
    for (const d of dashboards) {
      const { results, variables } = await runDashboard(store, d, { ...range, selections: { cluster: d.uid === 'whistle-node' ? 'c1' : ['c1'], node: 'node-a' } });
      expect(variables.cluster!.options).toContain('c1');
      expect(results.flatMap(resultProblems), d.uid).toEqual([]);
    }
  });

  // What the panels say about the fixture, checked against what the fixture did.
  const rowsOf = (uid: string, title: string) => {
    const r = runs.get(uid)!.find((x) => x.panel?.title === title);
    if (!r) throw new Error(`no panel "${title}" in ${uid}`);
    return r.rows as Record<string, unknown>[];
  };
  const single = (uid: string, title: string) => Number(Object.values(rowsOf(uid, title)[0]!)[0]);

  it('fleet: registered vs reporting, silent and pending agents', () => {
    expect(single('whistle-fleet', 'Registered agents')).toBe(2);
    expect(single('whistle-fleet', 'Reporting agents')).toBe(1);
    expect(single('whistle-fleet', 'Silent agents')).toBe(1);
    expect(single('whistle-fleet', 'Pending authorization')).toBe(1);
    const silent = rowsOf('whistle-fleet', 'Silent agents: who and since when');
    expect(silent.map((r) => [r.node, r.health])).toEqual([['node-b', 'silent']]);
    expect(Number(silent[0]!.silent_for_s)).toBeGreaterThanOrEqual(20 * 60);
    const audit = rowsOf('whistle-fleet', 'Operator actions (audit log)').map((r) => `${String(r.action)} ${String(r.subject)}`);
    expect(audit).toEqual(expect.arrayContaining(['node.authorize node-a', 'node.authorize node-b', 'node.register node-c']));
    const clusters = rowsOf('whistle-fleet', 'Clusters: agents and incidents');
    expect(clusters).toEqual([{ cluster: 'c1', registered: 2, reporting: 1, silent: 1, pending: 1, open_incidents: 3, critical_incidents: 2 }]);
  });

  it('node: time to full of a filling filesystem, counter resets, certificates', () => {
    const fs = rowsOf('whistle-node', 'Filesystems: use and time to full');
    const root = fs.find((r) => r.mount === '/')!;
    // avail falls 0.2 GB a minute and is 34.2 GB at the last tick: full in 34.2 / 0.2 minutes.
    expect(Number(root.fill_rate_bytes_per_s)).toBeCloseTo(0.2e9 / 60, -2);
    expect(Number(root.time_to_full_s) / 60).toBeCloseTo(34.2 / 0.2, 0);
    const data = fs.find((r) => r.mount === '/data disk')!;
    expect(data.time_to_full_s).toBeNull();
    const errors = rowsOf('whistle-node', 'Collector errors in range');
    // 0..2 over ticks 0-14, then a restart and 0..2 again over ticks 15-29.
    expect(errors.find((r) => r.collector === 'filesystems')?.errors).toBe(4);
    const cert = rowsOf('whistle-node', 'Certificates')[0]!;
    expect(Number(cert.expires_in_s) / 86_400).toBeCloseTo(20, 1);
  });

  it('incidents: open by severity, MTTA / MTTR, notifications', () => {
    expect(single('whistle-incidents', 'Open incidents')).toBe(3);
    expect(single('whistle-incidents', 'Critical open')).toBe(2);
    expect(single('whistle-incidents', 'Resolved')).toBe(1);
    const bySeverity = Object.fromEntries(rowsOf('whistle-incidents', 'Open by severity').map((r) => [r.severity, Number(r.open)]));
    expect(bySeverity).toEqual({ critical: 2, info: 1 });
    expect(single('whistle-incidents', 'MTTR')).toBeGreaterThan(0);
    expect(single('whistle-incidents', 'Delivered')).toBe(1);
    expect(single('whistle-incidents', 'Failed attempts')).toBe(2);
    expect(single('whistle-incidents', 'Pending now')).toBe(2);
    expect(rowsOf('whistle-incidents', 'Tickets')).toEqual([expect.objectContaining({ channel: 'jira', ticket: 'OPS-42', status: 'created', subject: 'node-b', incident_state: 'escalated' })]);
    expect(rowsOf('whistle-incidents', 'Pending notifications').find((r) => r.channel === 'email')).toMatchObject({ attempts: 2, last_error: 'connection refused' });
  });

  it('remediation: latest state per action, dry-run share, plans, tasks', () => {
    const byState = Object.fromEntries(rowsOf('whistle-remediation', 'Actions by state').map((r) => [r.state, Number(r.actions)]));
    expect(byState).toEqual({ succeeded: 1, skipped: 1, failed: 1 });
    expect(single('whistle-remediation', 'Dry-run share')).toBeCloseTo(1 / 3, 5);
    expect(single('whistle-remediation', 'Plans awaiting approval')).toBe(1);
    expect(single('whistle-remediation', 'Escalations')).toBe(1);
    expect(rowsOf('whistle-remediation', 'Failed and expired tasks').map((r) => r.id).sort()).toEqual(['task-2', 'task-3']);
  });

  it('etcd: member down, one leader change, snapshots kept', () => {
    expect(single('whistle-etcd', 'Members down')).toBe(1);
    expect(single('whistle-etcd', 'Leader changes')).toBe(1);
    expect(rowsOf('whistle-etcd', 'Leader change log')[0]).toMatchObject({ from_member: 'm1', to_member: 'm2' });
    const members = rowsOf('whistle-etcd', 'Members (latest report)');
    expect(members.map((m) => [m.member, Number(m.up), Number(m.leader)])).toEqual([
      ['m3', 0, 0],
      ['m1', 1, 0],
      ['m2', 1, 1],
    ]);
    expect(rowsOf('whistle-etcd', 'Snapshot freshness')[0]).toMatchObject({ cluster: 'c1', kept: 1 });
  });

  it('kubernetes: node conditions, restarts in range, unavailable workloads', () => {
    expect(single('whistle-kubernetes', 'Nodes watched')).toBe(2);
    expect(single('whistle-kubernetes', 'Nodes not Ready')).toBe(1);
    const nodes = rowsOf('whistle-kubernetes', 'Node conditions');
    expect(nodes.map((n) => [n.node, n.ready, n.disk_pressure])).toEqual([
      ['node-b', 'Unknown', 'True'],
      ['node-a', 'True', 'False'],
    ]);
    expect(rowsOf('whistle-kubernetes', 'Pod restarts in the range')).toEqual([
      { cluster: 'c1', namespace: 'shop', pod: 'api-7d9c5b7f6d-x2x4z', restarts_in_range: 5, restarts_total: 6 },
    ]);
    const missing = rowsOf('whistle-kubernetes', 'Deployments and DaemonSets unavailable').map((w) => [w.kind, w.workload, Number(w.missing)]);
    expect(missing).toEqual([
      ['DaemonSet', 'node-exporter', 1],
      ['Deployment', 'api', 1],
    ]);
  });
});
