// Kill one of three TLS members: the etcd-quorum incident opens, the remediator removes the member,
// resets its node and joins it back, all three end healthy, the incident resolves, keys written
// before are all there, and a writer running throughout sees no failed write once the replacement
// has begun. The longest gap between two successful writes is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import { Etcd3 } from 'etcd3';
import { openClient } from '../../bootstrap/etcd/client.ts';
import { EtcdHarness } from './harness.ts';
import { eventually } from './poll.ts';

const h = new EtcdHarness({ subnet: 61, members: 3, telemetryMs: 500 });

beforeAll(async () => {
  await h.start();
  await h.bootstrap();
}, 120_000);

afterAll(async () => {
  await h.close();
});

/** The longest time without a successful write from `from` on (write completion times, in order). */
function longestGap(oks: readonly number[], from: number): number {
  let longest = 0;
  let prev = from;
  for (const t of oks) {
    if (t < from) continue;
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  return longest;
}

describe('etcd self-healing: one member lost', () => {
  it('bootstraps a 3-member TLS cluster, idempotently', async () => {
    const { body } = await h.api<{ info: EtcdInfo }>('GET', `/v1/etcd/${h.cluster}/info`);
    expect(body.info.quorum).toBe(true);
    expect(body.info.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(body.info.members.every((m) => m.healthy && !m.isLearner)).toBe(true);
    expect(body.info.leader).toBeTruthy();
    // Running init and join again changes nothing.
    const again = await h.api<{ changed: boolean }>('POST', `/v1/etcd/${h.cluster}/join`, { node: 'n2' });
    expect(again.status).toBe(200);
    expect(again.body.changed).toBe(false);
    const init = await h.api<{ changed: boolean }>('POST', `/v1/etcd/${h.cluster}/init`, { node: 'n1' });
    expect(init.body.changed).toBe(false);
    // Plain-text clients are refused: client TLS with certificate auth.
    const plain = await fetch(`http://${h.address(0)}:2379/health`).then(() => 'answered', () => 'refused');
    expect(plain).toBe('refused');
  });

  it('replaces a killed member and keeps every key', async () => {
    // The writer is an ordinary client (etcd3 defaults: retries on another endpoint, circuit breaker).
    const client = new Etcd3({ hosts: h.endpoints(), credentials: h.credentials(0) });
    await eventually('a quiet start (no open etcd incident)', async () => (await h.incidentList()).every((i) => i.state === 'resolved'), 30_000);
    for (let i = 0; i < 100; i++) await client.put(`before/${i}`).value(`v${i}`);
    // Every write's outcome, with when it finished: judged once the replacement's start is on record.
    const oks: number[] = [];
    const failures: { ts: number; key: string; error: string }[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await client.put(`during/${i}`).value(String(i));
          oks.push(Date.now());
        } catch (err) {
          failures.push({ ts: Date.now(), key: `during/${i}`, error: (err as Error).message });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const killedAt = Date.now();
    h.killMember(1);
    const incident = await eventually('etcd-quorum incident', async () => (await h.incidentList()).find((i) => i.state !== 'resolved' && i.updatedAt >= killedAt), 30_000);
    expect(incident.severity).toBe('warning');
    expect((incident.evidence as { state: string }).state).toBe('degraded');
    await eventually('remediation started', async () => (await h.recorder.list({ incidentId: incident.id })).some((a) => a.kind === 'etcd.member-replace'), 30_000);
    const healed = await eventually(
      'all three healthy',
      async () => {
        const info = await h.engine.info(h.cluster);
        return info.quorum && info.members.length === 3 && info.members.every((m) => m.healthy && !m.isLearner) ? info : null;
      },
      90_000,
      500,
    );
    expect(healed.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
    await eventually('incident resolved', async () => h.incident(incident.id)?.state === 'resolved', 60_000);
    stop = true;
    await writer;

    const before = await client.getAll().prefix('before/').strings();
    expect(Object.keys(before)).toHaveLength(100);
    // The replaced member serves the data too.
    const n2 = openClient(`https://${h.address(1)}:2379`, h.tls(1), 2_000);
    expect(await n2.get('before/99').string()).toBe('v99');
    n2.close();
    client.close();

    const actions = await eventually('the replacement recorded as succeeded', async () => {
      const list = await h.recorder.list({ incidentId: incident.id });
      return list.some((a) => a.kind === 'etcd.member-replace' && a.state === 'succeeded') ? list : null;
    }, 30_000);
    for (const a of [...actions].reverse()) console.log(`[etcd-heal] +${((a.ts - killedAt) / 1000).toFixed(2)} s ${a.kind} ${a.state} ${a.state === 'failed' ? a.reason : ''}`);
    const kinds = actions.map((a) => `${a.kind}:${a.state}`);
    expect(kinds).toEqual(expect.arrayContaining(['etcd.member-replace:started', 'etcd.member-replace:succeeded', 'etcd.remove:succeeded', 'etcd.reset:succeeded', 'etcd.join:succeeded']));
    // Nothing was replaced before the kill: a healthy cluster is left alone.
    const early = (await h.recorder.list({ cluster: h.cluster })).filter((a) => a.kind === 'etcd.member-replace' && a.ts < killedAt);
    expect(early).toEqual([]);
    const replaceStartedAt = actions.find((a) => a.kind === 'etcd.member-replace' && a.state === 'started')!.ts;
    const failedAfter = failures.filter((f) => f.ts >= replaceStartedAt);
    console.log(
      `[etcd-heal] writes ok=${oks.length}, failed=${failures.length} (after the replacement began: ${failedAfter.length}); ` +
        `longest write gap ${longestGap(oks, killedAt)} ms since the kill, ${longestGap(oks, replaceStartedAt)} ms since the replacement began`,
    );
    expect(oks.length).toBeGreaterThan(0);
    expect(failedAfter).toEqual([]);
  }, 180_000);
});
