// Detector benchmark: BENCH_NODES simulated nodes (default 10,000) report to an in-process Whistle
// (embedded chDB). Set-up writes 6 h of sparse filesystem history plus the last minutes at the
// agents' 10 s interval straight into the store, registers every node as authorized, then keeps all
// nodes reporting every 10 s through the writer while the engine ticks on its own schedule. Once
// per tick a faulty sample (a disk at 97 %) is POSTed to /v1/telemetry for a fresh node; the detect
// delay runs from that POST being accepted (202) to the incident opening.
// Prints the tick's cost (p50/p99, and the cold first tick), per-detector time, the detect delay,
// and as its last line one JSON object.
//   env: BENCH_NODES (10000), BENCH_TICKS (12), BENCH_TICK_MS (10000)
import { ingestServices } from '../ingest/services.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Whistle } from '../app/whistle.ts';
import { parseConfig } from '../app/config.ts';
import type { IncidentEvent, IncidentListener } from '../core/pipeline.ts';
import { fingerprint } from '../detectors/api.ts';
import { detectorServices } from '../detectors/services.ts';
import { incidentServices } from '../remediators/incidents/services.ts';
import type { TickResult } from '../detectors/engine.ts';
import { hashToken } from '../core/http/tokens.ts';
import { ChdbStore } from '../store/chdb-store.ts';
import { migrate } from '../store/migrate.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 12);
const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 10_000);
const INTERVAL_MS = 10_000;
const CLUSTER = 'bench';
const JOIN = 'bench-join-token-0123456789abcdef';
const OPERATOR = 'bench-operator-token-0123456789abcdef';
const GiB = 1024 ** 3;
const MOUNTS = ['/', '/var'];

const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Per node: a steady used share and a small growth, so fits have something to do. */
const usedShare = Array.from({ length: NODES }, (_, i) => 0.3 + ((i * 7919) % 400) / 1000);
const growthPerHour = Array.from({ length: NODES }, (_, i) => ((i * 104729) % 50) * 0.01 * GiB);

function nodeRows(i: number, ts: number, full: boolean, hoursAgo = 0, batchId = 0): string[] {
  const node = nodeName(i);
  const head = `{"cluster":"${CLUSTER}","node":"${node}","ts":${ts},"batch_id":${batchId},`;
  const out: string[] = [];
  for (const mount of MOUNTS) {
    const labels = `{"mount":"${mount}","device":"/dev/vda${mount === '/' ? 1 : 2}","fstype":"ext4","readonly":"false"}`;
    const used = usedShare[i]! * 100 * GiB - growthPerHour[i]! * hoursAgo;
    out.push(`${head}"name":"node_filesystem_size_bytes","value":${100 * GiB},"labels":${labels}}`);
    out.push(`${head}"name":"node_filesystem_used_bytes","value":${Math.round(used)},"labels":${labels}}`);
    out.push(`${head}"name":"node_filesystem_files","value":6553600,"labels":${labels}}`);
    out.push(`${head}"name":"node_filesystem_files_used","value":${200_000 + i},"labels":${labels}}`);
  }
  if (full) {
    out.push(`${head}"name":"probe_http_up","value":1,"labels":{"probe":"kubelet","target":"https://127.0.0.1:10250/healthz"}}`);
    out.push(`${head}"name":"probe_dns_up","value":1,"labels":{"probe":"cluster-dns","query":"kubernetes.default","type":"A","resolver":"10.96.0.10"}}`);
    out.push(`${head}"name":"cert_expiry_seconds","value":${90 * 86400},"labels":{"probe":"kubelet","path":"/var/lib/kubelet/pki/kubelet.crt","subject":"CN=${node}","serial":"${i.toString(16)}"}}`);
    out.push(`${head}"name":"node_load1","value":${(i % 40) / 10},"labels":{}}`);
  }
  return out;
}

async function setup(store: ChdbStore, now: number, faultTokens: Map<number, string>): Promise<number> {
  let rows = 0;
  const nodes: string[] = [];
  for (let i = 0; i < NODES; i++) {
    const token = faultTokens.get(i) ?? randomBytes(16).toString('hex');
    nodes.push(
      JSON.stringify({
        cluster: CLUSTER,
        node: nodeName(i),
        status: 'authorized',
        token_hash: hashToken(token),
        registered_at: now - 86_400_000,
        updated_at: now - 86_400_000,
        updated_by: 'bench',
        address: '127.0.0.1',
        agent_version: 'bench',
        version: i + 1,
      }),
    );
  }
  await store.insertJsonEachRow('nodes', nodes.join('\n'));
  // 6 h of filesystem history every 10 min, then the last 5 min at the agents' interval.
  const write = async (lines: string[]) => {
    await store.insertJsonEachRow('samples', lines.join('\n'));
    rows += lines.length;
  };
  const buf: string[] = [];
  for (let ago = 6 * 3_600_000; ago > 5 * 60_000; ago -= 10 * 60_000) {
    for (let i = 0; i < NODES; i++) buf.push(...nodeRows(i, now - ago, false, ago / 3_600_000));
    if (buf.length > 200_000) await write(buf.splice(0));
  }
  for (let ago = 5 * 60_000; ago >= 0; ago -= INTERVAL_MS) {
    for (let i = 0; i < NODES; i++) buf.push(...nodeRows(i, now - ago, true, ago / 3_600_000));
    if (buf.length > 200_000) await write(buf.splice(0));
  }
  if (buf.length) await write(buf);
  return rows;
}

/** Measures from a fault's acceptance to its incident opening (the detector's finding, through the manager). */
class TimingListener implements IncidentListener {
  /** fingerprint -> when the fault was accepted */
  pending = new Map<string, number>();
  delays: number[] = [];
  async onIncidentEvent(e: IncidentEvent): Promise<void> {
    if (e.kind !== 'opened' || e.incident.detector !== 'low-disk') return;
    const accepted = this.pending.get(e.incident.fingerprint);
    if (accepted === undefined) return;
    this.delays.push(performance.now() - accepted);
    this.pending.delete(e.incident.fingerprint);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-bench-detect-'));
  const store = new ChdbStore(join(dir, 'chdb'));
  await migrate(store, { retentionDays: 30 });
  const faultNodes = Array.from({ length: TICKS + 2 }, (_, k) => Math.floor(((k + 1) * NODES) / (TICKS + 3)));
  const faultTokens = new Map(faultNodes.map((i) => [i, randomBytes(24).toString('hex')]));
  const t0 = Date.now();
  const rows = await setup(store, t0, faultTokens);
  log(`set-up: ${NODES} nodes, ${rows} samples written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Let the set-up's background merges finish so they do not count against the first ticks.
  const settle = Date.now();
  await store.command('OPTIMIZE TABLE samples FINAL');
  log(`set-up merged in ${((Date.now() - settle) / 1000).toFixed(1)} s`);

  const config = parseConfig({
    dataDir: dir,
    server: { port: 0, operatorTokens: [{ name: 'bench', token: OPERATOR }] },
    store: { kind: 'chdb', path: join(dir, 'chdb') },
    writer: { spoolDir: join(dir, 'spool') },
    clusters: [{ name: CLUSTER, joinToken: JOIN }],
    agent: { enabled: false, stateDir: join(dir, 'agent') },
    detectors: { tickMs: TICK_MS, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4), queries: { warmupChunkMs: 6 * 3_600_000 } },
  });
  const sink = new TimingListener();
  const queries = new Map<string, { n: number; ms: number; rows: number }>();
  const whistle = await Whistle.create(config, { store, logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn' }) });
  whistle.service(incidentServices.manager).subscribe(sink);
  const engine = whistle.service(detectorServices.engine);
  engine.onQuery.push((label, ms, rows) => {
    const q = queries.get(label) ?? { n: 0, ms: 0, rows: 0 };
    q.n++;
    q.ms += ms;
    q.rows += rows;
    queries.set(label, q);
  });
  const ticks: TickResult[] = [];
  engine.onTick.push((t) => {
    ticks.push(t);
    const bad = t.runs.filter((r) => r.outcome !== 'ok');
    log(`tick ${ticks.length}: ${t.ms.toFixed(0)} ms${bad.length ? `, without verdict: ${bad.map((r) => `${r.detector}(${r.outcome}: ${r.error ?? ''})`).join(', ')}` : ''}`);
  });

  // Every node reports every 10 s: one tenth of them each second, through the writer.
  const faulted = new Set<number>();
  let slot = 0;
  const feed = setInterval(() => {
    const ts = Date.now();
    const lines: string[] = [];
    const writer = whistle.service(ingestServices.samplesWriter);
    const id = writer.nextChunkId();
    for (let i = slot; i < NODES; i += 10) if (!faulted.has(i)) lines.push(...nodeRows(i, ts, true, 0, id));
    slot = (slot + 1) % 10;
    writer.enqueue(lines.join('\n'), lines.length, id);
  }, INTERVAL_MS / 10);

  const url = await whistle.start();
  // How long any query waits for the store (chDB runs one statement at a time per session).
  const pings: number[] = [];
  let pinging = true;
  const pinger = (async () => {
    while (pinging) {
      const t = performance.now();
      await store.query('SELECT 1');
      pings.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  // CPU of this process (all threads: HTTP, writer, chDB) while only the feed runs (before the
  // first tick), then while detectors run too: the difference is what detection costs, whatever
  // else the machine is doing.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const feedCpu0 = cpuMs();
  const feedT0 = performance.now();
  await new Promise((r) => setTimeout(r, TICK_MS * 0.8));
  const feedCpuPerSec = (cpuMs() - feedCpu0) / ((performance.now() - feedT0) / 1000);
  const tickDone = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (ticks.length >= n ? resolve() : setTimeout(check, 50));
      check();
    });
  await tickDone(1); // the cold tick: trend windows load their 6 h of history
  // The cold tick holds the store for a while and ingest queues up behind it: measure from the
  // first tick that starts with the writer caught up.
  while (whistle.service(ingestServices.samplesWriter).depth > 0) await new Promise((r) => setTimeout(r, 100));
  await tickDone(ticks.length + 1);
  const warmTicks = ticks.length;
  const runCpu0 = cpuMs();
  const runT0 = performance.now();
  const faults: { node: number; at: number }[] = [];
  const writerDepthAtFault: number[] = [];
  for (let k = 0; k < TICKS; k++) {
    const target = ticks.length + 1;
    // A fault at a random moment within the next tick interval.
    await new Promise((r) => setTimeout(r, Math.random() * TICK_MS * 0.9));
    const i = faultNodes[k]!;
    faulted.add(i);
    const node = nodeName(i);
    const ts = Date.now();
    const body = JSON.stringify({
      cluster: CLUSTER,
      node,
      samples: [
        { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels: { mount: '/var', device: '/dev/vda2', fstype: 'ext4', readonly: 'false' } },
        { name: 'node_filesystem_used_bytes', value: 97 * GiB, ts, labels: { mount: '/var', device: '/dev/vda2', fstype: 'ext4', readonly: 'false' } },
      ],
    });
    writerDepthAtFault.push(whistle.service(ingestServices.samplesWriter).depth);
    const res = await fetch(`${url}/v1/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${faultTokens.get(i)}` }, body });
    const accepted = performance.now();
    if (res.status !== 202) throw new Error(`fault POST refused: ${res.status} ${await res.text()}`);
    sink.pending.set(fingerprint('low-disk', CLUSTER, `${node}:/var:bytes`), accepted);
    faults.push({ node: i, at: accepted });
    await tickDone(target);
  }
  const runSecs = (performance.now() - runT0) / 1000;
  const detectCpuPerTick = ((cpuMs() - runCpu0) / runSecs - feedCpuPerSec) * (TICK_MS / 1000);
  // Let the last fault be seen (at most one more tick).
  const deadline = Date.now() + 2 * TICK_MS + 5000;
  while (sink.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  clearInterval(feed);
  pinging = false;
  await pinger;
  await whistle.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const steady = ticks.slice(warmTicks).map((t) => t.ms).sort((a, b) => a - b);
  const delays = [...sink.delays].sort((a, b) => a - b);
  const perDetector: Record<string, number> = {};
  for (const t of ticks.slice(warmTicks)) for (const r of t.runs) perDetector[r.detector] = (perDetector[r.detector] ?? 0) + r.ms / (ticks.length - warmTicks);
  log('');
  log(`nodes ${NODES}, cluster 1, tick every ${TICK_MS / 1000} s, ${steady.length} steady ticks measured (after ${warmTicks} warm-up ticks, the first one cold)`);
  log(`tick cost: p50 ${pct(steady, 50).toFixed(0)} ms, p99 ${pct(steady, 99).toFixed(0)} ms, max ${(steady.at(-1) ?? 0).toFixed(0)} ms; cold first tick ${ticks[0]!.ms.toFixed(0)} ms`);
  log(`per detector (mean ms, concurrent): ${Object.entries(perDetector).map(([d, ms]) => `${d} ${ms.toFixed(0)}`).join(', ')}`);
  const pingSorted = [...pings].sort((a, b) => a - b);
  log(`store round trip (SELECT 1 every 0.5 s): p50 ${pct(pingSorted, 50).toFixed(0)} ms, p99 ${pct(pingSorted, 99).toFixed(0)} ms`);
  log(`writer queue when each fault was posted (samples waiting): ${writerDepthAtFault.join(', ')}`);
  log(`CPU: feed alone ${feedCpuPerSec.toFixed(0)} ms/s; detection adds ${detectCpuPerTick.toFixed(0)} ms of CPU per tick (all threads)`);
  log(
    `queries (mean ms / rows returned, cold tick included): ${[...queries]
      .map(([l, q]) => `${l} ${(q.ms / q.n).toFixed(0)}ms/${Math.round(q.rows / q.n)}`)
      .join(', ')}`,
  );
  log(`detect delay (accepted -> finding), ${delays.length}/${faults.length} faults: p50 ${pct(delays, 50).toFixed(0)} ms, p99 ${pct(delays, 99).toFixed(0)} ms, max ${(delays.at(-1) ?? 0).toFixed(0)} ms (bound: one tick + 1 s = ${TICK_MS + 1000} ms)`);
  console.log(
    JSON.stringify({
      nodes: NODES,
      tick_interval_ms: TICK_MS,
      ticks: steady.length,
      tick_p50_ms: Math.round(pct(steady, 50)),
      tick_p99_ms: Math.round(pct(steady, 99)),
      cold_tick_ms: Math.round(ticks[0]!.ms),
      detect_cpu_ms_per_tick: Math.round(detectCpuPerTick),
      feed_cpu_ms_per_s: Math.round(feedCpuPerSec),
      loadavg_1m: Number(loadavg()[0]!.toFixed(1)),
      store_ping_p50_ms: Math.round(pct(pingSorted, 50)),
      store_ping_p99_ms: Math.round(pct(pingSorted, 99)),
      detect_p50_ms: Math.round(pct(delays, 50)),
      detect_p99_ms: Math.round(pct(delays, 99)),
      detected: delays.length,
      faults: faults.length,
      setup_samples: rows,
      per_detector_mean_ms: Object.fromEntries(Object.entries(perDetector).map(([d, ms]) => [d, Math.round(ms)])),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
