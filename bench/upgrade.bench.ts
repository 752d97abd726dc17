// Upgrade engine benchmark on the real test control plane (kube-apiserver, controller-manager,
// scheduler, kwok): BENCH_UPGRADE_NODES kwok workers (default 20), each with a real in-process agent
// whose install command the bench controls, and BENCH_UPGRADE_PODS pods (default 60) in three
// Deployments, each guarded by a PDB allowing BENCH_UPGRADE_DISRUPTIONS (default 2) disruptions.
// One rollout to a new release, workers BENCH_UPGRADE_CONCURRENCY at a time (default 1), soak
// BENCH_UPGRADE_SOAK_MS (default 1000). Measured:
//   wall_s                      the rollout, from start to succeeded
//   node_p50_s / node_max_s     per node, from its preflight to the end of its health gate
//   min_ready / min_available   the fewest Ready pods any Deployment had (polled every 100 ms) vs its PDB
//   violations                  polls that saw a Deployment below its minAvailable
//   pdb_refused_evictions       eviction calls the API refused (429) and the drains waited out
// Last line: one JSON object.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAgent } from '../agent/node-agent.ts';
import type { Rollout } from '../bootstrap/upgrade/rollout-store.ts';
import { startKubeCluster } from '../test/harness/kube/cluster.ts';
import { createDeployment, createPdb, podsOf, waitPdbObserved, waitReadyPods } from '../test/harness/kube/workloads.ts';
import { eventually, JOIN_TOKEN, startTestWhistle } from '../test/helpers/whistle.ts';
import { installScript, startAgent } from '../test/upgrade/helpers.ts';
import { onlyDetectors } from '../test/helpers/detectors.ts';

const NODES = Number(process.env.BENCH_UPGRADE_NODES ?? 20);
const PODS = Number(process.env.BENCH_UPGRADE_PODS ?? 60);
const DISRUPTIONS = Number(process.env.BENCH_UPGRADE_DISRUPTIONS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_UPGRADE_CONCURRENCY ?? 1);
const SOAK_MS = Number(process.env.BENCH_UPGRADE_SOAK_MS ?? 1000);
const DEPLOYMENTS = 3;
const NS = 'bench';

const log = (msg: string) => console.error(`[bench:upgrade] ${msg}`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-bench-upgrade-'));
  const cluster = await startKubeCluster({ nodes: 0 });
  const agents: NodeAgent[] = [];
  let stopWatch = false;
  try {
    const nodes = await cluster.createFakeNodes(NODES, { prefix: 'worker' });
    await cluster.createNamespace(NS);
    const per = Math.ceil(PODS / DEPLOYMENTS);
    const minAvailable = per - DISRUPTIONS;
    const labels: Record<string, string>[] = [];
    for (let i = 0; i < DEPLOYMENTS; i++) {
      const l = await createDeployment(cluster.api, NS, `app-${i}`, { replicas: per, spread: true });
      await createPdb(cluster.api, NS, `app-${i}`, { minAvailable, selector: l });
      labels.push(l);
    }
    for (let i = 0; i < DEPLOYMENTS; i++) {
      await waitReadyPods(cluster.api, NS, labels[i]!, per, { timeoutMs: 180_000 });
      await waitPdbObserved(cluster.api, NS, `app-${i}`, per, { timeoutMs: 60_000 });
    }
    log(`${NODES} nodes, ${per * DEPLOYMENTS} pods in ${DEPLOYMENTS} Deployments, PDB minAvailable ${minAvailable} each`);
    const t = await startTestWhistle(
      {
        clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
        detectors: onlyDetectors({ agentSilent: {}, kubeletDown: {}, nodeNotReady: {} }, { tickMs: 2_000 }),
        upgrades: {
          releases: [{ name: 'next', components: { kubelet: '1.34.4' } }],
          concurrency: CONCURRENCY,
          soakMs: SOAK_MS,
          tickMs: 200,
          drainTimeoutMs: 120_000,
          installTimeoutMs: 60_000,
          readyTimeoutMs: 60_000,
        },
      },
      { dir: join(dir, 'whistle') },
    );
    try {
      const script = await installScript(dir);
      for (const node of nodes) agents.push(await startAgent({ dir, server: t.url, node, script, initial: '1.33.5', intervalMs: 1_000 }));
      for (const node of nodes) await eventually(async () => (await t.operator('POST', `/v1/nodes/c1/${node}/authorize`)).status === 200, `${node} authorized`, 60_000, 200);
      await eventually(async () => ((await (await t.operator('GET', '/v1/releases/next')).json()) as { nodes: unknown[] }).nodes.length === NODES, 'every agent reporting', 120_000, 500);

      let minReady = Infinity;
      let violations = 0;
      let polls = 0;
      const watcher = (async () => {
        while (!stopWatch) {
          const counts = await Promise.all(labels.map((l) => podsOf(cluster.api, NS, l).then((ps) => ps.filter((p) => p.ready && !p.terminating).length).catch(() => null)));
          for (const c of counts) {
            if (c === null) continue;
            minReady = Math.min(minReady, c);
            if (c < minAvailable) violations++;
          }
          polls++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const started = Date.now();
      const res = await t.operator('POST', '/v1/upgrades', { cluster: 'c1', release: 'next' });
      if (res.status !== 201) throw new Error(`start: ${res.status} ${await res.text()}`);
      const { rollout } = (await res.json()) as { rollout: Rollout };
      const done = await eventually(
        async () => {
          const r = ((await (await t.operator('GET', `/v1/upgrades/${rollout.id}`)).json()) as { rollout: Rollout }).rollout;
          if (r.state === 'failed' || r.state === 'aborted') throw new Error(`rollout ${r.state}: ${r.reason}`);
          return r.state === 'succeeded' ? r : undefined;
        },
        'the rollout to finish',
        1_800_000,
        200,
      );
      const wallS = (Date.now() - started) / 1000;
      stopWatch = true;
      await watcher;

      const rows = await t.whistle.store.query<{ subject: string; kind: string; state: string; ts: number; detail: string }>(
        `SELECT subject, kind, state, toUnixTimestamp64Milli(ts) AS ts, detail FROM actions WHERE kind IN ('upgrade.preflight', 'upgrade.health-gate', 'upgrade.drain') ORDER BY ts`,
      );
      const startOf = new Map(rows.filter((r) => r.kind === 'upgrade.preflight' && r.state === 'started').map((r) => [r.subject, r.ts]));
      const perNode = rows.filter((r) => r.kind === 'upgrade.health-gate' && r.state === 'succeeded').map((r) => (r.ts - (startOf.get(r.subject) ?? r.ts)) / 1000);
      const refused = rows
        .filter((r) => r.kind === 'upgrade.drain' && r.state === 'succeeded')
        .reduce((n, r) => n + Number((JSON.parse(r.detail) as { after?: { refusedEvictions?: number } }).after?.refusedEvictions ?? 0), 0);
      const result = {
        nodes: NODES,
        upgraded: done.nodes.filter((n) => n.phase === 'done').length,
        pods: per * DEPLOYMENTS,
        concurrency: CONCURRENCY,
        soak_ms: SOAK_MS,
        wall_s: Number(wallS.toFixed(1)),
        node_p50_s: Number(pct(perNode, 50).toFixed(2)),
        node_max_s: Number(Math.max(0, ...perNode).toFixed(2)),
        min_ready: minReady,
        min_available: minAvailable,
        violations,
        watcher_polls: polls,
        pdb_refused_evictions: refused,
      };
      log(`wall ${result.wall_s} s, per node p50 ${result.node_p50_s} s max ${result.node_max_s} s, min Ready ${minReady} vs minAvailable ${minAvailable}, ${refused} evictions refused by PDBs`);
      console.log(JSON.stringify(result));
    } finally {
      stopWatch = true;
      await Promise.allSettled(agents.map((a) => a.stop()));
      await t.stop();
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
