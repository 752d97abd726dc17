// A Whistle restart mid-incident: state comes back from the incident log, nothing is announced
// twice, what was decided but not delivered is delivered after the restart (exactly once), and a
// transition logged just before a crash still gets its notification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentManager } from '../../remediators/incidents/manager.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, incidentsConfig, openStore, report, tempDir } from '../incidents/helpers.ts';
import { SlackStandin } from '../standins/slack.ts';
import { eventually, metricValue, startStack, type Stack } from './helpers.ts';

const TOKEN = 'xoxb-restart-secret-token';
const MIN = 60_000;

describe('restart mid-incident', () => {
  const tmp = tempDir('restart');
  const slack = new SlackStandin(TOKEN);
  const { log, lines } = capturedLogger();
  const c = clock();
  let store: ChdbStore;
  let stack: Stack | null = null;

  const notifications = () => ({
    groupWaitMs: 0,
    tickMs: 50,
    repeatIntervalMs: 4 * 3600_000,
    retry: { initialMs: 20, maxMs: 100 },
    channels: [{ type: 'slack', id: 'ops', token: TOKEN, channel: 'C0OPS', slackApiUrl: slack.url, sdkRetries: 0 }],
    defaultChannels: ['ops'],
  });

  async function restart(): Promise<Stack> {
    await stack?.stop();
    await store.close();
    store = await openStore(tmp.dir);
    stack = await startStack({ store, log, notifications: notifications(), now: c.now });
    return stack;
  }

  beforeAll(async () => {
    await slack.start();
    store = await openStore(tmp.dir);
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    await slack.stop();
    tmp.cleanup();
  });

  it('rebuilds state and sends no duplicate; later changes update the same message', async () => {
    let s = await restart();
    const t = c.now();
    const f = finding({ subject: 'node-1', severity: 'critical' }, t);
    await s.manager.report(report(t, [f]));
    await eventually(() => slack.topLevel().length === 1, 'first message');
    await s.notifier.drained();
    const msg = slack.topLevel()[0]!;
    const id = s.manager.current()[0]!.id;
    const posts = () => slack.calls.filter((x) => x.method === 'chat.postMessage' && !x.body.thread_ts).length;

    c.set(t + MIN);
    s = await restart();
    expect(s.manager.get(id)).toMatchObject({ state: 'open', severity: 'critical' });
    await s.manager.report(report(t + MIN, [{ ...f, ts: t + MIN }]));
    await s.notifier.evaluateAll();
    await s.manager.idle();
    await s.notifier.drained();
    expect(posts()).toBe(1);
    expect(msg.edits).toBe(0);

    await s.manager.transition(id, 'remediating', 'pruning images', 'disk-remediator');
    await eventually(() => msg.edits === 1, 'message updated in place after restart');
    await eventually(() => slack.replies(msg.ts).some((r) => r.text.includes('pruning images')), 'thread reply after restart');
    await s.notifier.drained();
    expect(posts()).toBe(1);
  });

  it('delivers what was queued but undelivered before the restart, exactly once', async () => {
    let s = stack!;
    slack.failNext(1_000_000, 503); // Slack is down
    const t = c.advance(60 * MIN);
    await s.manager.report(report(t, [finding({ subject: 'node-down', detector: 'agent-silent' }, t)], 'agent-silent'));
    await eventually(async () => (await metricValue(s.registry, 'whistle_notify_failures_total', { channel: 'ops' })) >= 2, 'failed attempts');
    expect(slack.topLevel().some((m) => m.text.includes('node-down'))).toBe(false);

    s = await restart(); // still down: stays queued
    expect(s.notifier.outbox.pendingCount('ops')).toBe(1);
    slack.failNext(0); // Slack is back
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-down')), 'queued message delivered after restart');
    await s.notifier.drained();
    s = await restart();
    await s.notifier.evaluateAll();
    await s.notifier.drained();
    expect(slack.topLevel().filter((m) => m.text.includes('node-down'))).toHaveLength(1);
  });

  it('a transition logged just before a crash still gets its notification', async () => {
    await stack?.stop();
    stack = null;
    // Only the manager runs (the process dies before the notifier hears of it).
    const m = new IncidentManager({ store, config: incidentsConfig(), log, now: c.now });
    await m.start();
    const t = c.advance(60 * MIN);
    await m.report(report(t, [finding({ subject: 'node-crash', detector: 'kubelet-down' }, t)], 'kubelet-down'));
    await m.stop();

    const s = await restart();
    await eventually(() => slack.topLevel().some((m) => m.text.includes('node-crash')), 'notification after the crash');
    await s.notifier.drained();
    await s.notifier.evaluateAll();
    await s.notifier.drained();
    expect(slack.topLevel().filter((m) => m.text.includes('node-crash'))).toHaveLength(1);
  });

  it('never logs the token', () => {
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
