// Ingest benchmark: simulated agents post batches over HTTP to a Whistle running as its own
// process (embedded chDB) for a fixed time. Prints accepted-to-queryable throughput, request
// latency percentiles, Whistle's peak RSS, and, measured in the same run, the ceiling: the same
// rows inserted straight into chDB. Last line: one JSON object.
//   env: BENCH_SECONDS (default 20), BENCH_AGENTS (64), BENCH_BATCH (1000), BENCH_CONCURRENCY (16)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../store/chdb-store.ts';
import { migrate } from '../store/migrate.ts';
import { freePort } from '../test/harness/ports.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 64);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const JOIN = 'bench-join-token-0123456789abcdef';
const OPERATOR = 'bench-operator-token-0123456789abcdef';

const METRICS = ['node_filesystem_used_bytes', 'node_filesystem_size_bytes', 'node_memory_available_bytes', 'node_load1', 'node_cpu_utilisation', 'probe_http_up'];

function batchBody(node: string, ts: number): string {
  const samples = Array.from({ length: BATCH }, (_, i) => ({
    name: METRICS[i % METRICS.length],
    value: Math.random() * 1e9,
    ts: ts - (i % 60) * 1000,
    labels: { mount: `/mnt/disk${i % 16}`, device: `/dev/sd${String.fromCharCode(97 + (i % 16))}`, fstype: 'ext4' },
  }));
  return JSON.stringify({ cluster: 'bench', node, samples });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function post(port: number, path: string, body: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function get(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${OPERATOR}` } });
  return r.text();
}

async function flushedSamples(port: number): Promise<number> {
  const m = /^whistle_writer_flushed_samples_total (\d+)/m.exec(await get(port, '/metrics'));
  return Number(m?.[1] ?? 0);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function ceiling(dir: string, bodies: string[]): Promise<number> {
  // The same rows, already encoded the way the writer encodes them, inserted straight into chDB.
  const store = new ChdbStore(join(dir, 'ceiling'));
  await migrate(store, { retentionDays: 30 });
  const rowsPerInsert = 50_000;
  const encoded: string[] = [];
  for (const b of bodies) {
    const parsed = JSON.parse(b) as { node: string; samples: { name: string; value: number; ts: number; labels: Record<string, string> }[] };
    for (const s of parsed.samples)
      encoded.push(`{"cluster":"bench","node":${JSON.stringify(parsed.node)},"name":${JSON.stringify(s.name)},"ts":${s.ts},"value":${s.value},"batch_id":1,"labels":${JSON.stringify(s.labels)}}`);
  }
  const chunks: string[] = [];
  for (let i = 0; i < encoded.length; i += rowsPerInsert) chunks.push(encoded.slice(i, i + rowsPerInsert).join('\n'));
  let rows = 0;
  const start = performance.now();
  while (performance.now() - start < 5000) {
    for (const c of chunks) {
      await store.insertJsonEachRow('samples', c);
      rows += rowsPerInsert;
    }
  }
  const secs = (performance.now() - start) / 1000;
  await store.close();
  return rows / secs;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-bench-'));
  const port = await freePort();
  const cfgPath = join(dir, 'whistle.yaml');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      dataDir: dir,
      server: { port, operatorTokens: [{ name: 'bench', token: OPERATOR }] },
      store: { path: join(dir, 'chdb') },
      writer: { spoolDir: join(dir, 'spool') },
      clusters: [{ name: 'bench', joinToken: JOIN }],
      agent: { enabled: false },
    }),
  );
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), 'bin/whistle.js', 'start', '--no-agent', '-c', cfgPath], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WHISTLE_LOG_LEVEL: 'warn' } });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        if (i > 300) throw new Error('Whistle did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const tokens: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const reg = await post(port, '/v1/register', JSON.stringify({ cluster: 'bench', node: `agent-${i}`, joinToken: JOIN }));
      tokens.push((JSON.parse(reg.text) as { token: string }).token);
      await fetch(`http://127.0.0.1:${port}/v1/nodes/bench/agent-${i}/authorize`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}` } });
    }
    // Pre-encode a few bodies per agent so the load generator spends its core on sending.
    const bodies = Array.from({ length: AGENTS }, (_, i) => batchBody(`agent-${i}`, Date.now()));
    const latencies: number[] = [];
    let accepted = 0;
    let refused = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = w; performance.now() < end; i += CONCURRENCY) {
          const a = i % AGENTS;
          const t0 = performance.now();
          const r = await post(port, '/v1/telemetry', bodies[a]!, tokens[a]);
          latencies.push(performance.now() - t0);
          if (r.status === 202) accepted += BATCH;
          else if (r.status === 429) {
            refused += BATCH;
            await new Promise((res) => setTimeout(res, 50));
          } else throw new Error(`unexpected ${r.status}: ${r.text}`);
        }
      }),
    );
    const sendSecs = (performance.now() - start) / 1000;
    while ((await flushedSamples(port)) < accepted) await new Promise((r) => setTimeout(r, 20));
    const queryableSecs = (performance.now() - start) / 1000;
    const rss = peakRssMb(child.pid!);
    // Where the memory is: V8 heap and external buffers (from Whistle's own metrics) vs the rest (chDB).
    const metrics = await get(port, '/metrics');
    const gauge = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0) / 1048576);
    const memory = { heap_total_mb: gauge('whistle_process_nodejs_heap_size_total_bytes'), external_mb: gauge('whistle_process_nodejs_external_memory_bytes') };
    latencies.sort((a, b) => a - b);
    const samplesPerSec = accepted / queryableSecs;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const ceil = await ceiling(dir, bodies.slice(0, 50));
    const result = {
      samples_per_sec: Math.round(samplesPerSec),
      ceiling_samples_per_sec: Math.round(ceil),
      ratio: Number((samplesPerSec / ceil).toFixed(3)),
      p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(latencies, 99).toFixed(2)),
      rss_mb: rss,
      ...memory,
      accepted,
      refused_429: refused,
      send_s: Number(sendSecs.toFixed(2)),
      queryable_s: Number(queryableSecs.toFixed(2)),
      agents: AGENTS,
      batch: BATCH,
      concurrency: CONCURRENCY,
    };
    console.log(`accepted ${accepted} samples in ${sendSecs.toFixed(1)} s; all queryable after ${queryableSecs.toFixed(1)} s`);
    console.log(`throughput ${result.samples_per_sec} samples/s (ceiling: chDB direct ${result.ceiling_samples_per_sec}/s, ratio ${result.ratio})`);
    console.log(`request latency p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms; Whistle peak RSS ${rss} MB; 429s: ${refused / BATCH}`);
    console.log(JSON.stringify(result));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
