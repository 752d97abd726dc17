// bench:etcd-heal: five rounds of kill-and-heal on a real three-member TLS etcd cluster on loopback.
// Each round SIGKILLs one member (rotating, the leader included), then measures the time to detect
// (the etcd-quorum incident opens / turns degraded) and to full health (three voting members healthy,
// through the engine's live view). A writer runs throughout; failed writes are counted.
// Prints per-round figures, p50 and max; the last line is one JSON object.
import { Etcd3 } from 'etcd3';
import { EtcdHarness } from '../test/etcd/harness.ts';
import { eventually } from '../test/etcd/poll.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const h = new EtcdHarness({ subnet: 64, members: 3, telemetryMs: 500 });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  await h.start();
  // Preflight on every node at once (ports free, peers reachable), before anything runs.
  const preflights: number[] = [];
  for (let i = 0; i < 5; i++) {
    const pre = await h.api<{ report: { ok: boolean; durationMs: number; checks: unknown[] } }>('POST', `/v1/etcd/${h.cluster}/preflight`, {});
    if (!pre.body.report.ok) throw new Error(`preflight failed: ${JSON.stringify(pre.body)}`);
    preflights.push(pre.body.report.durationMs);
    await new Promise((r) => setTimeout(r, 500));
  }
  const preflightMs = pct(preflights, 50);
  console.log(`preflight (3 nodes, 12 checks, 5 runs): p50 ${preflightMs} ms, max ${Math.max(...preflights)} ms`);
  await h.bootstrap();
  const client = new Etcd3({ hosts: h.endpoints(), credentials: h.credentials(0) });
  let writes = 0;
  let failed = 0;
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        await client.put(`bench/${i % 1000}`).value(String(i));
        writes++;
      } catch {
        failed++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const detect: number[] = [];
  const heal: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await eventually('a quiet cluster', async () => (await h.incidentList()).every((i) => i.state === 'resolved'), 60_000, 100);
      const victim = round % 3;
      const failedBefore = failed;
      const t0 = Date.now();
      h.killMember(victim);
      await eventually('incident', async () => (await h.incidentList()).some((i) => i.state !== 'resolved' && i.updatedAt >= t0 && (i.evidence as { state?: string }).state === 'degraded'), 60_000, 50);
      const tDetect = Date.now();
      await eventually(
        'full health',
        async () => {
          if (h.pid(victim) === undefined) return false;
          const info = await h.engine.info(h.cluster);
          return info.quorum && info.members.length === 3 && info.members.every((m) => m.healthy && !m.isLearner);
        },
        120_000,
        100,
      );
      const tHeal = Date.now();
      detect.push((tDetect - t0) / 1000);
      heal.push((tHeal - t0) / 1000);
      console.log(`round ${round + 1}: killed n${victim + 1}; detected in ${((tDetect - t0) / 1000).toFixed(2)} s, full health in ${((tHeal - t0) / 1000).toFixed(2)} s, failed writes ${failed - failedBefore}`);
    }
  } finally {
    stop = true;
    await writer;
    client.close();
    await h.close();
  }
  console.log(`detect: p50 ${pct(detect, 50).toFixed(2)} s, max ${Math.max(...detect).toFixed(2)} s`);
  console.log(`heal (kill to full health): p50 ${pct(heal, 50).toFixed(2)} s, max ${Math.max(...heal).toFixed(2)} s`);
  console.log(`writes: ${writes} ok, ${failed} failed`);
  console.log(
    JSON.stringify({ rounds: ROUNDS, preflight_p50_ms: preflightMs, preflight_max_ms: Math.max(...preflights), detect_p50_s: r2(pct(detect, 50)), detect_max_s: r2(Math.max(...detect)), heal_p50_s: r2(pct(heal, 50)), heal_max_s: r2(Math.max(...heal)), failed_writes: failed, writes }),
  );
}

await main();
