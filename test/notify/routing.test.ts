// Routing by severity, cluster and detector, and Alertmanager-like timing: group wait (a blip that
// resolves sooner is never sent), repeat interval, notify on resolve (or not), and one failing
// incident does not hold up the others on the same channel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, openStore, report, tempDir } from '../incidents/helpers.ts';
import { RecordingChannel, eventually, startStack, type Stack } from './helpers.ts';

const MIN = 60_000;

describe('routing and timing', () => {
  const tmp = tempDir('routing');
  const { log } = capturedLogger();
  const c = clock();
  const pager = new RecordingChannel('pager');
  const chat = new RecordingChannel('chat');
  const mail = new RecordingChannel('mail');
  const staging = new RecordingChannel('staging-chat');
  let store: ChdbStore;
  let stack: Stack;

  beforeAll(async () => {
    store = await openStore(tmp.dir);
    stack = await startStack({
      store,
      log,
      now: c.now,
      channels: [pager, chat, mail, staging],
      notifications: {
        groupWaitMs: 30_000,
        repeatIntervalMs: 60 * MIN,
        tickMs: 60_000, // the test drives evaluation itself
        retry: { initialMs: 20, maxMs: 50 },
        channels: ['pager', 'chat', 'mail', 'staging-chat'].map((id) => ({ type: 'slack', id, token: 't', channel: 'C0OPS1' })),
        routes: [
          { match: { detector: ['cert-expiry'] }, channels: ['mail'], groupWaitMs: 10 * MIN },
          { match: { cluster: ['staging'] }, channels: ['staging-chat'], sendResolved: false },
          { match: { severity: ['critical'] }, channels: ['pager'], continue: true, groupWaitMs: 0 },
          { match: { detector: ['etcd-quorum', 'low-disk'] }, channels: ['chat'] },
        ],
        defaultChannels: ['mail'],
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await store?.close();
    tmp.cleanup();
  });

  async function settle(): Promise<void> {
    await stack.manager.idle();
    await stack.notifier.evaluateAll();
    await stack.notifier.drained();
  }

  it('routes by cluster, severity (continue) and detector, else to the default channels', async () => {
    const t = c.now();
    await stack.manager.report(report(t, [finding({ subject: 'n-crit', severity: 'critical' }, t), finding({ subject: 'n-warn' }, t)]));
    await stack.manager.report(report(t, [finding({ subject: 'n-dns', detector: 'dns-addon-failure' }, t)], 'dns-addon-failure'));
    await stack.manager.report(report(t, [finding({ subject: 'n-stg', cluster: 'staging', severity: 'critical' }, t)], 'low-disk', 'staging'));
    await settle();
    // Critical goes to the pager at once (group wait 0 on that route)...
    expect(pager.kinds('n-crit')).toEqual(['opened']);
    // ...the others wait for the group wait.
    expect(chat.received).toEqual([]);
    c.set(t + 31_000);
    await settle();
    expect(chat.kinds('n-crit')).toEqual(['opened']);
    expect(chat.kinds('n-warn')).toEqual(['opened']);
    expect(pager.kinds('n-warn')).toEqual([]);
    expect(mail.kinds('n-dns')).toEqual(['opened']);
    expect(chat.kinds('n-dns')).toEqual([]);
    expect(staging.kinds('n-stg')).toEqual(['opened']);
    expect(pager.kinds('n-stg')).toEqual([]); // the staging route does not continue
  });

  it('repeats after the repeat interval, once per interval', async () => {
    const t = c.now();
    c.set(t + 59 * MIN);
    await stack.manager.report(report(c.now(), [finding({ subject: 'n-crit', severity: 'critical' }, c.now()), finding({ subject: 'n-warn' }, c.now())]));
    await settle();
    expect(chat.kinds('n-warn')).toEqual(['opened']);
    c.set(t + 61 * MIN);
    await stack.manager.report(report(c.now(), [finding({ subject: 'n-crit', severity: 'critical' }, c.now()), finding({ subject: 'n-warn' }, c.now())]));
    await settle();
    expect(chat.kinds('n-warn')).toEqual(['opened', 'repeat']);
    c.set(t + 62 * MIN);
    await settle();
    expect(chat.kinds('n-warn')).toEqual(['opened', 'repeat']);
  });

  it('notifies on resolve unless the route says not to', async () => {
    c.advance(20 * MIN);
    await stack.manager.report(report(c.now(), [], 'low-disk', 'prod-1'));
    await stack.manager.report(report(c.now(), [], 'low-disk', 'staging'));
    await settle();
    expect(chat.kinds('n-warn').at(-1)).toBe('resolved');
    expect(pager.kinds('n-crit').at(-1)).toBe('resolved');
    expect(staging.kinds('n-stg')).not.toContain('resolved');
  });

  it('never sends a blip that resolved within the group wait', async () => {
    const t = c.advance(60 * MIN);
    // The cert-expiry route waits 10 min; the incident resolves after 5 min unreported.
    await stack.manager.report(report(t, [finding({ subject: 'n-blip', detector: 'cert-expiry' }, t)], 'cert-expiry'));
    c.set(t + 6 * MIN);
    await stack.manager.report(report(c.now(), [], 'cert-expiry'));
    await settle();
    expect(stack.manager.current().find((i) => i.subject === 'n-blip')?.state).toBe('resolved');
    c.set(t + 11 * MIN);
    await settle();
    expect(mail.kinds('n-blip')).toEqual([]);
    // A problem that lasts past the group wait is sent.
    await stack.manager.report(report(c.now(), [finding({ subject: 'n-lasting', detector: 'cert-expiry' }, c.now())], 'cert-expiry'));
    c.advance(10 * MIN);
    await stack.manager.report(report(c.now(), [finding({ subject: 'n-lasting', detector: 'cert-expiry' }, c.now())], 'cert-expiry'));
    await settle();
    expect(mail.kinds('n-lasting')).toEqual(['opened']);
  });

  it('one incident that keeps failing does not hold up the others on the same channel', async () => {
    chat.failWhen = (d) => d.incident.subject === 'n-poison';
    const t = c.advance(60 * MIN);
    await stack.manager.report(report(t, [finding({ subject: 'n-poison' }, t)]));
    c.set(t + 31_000);
    await stack.notifier.evaluateAll();
    await stack.manager.report(report(t + 31_000, [finding({ subject: 'n-poison' }, t + 31_000), finding({ subject: 'n-fine' }, t + 31_000)]));
    c.set(t + 62_000);
    await stack.notifier.evaluateAll();
    await eventually(() => chat.kinds('n-fine').includes('opened'), 'the healthy incident delivered');
    expect(chat.kinds('n-poison')).toEqual([]);
    chat.failWhen = () => false;
    await eventually(() => chat.kinds('n-poison').includes('opened'), 'the failing one delivered once it can be');
  });
});
