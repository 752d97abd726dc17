// Bad input at volume: 100,000 structure-aware mutations of valid requests (telemetry,
// registration, the operator API; test/helpers/fuzz) sent to a real `whistle start` process
// beside a few well-behaved agents, with the shipped defaults (rate limits included; the fuzzer
// sends from 64 loopback addresses and 16 nodes, as a fleet would). Reports every broken contract
// (5xx, no answer, a 4xx body that is not {error, code} with a registry code naming the field),
// the answers by status and code, Whistle's RSS over the run, whether it is still alive and
// healthy, and from the store afterwards: rows of refused batches (must be 0), fuzz rows against
// what was answered 202, good samples sent against stored. Last line: one JSON object; exit 1 when
// a contract broke.
//   env: FUZZ_REQUESTS (100000), FUZZ_CONCURRENCY (32), FUZZ_SEED (time), FUZZ_MAX_RSS_MB (1536),
//        FUZZ_KEEP_DIR (keep data)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../store/chdb-store.ts';
import { runCampaign } from '../test/helpers/fuzz/campaign.ts';
import { loopbackAddresses, prepareFleet } from '../test/helpers/fuzz/fleet.ts';
import { GoodTraffic } from '../test/helpers/fuzz/good-traffic.ts';
import { RssSampler } from '../test/helpers/fuzz/memory.ts';
import { checkStore } from '../test/helpers/fuzz/store-check.ts';
import { WhistleProcess } from '../test/harness/whistle-process.ts';

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 100_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 32);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
// What "memory bounded" means here: the writer's queue is capped (writer.maxQueueSamples) and the
// fuzzer's state in Whistle (nodes, silences, buckets) is small, so the plane stays near its
// idle RSS plus chDB's caches; a leak per bad request would pass this within 100,000.
const MAX_RSS_MB = Number(process.env.FUZZ_MAX_RSS_MB ?? 1536);
const JOIN = 'fuzz-join-token-0123456789abcdef';
const OPERATOR = 'fuzz-operator-token-0123456789abcdef';
const CLUSTER = 'fuzz';

/** CPU seconds a process has used (user + system), from /proc; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-fuzz-'));
  const whistle = new WhistleProcess({
    dir,
    config: { server: { operatorTokens: [{ name: 'fuzz', token: OPERATOR }] }, clusters: [{ name: CLUSTER, joinToken: JOIN }] },
    env: { WHISTLE_LOG_LEVEL: 'warn' },
  });
  try {
    const url = await whistle.start();
    const pid = whistle.pid!;
    const fleet = await prepareFleet({ url, cluster: CLUSTER, joinToken: JOIN, operatorToken: OPERATOR, fuzzNodes: 16, goodNodes: 4 });
    const memory = new RssSampler(pid);
    const rssAt: Record<string, number> = {};
    const good = new GoodTraffic({ url, cluster: CLUSTER, nodes: fleet.good, intervalMs: 500, samplesPerBatch: 100 });
    console.log(`fuzzing ${url} (pid ${pid}) with ${TOTAL} requests, seed ${SEED}, ${CONCURRENCY} at a time; logs in ${dir}`);
    const cpuBefore = { whistle: cpuSeconds(pid), fuzzer: process.cpuUsage() };
    memory.start();
    good.start();
    const r = await runCampaign({
      port: whistle.port,
      targets: fleet.targets,
      total: TOTAL,
      concurrency: CONCURRENCY,
      seed: SEED,
      sourceAddresses: loopbackAddresses(64),
      progressEvery: Math.max(1, Math.floor(TOTAL / 10)),
      onProgress: (done) => {
        rssAt[done] = memory.now();
        console.log(`  ${done} requests, Whistle RSS ${rssAt[done]} MB`);
      },
    });
    const cpu = { whistle_s: Number((cpuSeconds(pid) - cpuBefore.whistle).toFixed(1)), fuzzer_s: Number((Object.values(process.cpuUsage(cpuBefore.fuzzer)).reduce((a, b) => a + b, 0) / 1e6).toFixed(1)) };
    const goodResult = await good.stop();
    const rss = memory.stop();
    const stillAlive = alive(pid);
    const healthz = stillAlive ? (await fetch(`${url}/healthz`).catch(() => null))?.status ?? 0 : 0;
    // Where the memory is at the end: V8's heap and external buffers (the rest of RSS is chDB).
    const metrics = stillAlive ? await (await fetch(`${url}/metrics`)).text() : '';
    const mb = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0) / 1048576);
    const heap = { used_mb: mb('whistle_process_nodejs_heap_size_used_bytes'), external_mb: mb('whistle_process_nodejs_external_memory_bytes') };
    // An orderly stop drains the writer; then the store is read directly.
    await whistle.stop();
    const store = new ChdbStore(join(dir, 'chdb'));
    const stored = await checkStore(
      store,
      fleet.targets.telemetryNodes.map((n) => n.node),
      fleet.good.map((n) => n.node),
      r.telemetry,
    );
    await store.close();

    for (const f of r.findings) console.log(`FINDING x${f.count}: ${f.problem}\n  ${f.request}`);
    for (const slow of r.slowest) console.log(`slow: ${slow.ms} ms (${slow.status}) ${slow.request}`);
    const result = {
      seed: r.seed,
      requests: r.requests,
      requests_per_sec: Math.round(r.requests / (r.durationMs / 1000)),
      duration_s: Number((r.durationMs / 1000).toFixed(1)),
      p99_ms: r.p99Ms,
      cpu,
      by_status: r.byStatus,
      by_code: r.byCode,
      by_route: r.byKind,
      server_errors: r.serverErrors,
      no_answer: r.noAnswer,
      oversized_cut_off: r.cutOff,
      broken_contracts: r.findingCount,
      alive: stillAlive,
      healthz,
      rss_mb: { start: rss.startMb, peak: rss.peakMb, end: rss.endMb, bound: MAX_RSS_MB, at: rssAt },
      heap_at_end: heap,
      fuzz_samples_accepted: r.fuzzSamplesAccepted,
      fuzz_rows_stored: stored.fuzzRowsStored,
      rows_from_refused_batches: stored.rowsFromRefused,
      over_stored_requests: stored.overStoredRequests.length,
      good_samples_sent: goodResult.samplesSent,
      good_samples_accepted: goodResult.samplesAccepted,
      good_samples_stored: stored.goodSamplesStored,
      good_throttled: goodResult.throttled,
      good_problems: goodResult.problems.length,
    };
    const ok =
      r.findingCount === 0 &&
      rss.peakMb <= MAX_RSS_MB &&
      stillAlive &&
      healthz === 200 &&
      stored.rowsFromRefused === 0 &&
      stored.overStoredRequests.length === 0 &&
      stored.fuzzRowsStored === r.fuzzSamplesAccepted &&
      goodResult.problems.length === 0 &&
      goodResult.samplesAccepted === goodResult.samplesSent &&
      stored.goodSamplesStored === goodResult.samplesAccepted;
    console.log(`${r.requests} requests in ${result.duration_s} s (${result.requests_per_sec}/s, p99 ${r.p99Ms} ms): ${r.serverErrors} 5xx, ${r.noAnswer} unanswered, ${r.findingCount} broken contracts (${r.cutOff} oversized bodies cut off after the server refused them)`);
    console.log(`CPU: Whistle ${cpu.whistle_s} s, fuzzer ${cpu.fuzzer_s} s`);
    console.log(`4xx by code: ${Object.entries(r.byCode).map(([c, n]) => `${c} ${n}`).join(', ')}`);
    console.log(`Whistle ${stillAlive ? 'alive' : 'DEAD'}, /healthz ${healthz}; RSS ${rss.startMb} MB at start, peak ${rss.peakMb} MB, ${rss.endMb} MB at the end (V8 heap ${heap.used_mb} MB, external ${heap.external_mb} MB)`);
    console.log(`fuzz telemetry: ${r.fuzzSamplesAccepted} samples answered 202, ${stored.fuzzRowsStored} stored; rows from refused batches: ${stored.rowsFromRefused}`);
    console.log(`good traffic: ${goodResult.samplesSent} samples sent, ${goodResult.samplesAccepted} accepted, ${stored.goodSamplesStored} stored (${goodResult.throttled} times throttled)`);
    console.log(ok ? 'every contract held' : 'CONTRACTS BROKEN (see above)');
    console.log(JSON.stringify({ ok, ...result }));
    if (!ok) process.exitCode = 1;
  } finally {
    await whistle.kill();
    if (!process.env.FUZZ_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
