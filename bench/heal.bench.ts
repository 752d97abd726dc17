// bench:heal: for each remediation kind, rounds of fault -> incident -> action -> verified healthy,
// on real parts: a Whistle built from config (startTestWhistle), a real control plane with kwok
// nodes, a real in-process agent on the node "kwok-node-0" with a loop-mounted ext4 filesystem and
// an HTTP service standing for its kubelet (restarted by a real script).
//   disk-cleanup:    old rotated logs fill the filesystem over the low-disk level; healed = resolved
//                    by the cleanup (a fresh sample under the target, the detector's next run clear).
//   service-restart: the kubelet stand-in is SIGKILLed; healed = resolved by the restart (a fresh
//                    probe sample up).
//   cordon-drain:    a node carrying 10 Deployment pods loses its heartbeat (the fault is the API
//                    showing it NotReady); healed = the 10 pods Ready on other nodes after the drain.
//                    The node is then brought back and its uncordon timed too (`uncordon_p50_s`).
//   addon-restart:   CoreDNS's pods crash-loop (kwok's pod-crash-loop stage), a real DNS server in
//                    front of it stops answering, the agent's DNS probe fails; healed = the first
//                    dns-addon-failure incident resolved after the rollout restart (new pods
//                    available for `stableForMs` 2 s and the agents' DNS probes up; `verified_p50_s`:
//                    the remediator's own verification, which may come after the detector resolved it).
//   rollout-rollback: a rollout of a 3-replica Deployment whose pods all crash-loop (a restart storm
//                    of one workload across nodes); the rollback plan is approved through the API
//                    the moment it awaits a person (`approval_p50_s`: fault to plan); healed = the
//                    incident resolved after the previous ReplicaSet's template is back; `verified_p50_s`:
//                    the remediator's own verification (every replica available, no restart for
//                    `quietForMs` 5 s), usually after the detector has resolved it.
// Times are from the fault; detect = the incident opened. Prints per-round lines; the last line is
// one JSON object: {kinds: {<kind>: {detect_p50_s, heal_p50_s, heal_max_s, escalated, rounds}}, ...}.
// Needs root (mount) and the kube binaries (test/setup.sh). Aims: detect within one tick plus 1 s,
// disk and kubelet healed within 60 s, a 10-pod node drained within 60 s.
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, statfs, utimes, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createNodeAgent } from '../agent/node-agent.ts';
import { parseConfig } from '../app/config.ts';
import { onlyDetectors } from '../test/helpers/detectors.ts';
import { incidentServices } from '../remediators/incidents/services.ts';
import { remediationServices } from '../remediators/services.ts';
import { FAKE_NODE_LABEL, fakePodToleration, startKubeCluster } from '../test/harness/kube/cluster.ts';
import { startDnsFront } from '../test/harness/kube/dns-front.ts';
import { podsOf, waitReadyPods } from '../test/harness/kube/workloads.ts';
import { freePort } from '../test/harness/ports.ts';
import { eventually, JOIN_TOKEN, startTestWhistle } from '../test/helpers/whistle.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TICK_MS = 1_000;
const NODE = 'kwok-node-0';
const SOLO = 'bench-solo';
const PODS = 10;
const MiB = 1024 ** 2;
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const KUBE_SYSTEM = 'kube-system';
const COREDNS = { app: 'coredns' };
const CRASH = 'whistle.test/crash-loop';
const SHOP = 'shop';
const SHOP_WEB = { app: 'shop-web' };
const SHOP_DEP = `/apis/apps/v1/namespaces/${SHOP}/deployments/shop-web`;
const notOnSolo = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [SOLO] }] }] } } };

const SERVICE = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [port, pidFile] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
createServer((req, res) => res.end('ok')).listen(Number(port), '127.0.0.1');
`;
const RESTART = `#!/bin/sh
old=$(cat "$1")
if kill "$old" 2>/dev/null; then
  while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
fi
nohup "$3" "$4" "$2" "$1" >>"$5" 2>&1 </dev/null &
echo "started, was $old"
`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
const r2 = (x: number) => Math.round(x * 100) / 100;

interface KindFigures {
  detect: number[];
  heal: number[];
  escalated: number;
  extra: Record<string, number[]>;
}

async function main(): Promise<void> {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'whistle-bench-heal-'));
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  execFileSync('truncate', ['-s', '128M', join(dir, 'disk.img')]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', join(dir, 'disk.img')], { stdio: 'pipe' });
  execFileSync('mount', ['-o', 'loop', join(dir, 'disk.img'), mnt], { stdio: 'pipe' });
  const logs = join(mnt, 'log');
  await mkdir(logs);
  const port = await freePort();
  const pidFile = join(dir, 'kubelet.pid');
  const service = join(dir, 'kubelet.mjs');
  await writeFile(service, SERVICE);
  const restart = join(dir, 'restart.sh');
  await writeFile(restart, RESTART);
  await chmod(restart, 0o755);
  spawn(process.execPath, [service, String(port), pidFile], { detached: true, stdio: 'ignore' }).unref();
  const healthz = `http://127.0.0.1:${port}/healthz`;
  await eventually(async () => (await fetch(healthz).then((r) => r.text()).catch(() => '')) === 'ok', 'the kubelet stand-in', 10_000);

  const cluster = await startKubeCluster({ nodes: 3, nodeMonitorGracePeriod: '15s', nodeLeaseDurationSeconds: 12 });
  await cluster.createSoloNode(SOLO);
  await cluster.createNamespace('apps');
  await cluster.createNamespace(KUBE_SYSTEM);
  // CoreDNS on the kwok nodes other than the solo one, whose drain would take it down too.
  await cluster.api.json('POST', `/apis/apps/v1/namespaces/${KUBE_SYSTEM}/deployments`, {
    metadata: { name: 'coredns', labels: COREDNS },
    spec: {
      replicas: 2,
      selector: { matchLabels: COREDNS },
      template: {
        metadata: { labels: COREDNS },
        spec: {
          nodeSelector: FAKE_NODE_LABEL,
          tolerations: fakePodToleration(),
          automountServiceAccountToken: false,
          affinity: notOnSolo,
          containers: [{ name: 'coredns', image: 'registry.example/coredns:1' }],
        },
      },
    },
  });
  await waitReadyPods(cluster.api, KUBE_SYSTEM, COREDNS, 2, { timeoutMs: 120_000 });
  const dns = await startDnsFront(cluster.api, KUBE_SYSTEM, 'coredns');
  // One pod per kwok node; every pod of a new template at once (Recreate), so a bad one crashes everywhere.
  await cluster.createNamespace(SHOP);
  await cluster.api.json('POST', `/apis/apps/v1/namespaces/${SHOP}/deployments`, {
    metadata: { name: 'shop-web', labels: SHOP_WEB },
    spec: {
      replicas: 3,
      selector: { matchLabels: SHOP_WEB },
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: SHOP_WEB },
        spec: {
          nodeSelector: FAKE_NODE_LABEL,
          tolerations: fakePodToleration(),
          automountServiceAccountToken: false,
          affinity: notOnSolo,
          containers: [{ name: 'main', image: 'registry.example/web:1' }],
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: SHOP_WEB } }],
        },
      },
    },
  });
  await waitReadyPods(cluster.api, SHOP, SHOP_WEB, 3, { timeoutMs: 120_000 });
  const t = await startTestWhistle({
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
    detectors: onlyDetectors({ lowDisk: { minSizeBytes: 0, ignoreFsTypes: [], freshMs: 5_000 }, kubeletDown: { forMs: 0, freshMs: 5_000, lookbackMs: 60_000 }, nodeNotReady: { forMs: 0 }, podRestartStorm: { windowMs: 60_000, stormMinPods: 3 }, dnsAddonFailure: { addons: [{ kind: 'Deployment', namespace: KUBE_SYSTEM, name: 'coredns' }], minFailingNodes: 1, freshMs: 5_000 } }, { tickMs: TICK_MS }),
    incidents: { reopenWindowMs: 0, resolveWindowMs: 2_000, minOpenMs: 0, refreshMs: 1_000 },
    // One agent: one node of one may be remediated at a time. The default chains.
    remediation: {
      maxUnhealthy: 1,
      rateLimit: { maxActions: 1000 },
      diskCleanup: { targetUsedPercent: 70, verifyIntervalMs: 200 },
      serviceRestart: { verifyIntervalMs: 200 },
      cordonDrain: { pollMs: 250, reconcileMs: 1_000, drainTimeoutMs: 60_000 },
      rolloutRollback: { quietForMs: 5_000, verifyIntervalMs: 300 },
      addonRestart: { addons: [{ kind: 'Deployment', namespace: KUBE_SYSTEM, name: 'coredns', dns: true }], stableForMs: 2_000, verifyIntervalMs: 300 },
    },
  });
  const manager = t.whistle.service(incidentServices.manager);
  const seen = new Map<string, { state: string; at: number }[]>();
  manager.subscribe({ onIncidentEvent: async (e) => void seen.set(e.incident.id, [...(seen.get(e.incident.id) ?? []), { state: e.incident.state, at: Date.now() }]) });
  const agent = createNodeAgent(
    parseConfig({
      agent: {
        server: t.url,
        cluster: 'c1',
        node: NODE,
        joinToken: JOIN_TOKEN,
        intervalMs: 500,
        stateDir: join(dir, 'agent'),
        excludeMountPoints: `^(?!${mnt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$)`,
        probes: { http: [{ name: 'kubelet', url: healthz, timeoutMs: 500 }], dns: [{ name: 'cluster-dns', query: 'kubernetes.default.svc.cluster.local', resolver: dns.resolver, timeoutMs: 500 }] },
        tasks: {
          enabled: true,
          etcdMember: false,
          diskCleanup: { steps: [{ kind: 'rotated-logs', directories: [logs], olderThanHours: 1 }] },
          services: [{ unit: 'kubelet', restart: [restart, pidFile, String(port), process.execPath, service, join(dir, 'kubelet.log')], timeoutMs: 10_000, probe: { url: healthz, waitMs: 3_000, intervalMs: 100 } }],
        },
      },
    }).agent,
    { logger: pino({ level: 'silent' }) },
  );
  await agent.start();
  await eventually(async () => (await t.operator('POST', `/v1/nodes/c1/${NODE}/authorize`)).status === 200, 'the agent authorized', 30_000, 200);

  const figures: Record<string, KindFigures> = {};
  const fig = (kind: string) => (figures[kind] ??= { detect: [], heal: [], escalated: 0, extra: {} });
  const newIncident = (detector: string, subject: string, after: number) =>
    eventually(async () => manager.current().find((i) => i.detector === detector && i.subject === subject && i.openedAt >= after), `a ${detector} incident for ${subject}`, 120_000, 50);
  const quiet = () => eventually(async () => !manager.current().some((i) => i.state !== 'resolved'), 'no active incident', 120_000, 200);
  /** Waits for resolved or escalated; answers which and when. */
  /**
   * When the remediator's own verification passed (its action's `succeeded` row), from t0: the
   * incident may resolve earlier, by the detector no longer seeing the fault (resolveWindowMs 2 s).
   */
  const verified = async (kind: string, id: string, t0: number) => {
    const done = await eventually(async () => (await t.whistle.service(remediationServices.recorder).list({ incidentId: id })).find((a) => a.kind === kind && a.state === 'succeeded'), `the ${kind} of ${id} verified`, 120_000, 100);
    return (done.ts - t0) / 1000;
  };
  const outcome = (id: string) =>
    eventually(async () => seen.get(id)?.find((s) => s.state === 'resolved' || s.state === 'escalated'), `incident ${id} resolved or escalated`, 240_000, 50);

  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // disk-cleanup: two-day-old rotated logs until the filesystem is 90 % used (by statfs, as the agent measures).
      await quiet();
      const old = new Date(Date.now() - 2 * 86_400_000);
      for (let i = 1; ; i++) {
        const st = await statfs(mnt);
        if ((st.blocks - st.bfree) / st.blocks >= 0.9) break;
        const p = join(logs, `app.log.${round}.${i}`);
        await writeFile(p, Buffer.alloc(MiB, 7));
        await utimes(p, old, old);
      }
      let t0 = Date.now();
      let inc = await newIncident('low-disk', `${NODE}:${mnt}:bytes`, t0 - TICK_MS);
      let end = await outcome(inc.id);
      record('disk-cleanup', round, t0, inc.openedAt, end);
      for (const f of await readdir(logs)) await rm(join(logs, f), { force: true });

      // service-restart: the kubelet stand-in dies.
      await quiet();
      t0 = Date.now();
      process.kill(Number(await readFile(pidFile, 'utf8')), 'SIGKILL');
      inc = await newIncident('kubelet-down', NODE, t0);
      end = await outcome(inc.id);
      record('service-restart', round, t0, inc.openedAt, end);

      // cordon-drain: 10 pods of a Deployment on the solo node, which then goes NotReady.
      await quiet();
      const name = `web-r${round}`;
      const others = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2'];
      for (const n of others) await cluster.api.json('PATCH', `/api/v1/nodes/${n}`, { spec: { unschedulable: true } }, MERGE_PATCH);
      await cluster.api.json('POST', '/apis/apps/v1/namespaces/apps/deployments', {
        metadata: { name, labels: { app: name } },
        spec: {
          replicas: PODS,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { nodeSelector: FAKE_NODE_LABEL, tolerations: fakePodToleration(), automountServiceAccountToken: false, containers: [{ name: 'main', image: 'registry.example/fake:1' }] } },
        },
      });
      await waitReadyPods(cluster.api, 'apps', { app: name }, PODS, { timeoutMs: 120_000 });
      for (const n of others) await cluster.api.json('PATCH', `/api/v1/nodes/${n}`, { spec: { unschedulable: null } }, MERGE_PATCH);
      const before = new Set((await podsOf(cluster.api, 'apps', { app: name })).map((p) => p.uid));
      await cluster.stopNodeHeartbeat(SOLO);
      const stoppedAt = Date.now();
      await eventually(
        async () => !(await cluster.api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/api/v1/nodes/${SOLO}`)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        `${SOLO} NotReady in the API`,
        120_000,
        50,
      );
      t0 = Date.now();
      inc = await newIncident('node-not-ready', SOLO, stoppedAt);
      const moved = await eventually(
        async () => {
          const pods = await podsOf(cluster.api, 'apps', { app: name });
          const fresh = pods.filter((p) => !before.has(p.uid) && p.ready && !p.terminating && p.node !== SOLO);
          if (fresh.length >= PODS) return Date.now();
          return seen.get(inc.id)?.find((s) => s.state === 'escalated') ? -1 : 0;
        },
        `${PODS} pods of ${name} Ready elsewhere`,
        240_000,
        100,
      );
      const f = fig('cordon-drain');
      f.detect.push((inc.openedAt - t0) / 1000);
      if (moved < 0) f.escalated++;
      else f.heal.push((moved - t0) / 1000);
      await cluster.resumeNodeHeartbeat(SOLO);
      const backAt = Date.now();
      await eventually(async () => !(await cluster.api.get<{ spec?: { unschedulable?: boolean } }>(`/api/v1/nodes/${SOLO}`)).spec?.unschedulable, `${SOLO} uncordoned`, 120_000, 100);
      (f.extra.uncordon ??= []).push((Date.now() - backAt) / 1000);
      console.log(`round ${round} cordon-drain: detected in ${((inc.openedAt - t0) / 1000).toFixed(2)} s after NotReady (${((t0 - stoppedAt) / 1000).toFixed(1)} s from the heartbeat stop), ${moved < 0 ? 'escalated' : `${PODS} pods Ready elsewhere in ${((moved - t0) / 1000).toFixed(2)} s`}, uncordoned ${((Date.now() - backAt) / 1000).toFixed(2)} s after the node was back`);
      await cluster.api.send('DELETE', `/apis/apps/v1/namespaces/apps/deployments/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });

      // addon-restart: every CoreDNS pod crash-loops (the label is on the pods, so the restarted ones do not).
      await quiet();
      await waitReadyPods(cluster.api, KUBE_SYSTEM, COREDNS, 2, { timeoutMs: 120_000 });
      await eventually(async () => dns.answering(), 'the DNS front answering', 60_000, 100);
      t0 = Date.now();
      for (const p of await podsOf(cluster.api, KUBE_SYSTEM, COREDNS)) {
        await cluster.api.send('PATCH', `/api/v1/namespaces/${KUBE_SYSTEM}/pods/${p.name}`, { metadata: { labels: { [CRASH]: 'true' } } }, { contentType: MERGE_PATCH });
      }
      // The add-on unavailable and the DNS probes failing may be one incident or two; the first one counts.
      inc = await eventually(async () => manager.current().find((i) => i.detector === 'dns-addon-failure' && i.openedAt >= t0), 'a dns-addon-failure incident', 120_000, 50);
      end = await outcome(inc.id);
      record('addon-restart', round, t0, inc.openedAt, end);
      // The first incident's action, or the other one's when that acted (one restart for both).
      const addonIncidents = manager.current().filter((i) => i.detector === 'dns-addon-failure' && i.openedAt >= t0);
      const addonVerified = await Promise.any(addonIncidents.map((i) => verified('kube.addon-restart', i.id, t0)));
      (fig('addon-restart').extra.verified ??= []).push(addonVerified);

      // rollout-rollback: a new template whose pods all crash-loop, on every node.
      await quiet();
      await waitReadyPods(cluster.api, SHOP, SHOP_WEB, 3, { timeoutMs: 120_000 });
      t0 = Date.now();
      await cluster.api.json('PATCH', SHOP_DEP, { spec: { template: { metadata: { labels: { [CRASH]: 'true' } }, spec: { containers: [{ name: 'main', image: `registry.example/web:${round + 1}` }] } } } }, STRATEGIC);
      inc = await eventually(async () => manager.current().find((i) => i.detector === 'pod-restart-storm' && i.openedAt >= t0 && (i.evidence as { scope?: string }).scope === 'workload'), 'a restart storm of shop-web', 120_000, 50);
      const storm = inc;
      const plan = await eventually(
        async () => ((await (await t.operator('GET', `/v1/plans?incident=${storm.id}`)).json()) as { plans: { id: string; kind: string; state: string }[] }).plans.find((p) => p.kind === 'kube.rollout-rollback' && p.state === 'awaiting_approval'),
        'a rollback plan awaiting approval',
        120_000,
        50,
      );
      const askedAt = Date.now();
      const approved = await t.operator('POST', `/v1/plans/${plan.id}/approve`, { comment: 'bench: bad rollout' });
      if (approved.status !== 200) throw new Error(`approving ${plan.id}: ${approved.status} ${await approved.text()}`);
      end = await outcome(inc.id);
      record('rollout-rollback', round, t0, inc.openedAt, end);
      (fig('rollout-rollback').extra.approval ??= []).push((askedAt - t0) / 1000);
      (fig('rollout-rollback').extra.verified ??= []).push(await verified('kube.rollout-rollback', inc.id, t0));
    }
  } finally {
    await agent.stop();
    await t.stop();
    await dns.stop();
    await cluster.stop();
    try {
      process.kill(Number(await readFile(pidFile, 'utf8')));
    } catch {
      // gone
    }
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
    await rm(dir, { recursive: true, force: true });
  }

  function record(kind: string, round: number, t0: number, openedAt: number, end: { state: string; at: number }): void {
    const f = fig(kind);
    f.detect.push((openedAt - t0) / 1000);
    if (end.state === 'escalated') f.escalated++;
    else f.heal.push((end.at - t0) / 1000);
    console.log(`round ${round} ${kind}: detected in ${((openedAt - t0) / 1000).toFixed(2)} s, ${end.state} at ${((end.at - t0) / 1000).toFixed(2)} s`);
  }

  const kinds: Record<string, Record<string, number>> = {};
  for (const [kind, f] of Object.entries(figures)) {
    kinds[kind] = {
      detect_p50_s: r2(pct(f.detect, 50)),
      heal_p50_s: r2(pct(f.heal, 50)),
      heal_max_s: r2(f.heal.length ? Math.max(...f.heal) : 0),
      escalated: f.escalated,
      rounds: f.detect.length,
      ...Object.fromEntries(Object.entries(f.extra).map(([k, v]) => [`${k}_p50_s`, r2(pct(v, 50))])),
    };
    console.log(`${kind}: detect p50 ${kinds[kind]!.detect_p50_s} s, heal p50 ${kinds[kind]!.heal_p50_s} s, max ${kinds[kind]!.heal_max_s} s, escalated ${f.escalated} of ${f.detect.length}`);
  }
  console.log(JSON.stringify({ bench: 'heal', rounds: ROUNDS, tick_s: TICK_MS / 1000, load_avg_1m: r2(loadavg()[0]!), kinds }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
