// Tickets through the Jira-REST-shaped channel against the local stand-in: one ticket per incident
// (also across a restart and after a crash between create and record), comments on change, the
// resolve transition, remediators' escalations through openTicket; the API token never logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JiraChannel, ticketLabel } from '../../remediators/notify/channels/jira.ts';
import { notificationsSchema, type JiraChannelConfig } from '../../remediators/notify/config.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { JiraStandin } from '../standins/jira.ts';
import { eventually, startStack, type Stack } from './helpers.ts';

const EMAIL = 'whistle-bot@example.test';
const API_TOKEN = 'jira-api-token-ATATT3xFfGF0-secret';
const MIN = 60_000;

describe('Jira ticket channel', () => {
  const tmp = tempDir('jira');
  const jira = new JiraStandin(EMAIL, API_TOKEN, 'OPS');
  const { log, lines } = capturedLogger();
  const c = clock();
  let store: ChdbStore;
  let stack: Stack;

  const notifications = () => ({
    groupWaitMs: 0,
    tickMs: 50,
    retry: { initialMs: 20, maxMs: 100 },
    channels: [{ type: 'jira', id: 'support-jira', url: jira.url, email: EMAIL, apiToken: API_TOKEN, project: 'OPS' }],
    // Only incidents that need the customer get a ticket.
    routes: [{ match: { labels: { needsCustomer: 'true' } }, channels: ['support-jira'] }],
  });

  beforeAll(async () => {
    await jira.start();
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await jira.stop();
    tmp.cleanup();
  });

  it('creates exactly one ticket per incident, comments on change, survives a restart, transitions on resolve', async () => {
    const t = c.now();
    const f = finding({ subject: 'etcd', detector: 'etcd-quorum', labels: { needsCustomer: 'true' }, summary: 'etcd degraded: 2/3 members' }, t);
    await stack.manager.report(report(t, [f, finding({ subject: 'node-internal' }, t)], 'etcd-quorum'));
    await eventually(() => jira.issues.size === 1, 'ticket created');
    await stack.notifier.drained();
    const issue = [...jira.issues.values()][0]!;
    const id = stack.manager.current().find((i) => i.subject === 'etcd')!.id;
    expect(issue.fields.labels).toEqual(['whistle', ticketLabel(id)]);
    expect(issue.fields.summary).toBe('[WARNING] prod-1: etcd-quorum on etcd');
    expect(issue.fields.description).toContain(`https://whistle.example.test/v1/incidents/${id}`);
    expect(stack.notifier.refOf(id, 'support-jira')).toBe(issue.key);

    // Worse: a comment on the same ticket.
    c.set(t + MIN);
    await stack.manager.report(report(t + MIN, [{ ...f, severity: 'critical', summary: 'etcd quorum lost', ts: t + MIN }], 'etcd-quorum'));
    await eventually(() => issue.comments.length === 1, 'comment on change');
    expect(issue.comments[0]).toContain('severity warning -> critical');
    await stack.notifier.drained();

    // Restart: a new manager and notifier over a reopened store. Nothing is re-created.
    await stack.stop();
    await store.close();
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
    await stack.notifier.evaluateAll();
    await stack.notifier.drained();
    expect(jira.issues.size).toBe(1);
    expect(issue.comments).toHaveLength(1);
    await stack.manager.transition(id, 'remediating', 'restarting the lagging member', 'etcd-remediator');
    await eventually(() => issue.comments.length === 2, 'comment after restart');
    expect(issue.comments[1]).toContain('restarting the lagging member');

    // Resolves: a comment and the Done transition.
    c.set(t + 20 * MIN);
    await stack.manager.report(report(t + 20 * MIN, [], 'etcd-quorum'));
    await eventually(() => issue.status === 'Done', 'ticket transitioned');
    expect(issue.comments.at(-1)).toMatch(/^Resolved: /);
    expect(jira.issues.size).toBe(1);
    expect(jira.calls.filter((x) => x.method === 'POST' && x.path === '/rest/api/2/issue')).toHaveLength(1);
  });

  it('after a crash between create and record, finds the ticket by its label instead of creating a second', async () => {
    const cfg = notificationsSchema.parse(notifications()).channels[0] as JiraChannelConfig;
    const channel = new JiraChannel(cfg, store, log);
    const incident = { ...stack.manager.current()[0]!, id: 'inc-crashed-1', state: 'open' as const };
    // The previous process created the ticket and died before recording its key.
    const res = await fetch(`${jira.url}/rest/api/2/issue`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: 'left behind', labels: ['whistle', ticketLabel('inc-crashed-1')] } }),
    });
    const { key } = (await res.json()) as { key: string };
    const before = jira.issues.size;
    const delivered = await channel.send({ key: 'k', kind: 'opened', incident, link: 'https://whistle.example.test/v1/incidents/inc-crashed-1' });
    expect(delivered.ref).toBe(key);
    expect(jira.issues.size).toBe(before);
    expect(await channel.recordedKey('inc-crashed-1')).toBe(key);
  });

  it('remediators escalate through openTicket: one ticket, the plan as a comment, idempotent', async () => {
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-esc', detector: 'kubelet-down' }, t)], 'kubelet-down'));
    const incident = stack.manager.current().find((i) => i.subject === 'node-esc')!;
    const before = jira.issues.size;
    const plan = { action: 'replace node', reason: 'kubelet restart failed twice', needs: 'customer approval' };
    const first = await stack.notifier.openTicket(incident, plan);
    await stack.notifier.delivered(first.key);
    const again = await stack.notifier.openTicket(incident, plan);
    expect(again.key).toBe(first.key);
    await stack.notifier.openTicket(incident, 'second plan: drain and cordon');
    await stack.notifier.drained();
    expect(jira.issues.size).toBe(before + 1);
    const issue = jira.issues.get(stack.notifier.refOf(incident.id, 'support-jira')!)!;
    expect(issue.fields.description).toContain('customer approval');
    expect(issue.comments.map((x) => x.split('\n')[0])).toEqual(["Escalated by Whistle's remediation.", "Escalated by Whistle's remediation."]);
    expect(issue.comments[1]).toContain('drain and cordon');
  });

  it('never logs the API token', () => {
    expect(lines.join('\n')).not.toContain(API_TOKEN);
    expect(lines.join('\n')).not.toContain(Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64'));
  });
});
