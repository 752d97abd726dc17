// Tickets on Jira Cloud and on Jira Data Center, each against a stand-in answering as that service
// does (test/standins/jira.ts): one ticket per incident (also across a restart, after a crash
// between create and record, and while Cloud's search has not caught up yet), comments on change,
// the resolve transition, paging through search results, escalations through openTicket, and
// refusals (a revoked token, no permission, Cloud's 410 on the removed search) recorded in the
// incident's history and in the failure metric by cause. The API token is never logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { JiraChannel, ticketLabel } from '../../remediators/notify/channels/jira.ts';
import { notificationsSchema, type JiraChannelConfig } from '../../remediators/notify/config.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { CLOUD_SEARCH_GONE, JiraStandin, type JiraFlavor } from '../standins/jira.ts';
import { eventually, metricValue, startStack, type Stack } from './helpers.ts';

const EMAIL = 'whistle-bot@example.test';
const API_TOKEN = 'jira-api-token-ATATT3xFfGF0-secret';
const PAT = 'jira-dc-personal-access-token-NjQ5-secret';
const MIN = 60_000;

/** An incident as the notifier hands it to a channel, for calling a channel directly. */
function incidentView(id: string, cluster: string): IncidentView {
  const t = Date.now();
  return { id, fingerprint: `low-disk/${cluster}/node-x`, cluster, detector: 'low-disk', subject: 'node-x', severity: 'warning', state: 'open', summary: 'disk on node-x is 87% full', openedAt: t, updatedAt: t, labels: {}, evidence: {} };
}

describe('Jira ticket channel, Cloud and Data Center', () => {
  const tmp = tempDir('jira');
  // Pages of two, so that three matching issues take two pages on either flavor.
  const cloud = new JiraStandin(EMAIL, API_TOKEN, 'OPS', { flavor: 'cloud', pageSize: 2 });
  const dc = new JiraStandin(EMAIL, PAT, 'SUP', { flavor: 'datacenter', pageSize: 2 });
  const noPermission = new JiraStandin(EMAIL, API_TOKEN, 'LOCK', { flavor: 'cloud' });
  const { log, lines } = capturedLogger();
  const c = clock();
  let store: ChdbStore;
  let stack: Stack;

  const channels = () => [
    { type: 'jira', id: 'cloud-jira', flavor: 'cloud', url: cloud.url, email: EMAIL, apiToken: API_TOKEN, project: 'OPS' },
    { type: 'jira', id: 'dc-jira', flavor: 'datacenter', url: dc.url, apiToken: PAT, project: 'SUP' },
    // Refusals, each routed its own cluster: a wrong token on either flavor, an account that may
    // not create issues, and a Cloud site configured as Data Center (the removed search: 410).
    { type: 'jira', id: 'cloud-bad-token', flavor: 'cloud', url: cloud.url, email: EMAIL, apiToken: 'revoked-token', project: 'OPS' },
    { type: 'jira', id: 'dc-bad-token', flavor: 'datacenter', url: dc.url, apiToken: 'expired-pat', project: 'SUP' },
    { type: 'jira', id: 'no-permission', flavor: 'cloud', url: noPermission.url, email: EMAIL, apiToken: API_TOKEN, project: 'LOCK' },
    { type: 'jira', id: 'wrong-flavor', flavor: 'datacenter', url: cloud.url, username: EMAIL, apiToken: API_TOKEN, project: 'OPS' },
  ];
  const notifications = () => ({
    groupWaitMs: 0,
    tickMs: 50,
    retry: { initialMs: 50, maxMs: 1_000 },
    channels: channels(),
    routes: [
      // Only incidents that need the customer get a ticket; where, depends on the cluster.
      { match: { cluster: ['cloud-1'], labels: { needsCustomer: 'true' } }, channels: ['cloud-jira'] },
      { match: { cluster: ['dc-1'], labels: { needsCustomer: 'true' } }, channels: ['dc-jira'] },
      ...['cloud-bad-token', 'dc-bad-token', 'no-permission', 'wrong-flavor'].map((id) => ({ match: { cluster: [id] }, channels: [id] })),
    ],
    escalationChannel: 'cloud-jira',
  });
  const restart = async () => {
    await stack.stop();
    await store.close();
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
  };
  const channel = (id: string, over: Partial<JiraChannelConfig> = {}) =>
    new JiraChannel({ ...(notificationsSchema.parse(notifications()).channels.find((x) => x.id === id) as JiraChannelConfig), ...over }, store, log);

  beforeAll(async () => {
    await Promise.all([cloud.start(), dc.start(), noPermission.start()]);
    noPermission.canCreate = false;
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await Promise.all([cloud.stop(), dc.stop(), noPermission.stop()]);
    tmp.cleanup();
  });

  const flavors: { flavor: JiraFlavor; jira: () => JiraStandin; cluster: string; channelId: string; api: string; search: string }[] = [
    { flavor: 'cloud', jira: () => cloud, cluster: 'cloud-1', channelId: 'cloud-jira', api: '/rest/api/3', search: '/rest/api/3/search/jql' },
    { flavor: 'datacenter', jira: () => dc, cluster: 'dc-1', channelId: 'dc-jira', api: '/rest/api/2', search: '/rest/api/2/search' },
  ];

  describe.each(flavors)('$flavor', ({ flavor, jira: standin, cluster, channelId, api, search }) => {
    it('opens exactly one ticket per incident, comments on change, survives a restart, transitions on resolve', async () => {
      const jira = standin();
      const t = c.advance(60 * MIN);
      const f = finding({ cluster, subject: 'etcd', detector: 'etcd-quorum', labels: { needsCustomer: 'true' }, summary: 'etcd degraded: 2/3 members' }, t);
      await stack.manager.report(report(t, [f, finding({ cluster, subject: 'node-internal' }, t)], 'etcd-quorum', cluster));
      await eventually(() => jira.issues.size === 1, 'ticket created');
      await stack.notifier.drained();
      const issue = [...jira.issues.values()][0]!;
      const id = stack.manager.current().find((i) => i.cluster === cluster && i.subject === 'etcd')!.id;
      expect(issue.fields.labels).toEqual(['whistle', ticketLabel(id)]);
      expect(issue.fields.summary).toBe(`[WARNING] ${cluster}: etcd-quorum on etcd`);
      expect(issue.fields.description).toContain(`https://whistle.example.test/console/incidents/${id}`);
      expect(issue.fields.description).toContain('Where:    cluster');
      // Cloud's v3 takes rich text as an Atlassian Document; Data Center's v2 takes the text.
      if (flavor === 'cloud') expect(issue.sent.description).toMatchObject({ type: 'doc', version: 1, content: expect.arrayContaining([expect.objectContaining({ type: 'paragraph' })]) });
      else expect(typeof issue.sent.description).toBe('string');
      expect(stack.notifier.refOf(id, channelId)).toBe(issue.key);
      // Searched once, on the flavor's own search, before creating on the flavor's API version.
      expect(jira.callsTo(search, 'POST').map((x) => x.status)).toEqual([200]);
      expect(jira.callsTo(`${api}/issue`, 'POST').map((x) => x.status)).toEqual([201]);
      expect(jira.calls.every((x) => x.status < 400)).toBe(true);

      // Worse: a comment on the same ticket.
      const t1 = c.advance(MIN);
      await stack.manager.report(report(t1, [{ ...f, severity: 'critical', summary: 'etcd quorum lost', ts: t1 }], 'etcd-quorum', cluster));
      await eventually(() => issue.comments.length === 1, 'comment on change');
      expect(issue.comments[0]).toContain('severity warning -> critical');
      if (flavor === 'cloud') expect(issue.sent.comments[0]).toMatchObject({ type: 'doc' });
      await stack.notifier.drained();

      // Restart: a new manager and notifier over a reopened store. Nothing is re-created.
      await restart();
      await stack.notifier.evaluateAll();
      await stack.notifier.drained();
      expect(jira.issues.size).toBe(1);
      expect(issue.comments).toHaveLength(1);
      await stack.manager.transition(id, 'remediating', 'restarting the lagging member', 'etcd-remediator');
      await eventually(() => issue.comments.length === 2, 'comment after restart');
      expect(issue.comments[1]).toContain('restarting the lagging member');

      // Resolves: a comment and the Done transition.
      await stack.manager.report(report(c.advance(20 * MIN), [], 'etcd-quorum', cluster));
      await eventually(() => issue.status === 'Done', 'ticket transitioned');
      await stack.notifier.drained();
      expect(issue.comments.at(-1)).toMatch(/^Resolved: /);
      expect(jira.issues.size).toBe(1);
      expect(jira.callsTo(`${api}/issue`, 'POST')).toHaveLength(1);
      expect(jira.calls.every((x) => x.status < 400)).toBe(true);
    });

    it('after a crash between create and record, pages through the search and takes the oldest labelled issue', async () => {
      const jira = standin();
      const incidentId = `inc-crashed-${flavor}`;
      const label = ticketLabel(incidentId);
      // The previous process created the ticket and died before recording its key; later someone
      // cloned it twice (a clone keeps the labels). Three matches: two pages of two.
      const t = Date.now();
      const original = jira.addIssue({ summary: 'left behind', labels: ['whistle', label], createdAt: t - 3_000 });
      jira.addIssue({ summary: 'CLONE - left behind', labels: ['whistle', label], createdAt: t - 2_000 });
      jira.addIssue({ summary: 'CLONE - CLONE - left behind', labels: ['whistle', label], createdAt: t - 1_000 });
      const before = jira.issues.size;
      const searches = jira.callsTo(search).length;
      const incident = incidentView(incidentId, cluster);
      const delivered = await channel(channelId).send({ key: 'k', kind: 'opened', incident, link: `https://whistle.example.test/console/incidents/${incidentId}` });
      expect(delivered.ref).toBe(original.key);
      expect(jira.issues.size).toBe(before);
      expect(await channel(channelId).recordedKey(incidentId)).toBe(original.key);
      const pages = jira.callsTo(search).slice(searches);
      expect(pages.map((p) => p.status)).toEqual([200, 200]);
      const bodies = pages.map((p) => p.body as { jql: string; fields: string[]; nextPageToken?: string; startAt?: number });
      expect(bodies.every((b) => b.jql === `labels = "${label}" ORDER BY created ASC` && b.fields.includes('created'))).toBe(true);
      // Cloud pages by the token the previous page handed out; Data Center by offset.
      if (flavor === 'cloud') expect([bodies[0]!.nextPageToken, typeof bodies[1]!.nextPageToken]).toEqual([undefined, 'string']);
      else expect(bodies.map((b) => b.startAt)).toEqual([0, 2]);
      expect(lines.some((l) => l.includes('several issues carry the incident label'))).toBe(true);
    });
  });

  it('remediators escalate through openTicket: one ticket, the plan as a comment, idempotent', async () => {
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ cluster: 'cloud-1', subject: 'node-esc', detector: 'kubelet-down' }, t)], 'kubelet-down', 'cloud-1'));
    const incident = stack.manager.current().find((i) => i.subject === 'node-esc')!;
    const before = cloud.issues.size;
    const plan = { action: 'replace node', reason: 'kubelet restart failed twice', needs: 'customer approval' };
    const first = await stack.notifier.openTicket(incident, plan);
    await stack.notifier.delivered(first.key);
    const again = await stack.notifier.openTicket(incident, plan);
    expect(again.key).toBe(first.key);
    await stack.notifier.openTicket(incident, 'second plan: drain and cordon');
    await stack.notifier.drained();
    expect(cloud.issues.size).toBe(before + 1);
    const issue = cloud.issues.get(stack.notifier.refOf(incident.id, 'cloud-jira')!)!;
    expect(issue.fields.description).toContain('customer approval');
    expect(issue.comments.map((x) => x.split('\n')[0])).toEqual(["Escalated by Whistle's remediation.", "Escalated by Whistle's remediation."]);
    expect(issue.comments[1]).toContain('drain and cordon');
  });

  it('Cloud: a create whose answer was lost is not repeated while the search has not caught up', async () => {
    const incidentId = 'inc-lagging-search';
    const label = ticketLabel(incidentId);
    cloud.searchLagMs = 1_500; // Cloud's search shows a new issue only after a while
    try {
      // The previous process recorded its intent, sent the create (Jira made the issue) and died.
      await store.insert('tickets', [{ ts: Date.now(), incident_id: incidentId, channel: 'cloud-jira', label, ticket_key: '', status: 'creating' }]);
      const left = cloud.addIssue({ summary: 'created, answer lost', labels: ['whistle', label] });
      const before = cloud.issues.size;
      const ch = channel('cloud-jira', { searchLagMs: 10_000 });
      const incident = incidentView(incidentId, 'cloud-1');
      const d = { key: 'k', kind: 'opened' as const, incident, link: 'https://whistle.example.test/console/incidents/x', uncertain: true };
      await expect(ch.send(d)).rejects.toMatchObject({ reason: 'search_lag', message: expect.stringMatching(/may have been created \d+ s ago.*not in search yet/) });
      expect(cloud.issues.size).toBe(before);
      await new Promise((r) => setTimeout(r, 1_600));
      expect((await ch.send(d)).ref).toBe(left.key);
      expect(cloud.issues.size).toBe(before);
    } finally {
      cloud.searchLagMs = 0;
    }
  });

  it('the stand-ins answer the removed and the missing search as the services do', async () => {
    const basic = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`;
    for (const path of ['/rest/api/2/search', '/rest/api/3/search']) {
      const res = await fetch(`${cloud.url}${path}`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ jql: 'labels = "x"' }) });
      expect([res.status, await res.json()]).toEqual([410, CLOUD_SEARCH_GONE]);
    }
    const jql = await fetch(`${cloud.url}/rest/api/3/search/jql`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ jql: 'order by created' }) });
    expect(jql.status).toBe(400); // unbounded JQL
    const onDc = await fetch(`${dc.url}/rest/api/3/search/jql`, { method: 'POST', headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json' }, body: '{}' });
    expect(onDc.status).toBe(404);
  });

  const refusals: { cluster: string; reason: string; history: RegExp }[] = [
    { cluster: 'cloud-bad-token', reason: 'auth', history: /HTTP 401 not authenticated: Jira refused the account email and API token.*Client must be authenticated/ },
    { cluster: 'dc-bad-token', reason: 'auth', history: /HTTP 401 not authenticated: Jira refused the personal access token.*You are not authenticated/ },
    { cluster: 'no-permission', reason: 'forbidden', history: /POST \/rest\/api\/3\/issue: HTTP 403 forbidden: the account may not do this in project LOCK.*You do not have permission to create issues/ },
    {
      cluster: 'wrong-flavor',
      reason: 'gone',
      history: /POST \/rest\/api\/2\/search: HTTP 410 this Jira removed \/rest\/api\/2\/search \(Jira Cloud removed .*a Cloud site needs flavor: cloud\): The requested API has been removed/,
    },
  ];

  it.each(refusals)('a refusal ($cluster) names its cause in the incident history and in /metrics', async ({ cluster, reason, history }) => {
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ cluster, subject: `node-${cluster}`, severity: 'critical' }, t)], 'low-disk', cluster));
    const id = stack.manager.current().find((i) => i.cluster === cluster)!.id;
    await eventually(async () => (await stack.manager.show(id)).history.some((h) => h.kind === 'notification_failed'), 'failure in history');
    const failed = (await stack.manager.show(id)).history.find((h) => h.kind === 'notification_failed')!;
    expect(failed.reason).toMatch(new RegExp(`opened notification to ${cluster} failed \\(attempt 1, ${reason}\\): jira: `));
    expect(failed.reason).toMatch(history);
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: cluster, reason })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: cluster })).toBe(
      await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: cluster, reason }),
    );
    // Still pending: fixed credentials or permissions (and a restart) deliver it.
    expect(stack.notifier.outbox.pendingCount(cluster)).toBe(1);
  });

  it('never logs the API token or the personal access token', () => {
    const all = lines.join('\n');
    expect(all).not.toContain(API_TOKEN);
    expect(all).not.toContain(PAT);
    expect(all).not.toContain(Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64'));
  });
});
