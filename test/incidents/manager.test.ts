// Incident lifecycle from detector reports: dedup, resolve window, minimum open time, reopen and
// flap damping, and the log that rebuilds it all after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../core/pipeline.ts';
import { IncidentManager } from '../../remediators/incidents/manager.ts';
import type { ChdbStore } from '../../store/chdb-store.ts';
import { capturedLogger, clock, finding, incidentsConfig, openStore, report, tempDir } from './helpers.ts';

const MIN = 60_000;
const cfg = incidentsConfig({ resolveWindowMs: 5 * MIN, minOpenMs: 2 * MIN, reopenWindowMs: 30 * MIN, maxFlapDoublings: 3 });

describe('IncidentManager', () => {
  const tmp = tempDir('incidents');
  let store: ChdbStore;
  const c = clock();
  const { log } = capturedLogger();

  beforeAll(async () => {
    store = await openStore(tmp.dir);
  });
  afterAll(async () => {
    await store.close();
    tmp.cleanup();
  });

  function manager(config = cfg) {
    const m = new IncidentManager({ store, config, log, now: c.now });
    const events: IncidentEvent[] = [];
    m.subscribe({ onIncidentEvent: async (e) => void events.push(e) });
    return { m, events };
  }

  it('opens one incident per fingerprint and attaches repeated findings to it', async () => {
    const { m, events } = manager();
    await m.start();
    const t0 = c.now();
    for (let i = 0; i < 5; i++) {
      await m.report(report(t0 + i * 10_000, [finding({ subject: 'node-a' }, t0 + i * 10_000), finding({ subject: 'node-b' }, t0 + i * 10_000)]));
    }
    await m.idle();
    expect(events.map((e) => [e.kind, e.incident.subject])).toEqual([
      ['opened', 'node-a'],
      ['opened', 'node-b'],
    ]);
    const list = await m.list({ cluster: 'prod-1', active: true });
    expect(list).toHaveLength(2);
    const shown = await m.show(events[0]!.incident.id);
    expect(shown.findings).toHaveLength(1); // repeats do not pile up
    expect(shown.history.map((h) => h.kind)).toEqual(['opened']);
    await m.stop();
  });

  it('updates on a severity change, resolves only after the resolve window and the minimum open time', async () => {
    const { m, events } = manager();
    await m.start();
    const t0 = c.advance(60 * MIN);
    const fp = { subject: 'node-c' };
    await m.report(report(t0, [finding(fp, t0)]));
    await m.report(report(t0 + 10_000, [finding({ ...fp, severity: 'critical', summary: 'disk 96% full' }, t0 + 10_000)]));
    // The detector ran and no longer reports it, but the resolve window has not passed.
    await m.report(report(t0 + 20_000, []));
    await m.report(report(t0 + 4 * MIN, []));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-c').map((e) => e.kind)).toEqual(['opened', 'updated']);
    // A report from another detector says nothing about this incident.
    await m.report(report(t0 + 20 * MIN, [], 'agent-silent'));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-c').map((e) => e.kind)).toEqual(['opened', 'updated']);
    await m.report(report(t0 + 5 * MIN + 10_000, []));
    await m.idle();
    const mine = events.filter((e) => e.incident.subject === 'node-c');
    expect(mine.map((e) => e.kind)).toEqual(['opened', 'updated', 'resolved']);
    expect(mine[2]!.incident.state).toBe('resolved');
    expect(mine[2]!.incident.severity).toBe('critical');
    await m.stop();
  });

  it('a blip is held open for the minimum open time', async () => {
    const { m, events } = manager({ ...cfg, resolveWindowMs: 30_000, minOpenMs: 2 * MIN });
    await m.start();
    const t0 = c.advance(60 * MIN);
    const blip = { subject: 'node-blip' };
    await m.report(report(t0, [finding(blip, t0)]));
    // Unreported for longer than the resolve window, but not open for the minimum time yet.
    await m.report(report(t0 + MIN, []));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-blip').map((e) => e.kind)).toEqual(['opened']);
    await m.report(report(t0 + 2 * MIN, []));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-blip').map((e) => e.kind)).toEqual(['opened', 'resolved']);
    await m.stop();
  });

  it('damps flapping: a returning fingerprint reopens the same incident and the resolve window grows', async () => {
    const { m, events } = manager();
    await m.start();
    let t = c.advance(60 * MIN);
    const f = { subject: 'node-flap' };
    await m.report(report(t, [finding(f, t)]));
    t += 6 * MIN;
    await m.report(report(t, [])); // resolved (5 min window)
    t += MIN;
    await m.report(report(t, [finding(f, t)])); // back: reopens
    t += 6 * MIN;
    await m.report(report(t, [])); // window is now 10 min: still open
    t += 5 * MIN;
    await m.report(report(t, [])); // 11 min: resolves
    await m.idle();
    const mine = events.filter((e) => e.incident.subject === 'node-flap');
    expect(mine.map((e) => [e.kind, e.incident.state])).toEqual([
      ['opened', 'open'],
      ['resolved', 'resolved'],
      ['state_changed', 'open'],
      ['resolved', 'resolved'],
    ]);
    expect(new Set(mine.map((e) => e.incident.id)).size).toBe(1);
    // Beyond the reopen window a returning problem is a new incident.
    t += 31 * MIN;
    c.set(t);
    await m.report(report(t, [finding(f, t)]));
    await m.idle();
    const again = events.filter((e) => e.incident.subject === 'node-flap');
    expect(again.at(-1)!.kind).toBe('opened');
    expect(again.at(-1)!.incident.id).not.toBe(mine[0]!.incident.id);
    await m.stop();
  });

  it('remediators move incidents between states and add history', async () => {
    const { m, events } = manager();
    await m.start();
    const t = c.advance(60 * MIN);
    await m.report(report(t, [finding({ subject: 'etcd-1', detector: 'etcd-quorum' }, t)], 'etcd-quorum'));
    await m.idle();
    const id = events.at(-1)!.incident.id;
    await m.transition(id, 'remediating', 'restarting member', 'etcd-remediator');
    await m.appendHistory(id, { kind: 'action', message: 'member etcd-1 restarted', actor: 'etcd-remediator', detail: { member: 'etcd-1' } });
    await m.transition(id, 'escalated', 'restart did not help', 'etcd-remediator');
    await expect(m.transition(id, 'bogus' as never, 'x', 'y')).rejects.toThrow(/state: must be one of/);
    await expect(m.transition('inc-nope', 'open', 'x', 'y')).rejects.toThrow(/no active incident/);
    await m.idle();
    expect(events.filter((e) => e.incident.id === id).map((e) => [e.kind, e.incident.state])).toEqual([
      ['opened', 'open'],
      ['state_changed', 'remediating'],
      ['state_changed', 'escalated'],
    ]);
    const shown = await m.show(id);
    expect(shown.history.map((h) => [h.kind, h.actor])).toEqual([
      ['opened', 'whistle'],
      ['state_changed', 'etcd-remediator'],
      ['action', 'etcd-remediator'],
      ['state_changed', 'etcd-remediator'],
    ]);
    expect(shown.incident.state).toBe('escalated');
    await m.stop();
  });

  it('rebuilds state after a restart: nothing lost, nothing announced again', async () => {
    const first = manager();
    await first.m.start();
    const t = c.advance(60 * MIN);
    await first.m.report(report(t, [finding({ subject: 'node-r', severity: 'critical' }, t)]));
    await first.m.idle();
    const id = first.events.find((e) => e.incident.subject === 'node-r')!.incident.id;
    await first.m.transition(id, 'remediating', 'cleaning images', 'disk-remediator');
    await first.m.stop();

    const second = manager();
    await second.m.start();
    expect(second.m.get(id)).toMatchObject({ id, state: 'remediating', severity: 'critical', subject: 'node-r' });
    // The detector keeps reporting: attaches, no new event.
    await second.m.report(report(t + 10_000, [finding({ subject: 'node-r', severity: 'critical' }, t + 10_000)]));
    await second.m.idle();
    expect(second.events).toEqual([]);
    // And it still resolves from the rebuilt state.
    c.set(t + 20 * MIN);
    await second.m.report(report(t + 20 * MIN, []));
    await second.m.idle();
    expect(second.events.map((e) => [e.kind, e.incident.id])).toEqual([['resolved', id]]);
    await second.m.stop();
  });

  it('silences and maintenance windows apply in their time range and expire on their own', async () => {
    const { m } = manager();
    await m.start();
    const t = c.advance(60 * MIN);
    await m.report(report(t, [finding({ subject: 'node-sil', labels: { node: 'node-sil', pool: 'gpu' } }, t), finding({ subject: 'node-other' }, t)]));
    const sil = m.current().find((i) => i.subject === 'node-sil')!;
    const other = m.current().find((i) => i.subject === 'node-other')!;
    const s1 = await m.suppressions.createSilence({ matchers: [{ name: 'pool', value: 'gpu' }, { name: 'severity', value: 'critical', negate: true }], endsAt: t + 10 * MIN, comment: 'gpu pool rebuild', createdBy: 'alice' });
    expect(m.suppressedBy(sil.id)).toEqual({ kind: 'silence', id: s1.id, comment: 'gpu pool rebuild' });
    expect(m.isSuppressed(other.id)).toBe(false);
    const w = await m.suppressions.createMaintenance({ cluster: 'prod-1', startsAt: t + 20 * MIN, endsAt: t + 30 * MIN, comment: 'upgrade', createdBy: 'bob' });
    c.set(t + 11 * MIN); // the silence ended by itself; the window has not started
    expect(m.isSuppressed(sil.id)).toBe(false);
    expect(m.isSuppressed(other.id)).toBe(false);
    c.set(t + 25 * MIN);
    expect(m.suppressedBy(other.id)).toMatchObject({ kind: 'maintenance', id: w.id });
    c.set(t + 31 * MIN);
    expect(m.isSuppressed(other.id)).toBe(false);
    // Listed from the store by a fresh manager (another replica or after a restart).
    const { m: m2 } = manager();
    await m2.start();
    expect(m2.suppressions.listSilences().map((x) => x.id)).toContain(s1.id);
    expect(m2.suppressions.listSilences({ activeOnly: true }).map((x) => x.id)).not.toContain(s1.id);
    expect(m2.suppressions.listMaintenance({ cluster: 'prod-1' }).map((x) => x.id)).toContain(w.id);
    await m2.stop();
    await m.stop();
  });

  it('a tick that began before a remediator resolved the incident does not reopen it; a later one does', async () => {
    const { m, events } = manager(incidentsConfig({ resolveWindowMs: 5 * MIN, minOpenMs: 0, reopenWindowMs: 0, maxFlapDoublings: 3 }));
    await m.start();
    const t0 = c.advance(60 * MIN);
    const fp = { subject: 'node-race' };
    await m.report(report(t0, [finding(fp, t0)]));
    const opened = events.find((e) => e.kind === 'opened' && e.incident.subject === 'node-race')!.incident;
    // The tick starts (its clock reads t1), the remediator fixes and resolves meanwhile, then the
    // tick delivers what it read before the fix.
    const t1 = c.advance(10_000);
    c.advance(5_000);
    await m.transition(opened.id, 'resolved', 'disk cleaned up and verified', 'disk-cleanup');
    await m.report(report(t1, [finding(fp, t1)]));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-race').map((e) => e.kind)).toEqual(['opened', 'resolved']);
    // Also once the resolved record is forgotten (reopenWindowMs 0 drops it at the next refresh).
    await m.refresh();
    await m.report(report(t1, [finding(fp, t1)]));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-race').map((e) => e.kind)).toEqual(['opened', 'resolved']);
    // A tick that began after the resolve is news: the problem is back.
    const t2 = c.advance(10_000);
    await m.report(report(t2, [finding(fp, t2)]));
    await m.idle();
    expect(events.filter((e) => e.incident.subject === 'node-race').map((e) => e.kind)).toEqual(['opened', 'resolved', 'opened']);
    await m.stop();
  });
});
