// Kubernetes ingestion benchmark against the real test control plane (kube-apiserver + etcd +
// kwok): BENCH_KUBE_NODES fake nodes (default 1,000) and BENCH_KUBE_PODS pods (default 30,000).
// Whistle's watchers run in a child process of their own (embedded chDB) so its RSS is Whistle's
// alone. Measured:
//   sync_s           a fresh Whistle lists nodes+pods+... and has written them to ClickHouse
//   updates_per_sec  BENCH_KUBE_UPDATES pod changes made through the API, from the first write to
//                    Whistle having ingested them all (bounded by the API server's own write rate,
//                    printed beside it as api_writes_per_sec)
//   rss_mb           Whistle's peak RSS over the run
// Last line: one JSON object.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODES = Number(process.env.BENCH_KUBE_NODES ?? 1000);
const PODS = Number(process.env.BENCH_KUBE_PODS ?? 30_000);
const UPDATES = Number(process.env.BENCH_KUBE_UPDATES ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_KUBE_CONCURRENCY ?? 32);

type ToWorker = { cmd: 'start'; kubeconfig: string; dir: string } | { cmd: 'stats' } | { cmd: 'stop' };
interface WorkerStats {
  received: number;
  written: number;
  pending: number;
  maxRssMb: number;
  syncedAt: number | null;
  startedAt: number;
  cpuMs: number;
  objects: Record<string, number>;
  listMs: Record<string, number | null>;
}
type FromWorker = { type: 'stats'; stats: WorkerStats } | { type: 'error'; message: string };

// ------------------------------------------------------------------ worker (Whistle) --------
async function worker(): Promise<void> {
  const { ChdbStore } = await import('../store/chdb-store.ts');
  const { migrate } = await import('../store/migrate.ts');
  const { KubeIngest, clustersFromKubeconfig } = await import('../ingest/kube/kube-ingest.ts');
  let ingest: InstanceType<typeof KubeIngest> | null = null;
  let store: InstanceType<typeof ChdbStore> | null = null;
  let startedAt = 0;
  let syncedAt: number | null = null;
  let maxRss = 0;
  const sampleRss = () => (maxRss = Math.max(maxRss, process.memoryUsage.rss()));
  setInterval(sampleRss, 100).unref();
  const stats = (): WorkerStats => {
    sampleRss();
    const st = ingest?.status()[0];
    return {
      received: ingest?.received ?? 0,
      written: (ingest?.writer.stats.objectRowsWritten ?? 0) + (ingest?.writer.stats.eventRowsWritten ?? 0),
      pending: ingest?.writer.pending ?? 0,
      maxRssMb: Math.round(Math.max(maxRss, process.resourceUsage().maxRSS * 1024) / 1048576),
      syncedAt,
      startedAt,
      cpuMs: (() => {
        const u = process.cpuUsage();
        return Math.round((u.user + u.system) / 1000);
      })(),
      objects: Object.fromEntries((st?.resources ?? []).map((r) => [r.kind, r.objects])),
      listMs: Object.fromEntries((st?.resources ?? []).map((r) => [r.kind, r.lastListMs])),
    };
  };
  const send = (m: FromWorker) => process.send?.(m);
  process.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        if (m.cmd === 'start') {
          store = new ChdbStore(join(m.dir, 'chdb'));
          await migrate(store, { retentionDays: 7 });
          startedAt = Date.now();
          ingest = new KubeIngest({ store, clusters: clustersFromKubeconfig(m.kubeconfig) });
          ingest.start();
          await ingest.waitSynced();
          syncedAt = Date.now();
        } else if (m.cmd === 'stop') {
          await ingest?.stop();
          await store?.close();
          send({ type: 'stats', stats: stats() });
          process.exit(0);
        }
        send({ type: 'stats', stats: stats() });
      } catch (err) {
        send({ type: 'error', message: (err as Error).stack ?? String(err) });
      }
    })();
  });
}

class Whistle {
  private waiters: ((m: FromWorker) => void)[] = [];
  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => this.waiters.shift()?.(m));
  }
  static spawn(): Whistle {
    const child = fork(fileURLToPath(import.meta.url), ['--worker'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    return new Whistle(child);
  }
  ask(m: ToWorker): Promise<WorkerStats> {
    return new Promise((resolve, reject) => {
      this.waiters.push((r) => (r.type === 'stats' ? resolve(r.stats) : reject(new Error(`whistle worker: ${r.message}`))));
      this.child.send(m);
    });
  }
}

// ------------------------------------------------------------------ driver -----------------
async function main(): Promise<void> {
  const { startKubeCluster } = await import('../test/harness/kube/cluster.ts');
  const log = (m: string) => console.log(`[bench:kube ${new Date().toISOString().slice(11, 19)}] ${m}`);
  const dir = mkdtempSync(join(tmpdir(), 'whistle-kube-bench-'));
  const t0 = Date.now();
  const cluster = await startKubeCluster({ log });
  // Ctrl-C or a CI timeout must not leave the control plane running.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void cluster.stop().finally(() => process.exit(130));
    });
  }
  try {
    log(`control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s (kubernetes ${cluster.versions.kubernetes}, etcd ${cluster.versions.etcd}, kwok ${cluster.versions.kwok})`);
    let t = Date.now();
    const nodes = await cluster.createFakeNodes(NODES);
    log(`${NODES} fake nodes Ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    await cluster.createNamespace('bench');
    t = Date.now();
    const perNs = 5000;
    for (let i = 0; i * perNs < PODS; i++) {
      const n = Math.min(perNs, PODS - i * perNs);
      await cluster.createPods('bench', n, nodes, { prefix: `p${i}`, concurrency: CONCURRENCY });
      log(`  ${i * perNs + n} pods created (${(((i * perNs + n) / (Date.now() - t)) * 1000).toFixed(0)}/s)`);
    }
    const createS = (Date.now() - t) / 1000;
    log(`${PODS} pods created in ${createS.toFixed(1)} s; waiting for kwok to run them`);
    for (;;) {
      const running = await countRunning(cluster.api);
      if (running >= PODS) break;
      log(`  ${running}/${PODS} Running`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    log(`all pods Running ${((Date.now() - t) / 1000).toFixed(1)} s after the first create`);

    // Initial sync: a fresh Whistle against the full cluster.
    const whistle = Whistle.spawn();
    const synced = await whistle.ask({ cmd: 'start', kubeconfig: cluster.kubeconfigPath, dir });
    const syncS = ((synced.syncedAt ?? 0) - synced.startedAt) / 1000;
    log(`initial sync: ${synced.received} objects listed and written in ${syncS.toFixed(2)} s (${Math.round(synced.received / syncS)}/s); objects ${JSON.stringify(synced.objects)}; list ms ${JSON.stringify(synced.listMs)}`);

    // Updates: annotate pods through the API while Whistle watches.
    const before = await whistle.ask({ cmd: 'stats' });
    const base = before.received;
    const targets = Array.from({ length: UPDATES }, (_, i) => `p${Math.floor((i % PODS) / perNs)}-${(i % PODS) % perNs}`);
    const tA = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < targets.length) {
          const i = next++;
          await cluster.api.json('PATCH', `/api/v1/namespaces/bench/pods/${targets[i]}`, { metadata: { annotations: { 'bench/update': String(i) } } }, 'application/merge-patch+json');
        }
      }),
    );
    const tB = Date.now();
    let st = await whistle.ask({ cmd: 'stats' });
    while (st.received - base < UPDATES || st.pending > 0) {
      if (Date.now() - tB > 120_000) throw new Error(`Whistle ingested ${st.received - base} of ${UPDATES} updates in 120 s after the last write`);
      await new Promise((r) => setTimeout(r, 20));
      st = await whistle.ask({ cmd: 'stats' });
    }
    const tC = Date.now();
    const apiRate = UPDATES / ((tB - tA) / 1000);
    const updRate = (st.received - base) / ((tC - tA) / 1000);
    // Whistle's CPU per change: what it could take if the API wrote faster than this 2-core box lets it.
    const cpuS = (st.cpuMs - before.cpuMs) / 1000;
    const capacity = (st.received - base) / Math.max(cpuS, 0.001);
    log(`Whistle used ${cpuS.toFixed(2)} CPU-s for those changes: ~${capacity.toFixed(0)} changes per CPU-second`);
    log(`updates: ${UPDATES} API writes in ${((tB - tA) / 1000).toFixed(1)} s (${apiRate.toFixed(0)}/s); Whistle had all ${st.received - base} changes written ${tC - tB} ms after the last write (${updRate.toFixed(0)}/s)`);
    const final = await whistle.ask({ cmd: 'stop' });
    log(`Whistle peak RSS ${final.maxRssMb} MB`);
    console.log(
      JSON.stringify({
        bench: 'kube',
        nodes: NODES,
        pods: PODS,
        sync_s: Number(syncS.toFixed(2)),
        sync_objects: synced.received,
        updates: UPDATES,
        updates_per_sec: Math.round(updRate),
        api_writes_per_sec: Math.round(apiRate),
        catch_up_ms: tC - tB,
        updates_per_cpu_sec: Math.round(capacity),
        sync_objects_per_sec: Math.round(synced.received / syncS),
        rss_mb: final.maxRssMb,
        pod_create_per_sec: Math.round(PODS / createS),
        kubernetes: cluster.versions.kubernetes,
        etcd: cluster.versions.etcd,
      }),
    );
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function countRunning(api: import('../ingest/kube/api-client.ts').KubeApi): Promise<number> {
  let n = 0;
  let cont = '';
  do {
    const q = new URLSearchParams({ limit: '5000', fieldSelector: 'status.phase=Running' });
    if (cont) q.set('continue', cont);
    const page = await api.get<{ items: unknown[]; metadata: { continue?: string } }>(`/api/v1/namespaces/bench/pods?${q}`);
    n += page.items.length;
    cont = page.metadata.continue ?? '';
  } while (cont);
  return n;
}

if (process.argv.includes('--worker')) await worker();
else
  await main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
