// A real Kubernetes control plane for tests and demos: Debian's etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler (built from Go modules by build.sh) and kwok playing the
// kubelets of fake nodes. Everything listens on 127.0.0.1 ports picked at start, lives in one temp
// directory and is torn down by stop() (process groups killed, directory removed).
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi, KubeApiError } from '../../../ingest/kube/api-client.ts';
import { freePort, killGroup, startComponent, waitUntil, type Component } from './processes.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';
export const FAKE_NODE_LABEL = { type: 'kwok' };

export interface BuiltBinaries {
  kubeBinDir: string;
  kwokDir: string;
  etcdBin: string;
  kubernetesVersion: string;
  kwokVersion: string;
}

/** Runs build.sh (a no-op when cached). Throws with build.sh's own words when a component cannot be built. */
export function ensureKubeBinaries(): BuiltBinaries {
  const res = spawnSync('bash', [join(HERE, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.status !== 0) {
    throw new Error(`test/harness/kube/build.sh failed (exit ${res.status}); Kubernetes control plane unavailable:\n${(res.stderr ?? '').split('\n').slice(-30).join('\n')}`);
  }
  const val = (k: string) => {
    const m = new RegExp(`^${k}=(.*)$`, 'm').exec(res.stdout);
    if (!m?.[1]) throw new Error(`build.sh printed no ${k}`);
    return m[1];
  };
  const kubeBinDir = val('KUBE_BIN_DIR');
  const kwokDir = val('KWOK_DIR');
  return {
    kubeBinDir,
    kwokDir,
    etcdBin: val('ETCD_BIN'),
    kubernetesVersion: kubeBinDir.replace(/.*kube-/, ''),
    kwokVersion: kwokDir.replace(/.*kwok-/, ''),
  };
}

export interface StartOptions {
  /** Fake nodes created once the control plane is ready (default 0). */
  nodes?: number;
  /** Cluster name used in the kubeconfig (default "kwok"). */
  name?: string;
  /** Leave the processes running when this Node process exits (cluster:up). */
  detach?: boolean;
  /** How long a silent node stays Ready (kube-controller-manager --node-monitor-grace-period). */
  nodeMonitorGracePeriod?: string;
  /** kwok's node lease duration; it renews every quarter of it (default 40). */
  nodeLeaseDurationSeconds?: number;
  log?: (msg: string) => void;
}

export interface ClusterState {
  name: string;
  dir: string;
  kubeconfigPath: string;
  server: string;
  token: string;
  pids: Record<string, number>;
}

export interface KubeCluster extends ClusterState {
  api: KubeApi;
  versions: { kubernetes: string; kwok: string; etcd: string };
  components: Record<string, Component>;
  /** Creates n kwok-managed nodes named `${prefix}-${i}` (default prefix "kwok-node"); resolves when all are Ready. */
  createFakeNodes(n: number, opts?: { prefix?: string; waitReady?: boolean } & FakeNodeExtras): Promise<string[]>;
  /** Creates a namespace and waits for its default service account (pods are refused before it exists). */
  createNamespace(name: string): Promise<void>;
  /** Creates n pods bound to `nodes` round-robin (spec.nodeName set: no scheduler round trip). */
  createPods(namespace: string, n: number, nodes: string[], opts?: { prefix?: string; concurrency?: number }): Promise<string[]>;
  /** A fake node played by a kwok process of its own, so that its heartbeat can stop alone. */
  createSoloNode(name: string): Promise<void>;
  /** Kills the solo node's kwok (its kubelet dies): no more lease renewals or status updates. */
  stopNodeHeartbeat(node: string): Promise<void>;
  /** Starts the solo node's kwok again (its kubelet is back); resolves once the node is Ready. */
  resumeNodeHeartbeat(node: string): Promise<void>;
  /** Stops kube-apiserver and starts it again on the same port and etcd; `whileDown` runs in between. */
  restartApiServer(opts?: { downMs?: number; whileDown?: () => Promise<void> }): Promise<void>;
  /** Compacts etcd's history up to its current revision (older resourceVersions then answer 410 Gone). */
  compactEtcd(): Promise<number>;
  etcdUrl: string;
  stop(): Promise<void>;
}

export function fakePodToleration() {
  return [{ key: KWOK_ANNOTATION, operator: 'Exists', effect: 'NoSchedule' }];
}

function writeKubeconfig(path: string, name: string, server: string, token: string, caPem: string): void {
  const kc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: `${name}-admin`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
    'current-context': name,
  };
  writeFileSync(path, JSON.stringify(kc, null, 2), { mode: 0o600 });
}

async function runPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** Retries an API write on 429/5xx/connection errors (the control plane is busy, not wrong). */
async function withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const status = err instanceof KubeApiError ? err.status : 0;
      const transient = status === 0 || status === 429 || status >= 500;
      if (!transient || attempt >= 8) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

export async function startKubeCluster(opts: StartOptions = {}): Promise<KubeCluster> {
  const log = opts.log ?? (() => {});
  const bins = ensureKubeBinaries();
  const name = opts.name ?? 'kwok';
  const dir = mkdtempSync(join(tmpdir(), 'whistle-kube-'));
  const components: Record<string, Component> = {};
  let stopped = false;

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: kwok and controllers before the API server, etcd last.
    const order = ['kwok', 'scheduler', 'controller-manager', 'apiserver', 'etcd'];
    const solo = Object.keys(components).filter((k) => !order.includes(k));
    for (const key of [...solo, ...order]) {
      const c = components[key];
      if (c) await killGroup(c.pid);
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };

  try {
    // --- credentials -----------------------------------------------------------------------
    const token = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${token},whistle-admin,whistle-admin-uid,"system:masters"\n`, { mode: 0o600 });
    const saKey = join(dir, 'sa.key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });

    // --- etcd ------------------------------------------------------------------------------
    const ports: number[] = [];
    while (ports.length < 6) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = ports as [number, number, number, number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    // WHISTLE_ETCD_BIN=/usr/bin/etcd runs Debian's 3.4.23 instead (see build.sh for why not by default).
    const etcdBin = process.env.WHISTLE_ETCD_BIN ?? bins.etcdBin;
    if (!existsSync(etcdBin)) throw new Error(`etcd not found at ${etcdBin}`);
    const etcdHelp = spawnSync(etcdBin, ['--help'], { encoding: 'utf8' }).stdout ?? '';
    const etcdVersion = /etcd Version: (\S+)/.exec(spawnSync(etcdBin, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown';
    log(`etcd ${etcdVersion} on ${etcdUrl}`);
    components.etcd = startComponent(
      'etcd',
      etcdBin,
      [
        '--name=whistle-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=whistle-test=http://127.0.0.1:${etcdPeer}`,
        '--quota-backend-bytes=4294967296',
        // A throwaway test store: durability across power loss buys nothing here.
        ...(etcdHelp.includes('--unsafe-no-fsync') ? ['--unsafe-no-fsync'] : []),
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
      opts.detach,
    );
    await waitUntil(
      'etcd',
      async () => {
        const r = await fetch(`${etcdUrl}/health`);
        return r.ok && ((await r.json()) as { health?: string }).health === 'true';
      },
      { timeoutMs: 30_000, comp: components.etcd },
    );

    // --- kube-apiserver --------------------------------------------------------------------
    const server = `https://127.0.0.1:${apiPort}`;
    const certDir = join(dir, 'apiserver-certs');
    mkdirSync(certDir);
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=Node,RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      // The "kubernetes" Service endpoints would point at loopback, which the API refuses to store.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--max-requests-inflight=1000',
      '--max-mutating-requests-inflight=500',
      '--profiling=false',
      '--v=1',
    ];
    const apiBin = join(bins.kubeBinDir, 'kube-apiserver');
    const startApi = () => {
      components.apiserver = startComponent('kube-apiserver', apiBin, apiArgs, join(dir, 'kube-apiserver.log'), opts.detach);
    };
    const insecureApi = new KubeApiFactory(server, token);
    const waitApiReady = () =>
      waitUntil('kube-apiserver /readyz', async () => (await insecureApi.readyz()) === 200, {
        timeoutMs: 120_000,
        comp: components.apiserver,
        intervalMs: 300,
      });
    log(`kube-apiserver ${bins.kubernetesVersion} on ${server}`);
    startApi();
    await waitApiReady();

    // The self-signed serving pair in --cert-dir is cert + its CA: trusting it verifies the server.
    const servingCert = readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, name, server, token, servingCert);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const api = await KubeApi.fromKubeConfig(name, kc);

    // --- controller-manager, scheduler -----------------------------------------------------
    components['controller-manager'] = startComponent(
      'kube-controller-manager',
      join(bins.kubeBinDir, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${join(certDir, 'apiserver.crt')}`,
        '--use-service-account-credentials=false',
        `--node-monitor-grace-period=${opts.nodeMonitorGracePeriod ?? '40s'}`,
        '--node-monitor-period=2s',
        '--kube-api-qps=300',
        '--kube-api-burst=600',
        '--v=1',
      ],
      join(dir, 'kube-controller-manager.log'),
      opts.detach,
    );
    components.scheduler = startComponent(
      'kube-scheduler',
      join(bins.kubeBinDir, 'kube-scheduler'),
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${join(dir, 'scheduler-certs')}`,
        '--kube-api-qps=300',
        '--kube-api-burst=600',
        '--v=1',
      ],
      join(dir, 'kube-scheduler.log'),
      opts.detach,
    );

    // --- kwok --------------------------------------------------------------------------------
    const stages = ['node-initialize.yaml', 'node-heartbeat-with-lease.yaml', 'pod-ready.yaml', 'pod-complete.yaml', 'pod-delete.yaml'];
    // kwok plays stages 4 at a time by default: with API writes at ~250 ms under load that is ~15
    // pods/s, half an hour for 30,000 pods. More workers keep it at the API server's own pace.
    const kwokConfig = join(dir, 'kwok-config.yaml');
    writeFileSync(
      kwokConfig,
      [
        'apiVersion: config.kwok.x-k8s.io/v1alpha1',
        'kind: KwokConfiguration',
        'options:',
        '  podPlayStageParallelism: 32',
        '  nodePlayStageParallelism: 16',
        '  nodeLeaseParallelism: 16',
        '',
      ].join('\n'),
    );
    const startKwok = (key: string, selectorArgs: string[], port: number) => {
      components[key] = startComponent(
        key,
        join(bins.kwokDir, 'kwok'),
        [
          `--kubeconfig=${kubeconfigPath}`,
          ...selectorArgs,
          `--server-address=127.0.0.1:${port}`,
          '--cidr=10.0.0.1/16',
          '--node-ip=10.0.0.1',
          `--node-lease-duration-seconds=${opts.nodeLeaseDurationSeconds ?? 40}`,
          `--config=${kwokConfig}`,
          ...stages.map((s) => `--config=${join(bins.kwokDir, 'stages', s)}`),
          // Whistle's own: pods labelled whistle.test/crash-loop=true crash-loop (stages/pod-crash-loop.yaml).
          `--config=${join(HERE, 'stages', 'pod-crash-loop.yaml')}`,
        ],
        join(dir, `${key}.log`),
        opts.detach,
      );
      return components[key] as Component;
    };
    startKwok('kwok', [`--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`], kwokPort);

    const healthz = (port: number) => async () => (await insecureApi.status(`https://127.0.0.1:${port}/healthz`)) === 200;
    await waitUntil('kube-controller-manager /healthz', healthz(kcmPort), { timeoutMs: 60_000, comp: components['controller-manager'] });
    await waitUntil('kube-scheduler /healthz', healthz(schedPort), { timeoutMs: 60_000, comp: components.scheduler });
    await waitUntil('kwok /healthz', async () => (await insecureApi.status(`http://127.0.0.1:${kwokPort}/healthz`)) === 200, {
      timeoutMs: 60_000,
      comp: components.kwok,
    });
    // The service-account controller is up once "default" has its account.
    await waitUntil('default service account', async () => (await api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, {
      timeoutMs: 60_000,
      comp: components['controller-manager'],
    });

    const pidsOf = () => Object.fromEntries(Object.entries(components).map(([k, c]) => [k, c.pid]));
    const state: ClusterState = { name, dir, kubeconfigPath, server, token, pids: pidsOf() };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2));

    const cluster: KubeCluster = {
      ...state,
      api,
      versions: { kubernetes: bins.kubernetesVersion, kwok: bins.kwokVersion, etcd: etcdVersion },
      components,

      async createFakeNodes(n, o = {}) {
        const prefix = o.prefix ?? 'kwok-node';
        const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
        await runPool(names, 16, async (node) => {
          await withRetry(`create node ${node}`, () => api.json('POST', '/api/v1/nodes', fakeNode(node, { labels: o.labels, taints: o.taints })));
        });
        if (o.waitReady !== false) {
          await waitUntil(
            `${n} fake nodes Ready`,
            async () => {
              const list = await api.get<{ items: NodeLike[] }>(`/api/v1/nodes?labelSelector=type%3Dkwok`);
              const ready = new Set(list.items.filter(isNodeReady).map((x) => x.metadata.name));
              return names.every((x) => ready.has(x));
            },
            { timeoutMs: 120_000 + n * 200, comp: components.kwok, intervalMs: 500 },
          );
        }
        return names;
      },

      async createNamespace(ns) {
        const res = await api.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ metadata: { name: ns } }) });
        if (res.status !== 201 && res.status !== 409) throw new Error(`create namespace ${ns}: ${res.status} ${res.body.toString()}`);
        await waitUntil(`service account default in ${ns}`, async () => (await api.request('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200, {
          timeoutMs: 60_000,
          comp: components['controller-manager'],
        });
      },

      async createPods(ns, n, nodes, o = {}) {
        if (nodes.length === 0) throw new Error('createPods: no nodes to place pods on');
        const prefix = o.prefix ?? 'pod';
        const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
        let i = 0;
        await runPool(names, o.concurrency ?? 16, async (pod) => {
          const node = nodes[i++ % nodes.length] as string;
          await withRetry(`create pod ${pod}`, () => api.json('POST', `/api/v1/namespaces/${ns}/pods`, fakePod(pod, node)));
        });
        return names;
      },

      async createSoloNode(node) {
        const obj = fakeNode(node);
        obj.metadata.annotations[KWOK_ANNOTATION] = 'solo';
        await withRetry(`create node ${node}`, () => api.json('POST', '/api/v1/nodes', obj));
        const comp = startKwok(`kwok-solo-${node}`, [`--manage-single-node=${node}`], await freePort());
        await waitUntil(
          `solo node ${node} Ready`,
          async () => isNodeReady(await api.get<NodeLike>(`/api/v1/nodes/${node}`)),
          { timeoutMs: 60_000, comp, intervalMs: 300 },
        );
      },

      async stopNodeHeartbeat(node) {
        const c = components[`kwok-solo-${node}`];
        if (!c) throw new Error(`stopNodeHeartbeat: ${node} was not created with createSoloNode`);
        await killGroup(c.pid);
      },

      async resumeNodeHeartbeat(node) {
        if (!components[`kwok-solo-${node}`]) throw new Error(`resumeNodeHeartbeat: ${node} was not created with createSoloNode`);
        const comp = startKwok(`kwok-solo-${node}`, [`--manage-single-node=${node}`], await freePort());
        await waitUntil(`solo node ${node} Ready again`, async () => isNodeReady(await api.get<NodeLike>(`/api/v1/nodes/${node}`)), { timeoutMs: 60_000, comp, intervalMs: 300 });
      },

      async restartApiServer(o = {}) {
        const c = components.apiserver;
        if (c) await killGroup(c.pid);
        await new Promise((r) => setTimeout(r, o.downMs ?? 1000));
        await o.whileDown?.();
        startApi();
        await waitApiReady();
        state.pids = pidsOf();
        writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2));
      },

      etcdUrl,

      async compactEtcd() {
        // etcd's JSON gateway: any range read carries the current revision in its header.
        const post = async (path: string, body: unknown) => {
          const r = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
          if (!r.ok) throw new Error(`etcd ${path}: ${r.status} ${await r.text()}`);
          return (await r.json()) as { header?: { revision?: string } };
        };
        const rev = Number((await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header?.revision ?? 0);
        await post('/v3/kv/compaction', { revision: String(rev), physical: true });
        return rev;
      },

      async stop() {
        api.close();
        await stopAll();
      },
    };

    if (opts.nodes) {
      log(`creating ${opts.nodes} fake nodes`);
      await cluster.createFakeNodes(opts.nodes);
    }
    return cluster;
  } catch (err) {
    const keep = process.env.WHISTLE_KEEP_FAILED_CLUSTER === '1';
    if (keep) {
      for (const c of Object.values(components)) await killGroup(c.pid);
      (err as Error).message += `\n(logs kept in ${dir})`;
    } else {
      await stopAll();
    }
    throw err;
  }
}

/** Probes with the admin token without trusting the (not yet written) serving cert. */
class KubeApiFactory {
  constructor(
    private readonly server: string,
    private readonly token: string,
  ) {}

  readyz(): Promise<number> {
    return this.status(`${this.server}/readyz`, true);
  }

  async status(url: string, withToken = false): Promise<number> {
    const { request } = await import(url.startsWith('https:') ? 'node:https' : 'node:http');
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { rejectUnauthorized: false, headers: withToken ? { Authorization: `Bearer ${this.token}` } : {}, timeout: 3000 },
        (res: import('node:http').IncomingMessage) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }
}

interface NodeLike {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

export function isNodeReady(n: NodeLike): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export interface FakeNodeExtras {
  /** Labels beside the fake-node ones (a role: node-role.kubernetes.io/control-plane). */
  labels?: Record<string, string>;
  /** Taints beside kwok's own (a control-plane node's NoSchedule keeps test workloads off it). */
  taints?: { key: string; value?: string; effect: string }[];
}

export function fakeNode(name: string, extras: FakeNodeExtras = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { ...FAKE_NODE_LABEL, 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/role': 'agent', ...extras.labels },
    },
    spec: { taints: [{ key: KWOK_ANNOTATION, value: 'fake', effect: 'NoSchedule' }, ...(extras.taints ?? [])] },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

export function fakePod(name: string, node?: string, labels: Record<string, string> = { app: 'fake' }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      ...(node ? { nodeName: node } : { nodeSelector: FAKE_NODE_LABEL }),
      tolerations: fakePodToleration(),
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'registry.example/fake:1' }],
    },
  };
}
