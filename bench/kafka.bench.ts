// Kafka scale-out benchmark: simulated agents post batches over HTTP to a Whistle process whose
// telemetry goes through a real Kafka broker (publish, ack, consume, write to chDB), for a fixed
// time; then, in the same run, the same load against the direct path (no Kafka) for comparison.
// Prints samples/s and messages/s from accepted to queryable, request latency, peak RSS.
// Last line: one JSON object.
//   env: BENCH_SECONDS (default 15), BENCH_AGENTS (32), BENCH_BATCH (1000), BENCH_CONCURRENCY (16)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafka } from '../test/harness/kafka/kafka.ts';
import { freePort } from '../test/harness/ports.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 32);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const JOIN = 'bench-join-token-0123456789abcdef';
const OPERATOR = 'bench-operator-token-0123456789abcdef';
const CLUSTERS = ['bench-a', 'bench-b', 'bench-c', 'bench-d'];
const METRICS = ['node_filesystem_used_bytes', 'node_filesystem_size_bytes', 'node_memory_available_bytes', 'node_load1', 'node_cpu_utilisation', 'probe_http_up'];

function batchBody(cluster: string, node: string, ts: number): string {
  const samples = Array.from({ length: BATCH }, (_, i) => ({
    name: METRICS[i % METRICS.length],
    value: Math.random() * 1e9,
    ts: ts - (i % 60) * 1000,
    labels: { mount: `/mnt/disk${i % 16}`, device: `/dev/sd${String.fromCharCode(97 + (i % 16))}`, fstype: 'ext4', ...(i === 0 ? { request: '__REQ__' } : {}) },
  }));
  return JSON.stringify({ cluster, node, samples });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
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

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

const peakRssMb = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

interface RunResult {
  samples_per_sec: number;
  messages_per_sec: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb: number;
  accepted: number;
  refused: number;
}

async function run(kafkaBrokers: string[] | null): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-bench-kafka-'));
  const port = await freePort();
  const cfgPath = join(dir, 'whistle.yaml');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      dataDir: dir,
      server: { port, operatorTokens: [{ name: 'bench', token: OPERATOR }] },
      store: { path: join(dir, 'chdb') },
      writer: { spoolDir: join(dir, 'spool') },
      clusters: CLUSTERS.map((name) => ({ name, joinToken: JOIN })),
      agent: { enabled: false },
      kafka: kafkaBrokers ? { enabled: true, brokers: kafkaBrokers, topic: `bench.${Date.now()}`, partitions: 4, groupId: `bench-${Date.now()}` } : { enabled: false },
    }),
  );
  const label = kafkaBrokers ? 'through Kafka' : 'direct';
  const child = spawn(process.execPath, ['bin/whistle.js', 'start', '--no-agent', '-c', cfgPath], {
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
    env: { ...process.env, WHISTLE_LOG_LEVEL: 'warn' },
  });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        if (i > 600) throw new Error('Whistle did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    console.error(`[bench] ${label}: Whistle up, registering ${AGENTS} agents`);
    const tokens: string[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const cluster = CLUSTERS[i % CLUSTERS.length]!;
      const reg = await post(port, '/v1/register', JSON.stringify({ cluster, node: `agent-${i}`, joinToken: JOIN }));
      tokens.push((JSON.parse(reg.text) as { token: string }).token);
      await fetch(`http://127.0.0.1:${port}/v1/nodes/${cluster}/agent-${i}/authorize`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}` } });
      bodies.push(batchBody(cluster, `agent-${i}`, Date.now()));
    }
    const latencies: number[] = [];
    let accepted = 0;
    let refused = 0;
    let requests = 0;
    let sent = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = w; performance.now() < end; i += CONCURRENCY) {
          const a = i % AGENTS;
          const t0 = performance.now();
          // Every request distinct: through Kafka an identical resend is recognised and dropped.
          const r = await post(port, '/v1/telemetry', bodies[a]!.replace('__REQ__', String(++sent)), tokens[a]);
          latencies.push(performance.now() - t0);
          if (r.status === 202) {
            accepted += BATCH;
            requests++;
          } else if (r.status === 429 || r.status === 503) {
            refused += BATCH;
            await new Promise((res) => setTimeout(res, 50));
          } else throw new Error(`unexpected ${r.status}: ${r.text}`);
        }
      }),
    );
    console.error(`[bench] ${label}: ${accepted} samples accepted in ${SECONDS} s; waiting until they are queryable`);
    for (let last = -1, since = Date.now(); ; ) {
      const flushed = await metric(port, 'whistle_writer_flushed_samples_total');
      if (flushed >= accepted) break;
      if (flushed !== last) [last, since] = [flushed, Date.now()];
      else if (Date.now() - since > 60_000) throw new Error(`${label}: stuck at ${flushed} of ${accepted} samples written`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const secs = (performance.now() - start) / 1000;
    const rss = peakRssMb(child.pid!);
    latencies.sort((a, b) => a - b);
    return {
      samples_per_sec: Math.round(accepted / secs),
      messages_per_sec: Math.round(requests / secs),
      p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(latencies, 99).toFixed(2)),
      rss_mb: rss,
      accepted,
      refused,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const broker = await startKafka();
  console.error(`[bench] broker up at ${broker.brokers[0]}`);
  let viaKafka: RunResult;
  try {
    viaKafka = await run(broker.brokers);
  } finally {
    await broker.destroy();
  }
  const direct = await run(null);
  const result = {
    kafka_samples_per_sec: viaKafka.samples_per_sec,
    kafka_messages_per_sec: viaKafka.messages_per_sec,
    kafka_p50_ms: viaKafka.p50_ms,
    kafka_p99_ms: viaKafka.p99_ms,
    kafka_rss_mb: viaKafka.rss_mb,
    kafka_refused: viaKafka.refused,
    direct_samples_per_sec: direct.samples_per_sec,
    direct_p99_ms: direct.p99_ms,
    direct_rss_mb: direct.rss_mb,
    ratio: Number((viaKafka.samples_per_sec / direct.samples_per_sec).toFixed(3)),
    seconds: SECONDS,
    agents: AGENTS,
    batch: BATCH,
    concurrency: CONCURRENCY,
  };
  console.log(`through Kafka: ${viaKafka.samples_per_sec} samples/s (${viaKafka.messages_per_sec} batches/s) accepted to queryable; p50 ${viaKafka.p50_ms} ms, p99 ${viaKafka.p99_ms} ms; Whistle peak RSS ${viaKafka.rss_mb} MB`);
  console.log(`direct (no Kafka), same run: ${direct.samples_per_sec} samples/s; p99 ${direct.p99_ms} ms; peak RSS ${direct.rss_mb} MB; ratio ${result.ratio}`);
  console.log(JSON.stringify(result));
}

await main();
