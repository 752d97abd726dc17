// Slack through @slack/web-api against the local stand-in: one message per incident, updated in
// place, thread replies for what happens next, 429 Retry-After honoured, token never logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { SlackStandin } from '../standins/slack.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { eventually, metricValue, startStack, type Stack } from './helpers.ts';

const TOKEN = 'xoxb-0000-secret-slack-token-do-not-log';
const MIN = 60_000;

describe('Slack channel', () => {
  const tmp = tempDir('slack');
  const slack = new SlackStandin(TOKEN);
  const { log, lines } = capturedLogger();
  const c = clock();
  let store: ChdbStore;
  let stack: Stack;

  const notifications = () => ({
    groupWaitMs: 0,
    tickMs: 50,
    retry: { initialMs: 20, maxMs: 100 },
    channels: [{ type: 'slack', id: 'ops-slack', token: TOKEN, channel: 'C0OPS', slackApiUrl: slack.url, sdkRetries: 2 }],
    defaultChannels: ['ops-slack'],
  });

  beforeAll(async () => {
    await slack.start();
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await slack.stop();
    tmp.cleanup();
  });

  it('posts one Block Kit message per incident, then updates it in place with thread replies, and on resolve', async () => {
    const t = c.now();
    const f = finding({ subject: 'node-a', evidence: { usedPercent: 87, mount: '/var/lib/containerd' } }, t);
    await stack.manager.report(report(t, [f]));
    await stack.manager.report(report(t + 10_000, [{ ...f, ts: t + 10_000 }]));
    await eventually(() => slack.topLevel().length === 1, 'first message');
    await stack.notifier.drained();
    expect(slack.topLevel()).toHaveLength(1);
    const msg = slack.topLevel()[0]!;
    const blocksText = JSON.stringify(msg.blocks);
    expect(blocksText).toContain('low-disk on node-a'); // what
    expect(blocksText).toContain('cluster prod-1'); // where
    expect(blocksText).toContain(new Date(t).toISOString().slice(0, 16)); // since when
    expect(blocksText).toContain('usedPercent: 87'); // evidence
    expect(blocksText).toContain('https://whistle.example.test/console/incidents/inc-'); // link
    expect(slack.calls.every((call) => call.token === TOKEN)).toBe(true);

    // The incident gets worse, then a remediator acts on it.
    const t2 = t + 20_000;
    c.set(t2);
    await stack.manager.report(report(t2, [{ ...f, severity: 'critical', summary: 'disk on node-a is 96% full', ts: t2 }]));
    const id = stack.manager.current().find((i) => i.subject === 'node-a')!.id;
    c.set(t2 + 1000);
    await stack.manager.transition(id, 'remediating', 'pruning unused images', 'disk-remediator');
    await eventually(() => slack.replies(msg.ts).length >= 2, 'two thread replies');
    expect(slack.topLevel()).toHaveLength(1);
    expect(msg.edits).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(msg.blocks)).toContain('remediating');
    expect(slack.replies(msg.ts).map((r) => r.text).join('\n')).toMatch(/pruning unused images/);
    // What the remediator does next goes to the thread as well.
    await stack.manager.appendHistory(id, { kind: 'action', message: 'removed 12 unused images, freed 9.5 GiB', actor: 'disk-remediator' });
    await eventually(() => slack.replies(msg.ts).some((r) => r.text.includes('disk-remediator: removed 12 unused images')), 'action in the thread');

    // Resolves: the message is rewritten as resolved and the thread says so.
    const t3 = t2 + 10 * MIN;
    c.set(t3);
    await stack.manager.report(report(t3, []));
    await eventually(() => JSON.stringify(msg.blocks).includes('RESOLVED'), 'message rewritten as resolved');
    await eventually(() => slack.replies(msg.ts).some((r) => r.text.includes('Resolved')), 'resolved thread reply');
    expect(slack.topLevel()).toHaveLength(1);
    await stack.notifier.drained();
    expect(await metricValue(stack.registry, 'whistle_notify_delivered_total', { channel: 'ops-slack', kind: 'resolved' })).toBe(1);
    const delivered = async () => (await stack.manager.show(id)).history.filter((h) => h.kind === 'notification').map((h) => h.detail.kind);
    await eventually(async () => (await delivered()).includes('resolved'), 'resolve delivery in history');
    expect(await delivered()).toEqual(['opened', 'updated', 'updated', 'note', 'resolved']);
  });

  it('honours 429 Retry-After: the call is repeated after the wait and the message is posted once', async () => {
    const before = slack.calls.length;
    slack.rateLimitNext(1, 1);
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-429' }, t)]));
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-429')), 'message after rate limit');
    const calls = slack.calls.slice(before);
    expect(calls.map((x) => x.status)).toEqual([429, 200]);
    expect(slack.topLevel().filter((m) => m.text.includes('node-429'))).toHaveLength(1);
    expect(await metricValue(stack.registry, 'whistle_notify_rate_limited_total', { channel: 'ops-slack' })).toBe(1);
    // Waited out inside the SDK: not a delivery failure.
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: 'ops-slack' })).toBe(0);
  });

  it('a lost response does not lead to a second message: the retry finds the first by its metadata', async () => {
    slack.dropResponseNext(1);
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-lost' }, t)], 'agent-silent'));
    const id = stack.manager.current().find((i) => i.subject === 'node-lost')!.id;
    await eventually(async () => (await stack.notifier.outbox.deliveries(id)).some((d) => d.status === 'delivered'), 'delivered after the lost response');
    const mine = slack.topLevel().filter((m) => m.text.includes('node-lost'));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.metadata).toEqual({ event_type: 'whistle_incident', event_payload: { incident_id: id } });
    expect(stack.notifier.refOf(id, 'ops-slack')).toBe(`C0OPS/${mine[0]!.ts}`);
    expect(slack.calls.filter((x) => x.method === 'conversations.history')).toHaveLength(1);
    // Later changes edit that message.
    await stack.manager.transition(id, 'escalated', 'needs a person', 'tester');
    await eventually(() => mine[0]!.edits === 1, 'the found message is updated');
  });

  it('a lost response to a thread reply does not post it twice: the retry finds it in the thread by its key', async () => {
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-reply' }, t)], 'agent-silent'));
    const id = stack.manager.current().find((i) => i.subject === 'node-reply')!.id;
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-reply')), 'message');
    await stack.notifier.drained();
    const msg = slack.topLevel().find((m) => m.text.includes('node-reply'))!;
    slack.dropResponseNext(1, (method, body) => method === 'chat.postMessage' && body.thread_ts === msg.ts);
    await stack.manager.transition(id, 'remediating', 'restarting the agent', 'agent-remediator');
    await eventually(async () => (await stack.notifier.outbox.deliveries(id)).filter((d) => d.status === 'delivered').length === 2, 'update delivered after the lost answer');
    const replies = slack.replies(msg.ts);
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining('restarting the agent')]);
    expect(replies[0]!.metadata).toEqual({ event_type: 'whistle_notification', event_payload: { incident_id: id, key: expect.stringMatching(new RegExp(`^${id}\\|ops-slack\\|updated\\|`)) } });
    expect((await stack.notifier.outbox.deliveries(id)).map((d) => d.status)).toEqual(['delivered', 'failed', 'delivered']);
    expect(slack.calls.filter((x) => x.method === 'conversations.replies' && x.body.ts === msg.ts)).toHaveLength(1);
  });

  it('a revoked token (invalid_auth) is retried with backoff, counted and shown in the history, and recovers', async () => {
    slack.validToken = 'xoxb-a-new-token';
    const failuresBefore = await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: 'ops-slack' });
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'node-auth' }, t)], 'cert-expiry'));
    await eventually(async () => (await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: 'ops-slack' })) >= failuresBefore + 3, 'three failed attempts');
    const id = stack.manager.current().find((i) => i.subject === 'node-auth')!.id;
    await eventually(async () => (await stack.manager.show(id)).history.some((h) => h.kind === 'notification_failed'), 'failure in history');
    const failed = (await stack.manager.show(id)).history.find((h) => h.kind === 'notification_failed')!;
    expect(failed.reason).toContain('invalid_auth');
    expect(failed.reason).toContain('(attempt 1, auth)');
    expect(await metricValue(stack.registry, 'whistle_notify_failures_total', { channel: 'ops-slack', reason: 'auth' })).toBeGreaterThanOrEqual(3);
    expect(slack.topLevel().some((m) => m.text.includes('node-auth'))).toBe(false);
    expect(stack.notifier.outbox.pendingCount('ops-slack')).toBe(1); // kept, not dropped
    slack.validToken = TOKEN; // the token is fixed
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-auth')), 'delivered once the token works');
    expect(slack.topLevel().filter((m) => m.text.includes('node-auth'))).toHaveLength(1);
  });

  it('never logs the bot token', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
