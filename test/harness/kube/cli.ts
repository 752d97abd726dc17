// `npm run cluster:up [-- --nodes N]` starts the test control plane in the background for demos and
// debugging and prints its kubeconfig; `npm run cluster:down` stops it and removes its directory.
// The running cluster is remembered in ~/.cache/whistle/cluster-up.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { startKubeCluster, type ClusterState } from './cluster.ts';
import { killGroup } from './processes.ts';

const STATE = join(process.env.WHISTLE_CACHE ?? join(homedir(), '.cache', 'whistle'), 'cluster-up.json');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function up(): Promise<void> {
  if (existsSync(STATE)) {
    const s = JSON.parse(readFileSync(STATE, 'utf8')) as ClusterState;
    console.error(`a cluster is already up (kubeconfig ${s.kubeconfigPath}); run npm run cluster:down first`);
    process.exit(1);
  }
  const nodes = Number(arg('nodes') ?? process.env.WHISTLE_KWOK_NODES ?? 3);
  if (!Number.isInteger(nodes) || nodes < 0) {
    console.error(`--nodes must be a whole number >= 0, got ${arg('nodes')}`);
    process.exit(2);
  }
  const t0 = Date.now();
  const c = await startKubeCluster({ nodes, detach: true, log: (m) => console.error(`[cluster:up] ${m}`) });
  mkdirSync(dirname(STATE), { recursive: true });
  const state: ClusterState = { name: c.name, dir: c.dir, kubeconfigPath: c.kubeconfigPath, server: c.server, token: c.token, pids: c.pids };
  writeFileSync(STATE, JSON.stringify(state, null, 2), { mode: 0o600 });
  c.api.close();
  console.log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s: kubernetes ${c.versions.kubernetes}, kwok ${c.versions.kwok}, etcd ${c.versions.etcd}`);
  console.log(`server      ${c.server}`);
  console.log(`kubeconfig  ${c.kubeconfigPath}`);
  console.log(`logs        ${c.dir}/*.log`);
  console.log(`fake nodes  ${nodes}`);
  process.exit(0);
}

async function down(): Promise<void> {
  if (!existsSync(STATE)) {
    console.log('no cluster is up');
    return;
  }
  const s = JSON.parse(readFileSync(STATE, 'utf8')) as ClusterState;
  const order = ['kwok', 'scheduler', 'controller-manager', 'apiserver', 'etcd'];
  for (const key of [...Object.keys(s.pids).filter((k) => !order.includes(k)), ...order]) {
    const pid = s.pids[key];
    if (pid) await killGroup(pid);
  }
  rmSync(s.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  rmSync(STATE, { force: true });
  console.log(`cluster stopped, ${s.dir} removed`);
}

const cmd = process.argv[2];
if (cmd === 'up') await up();
else if (cmd === 'down') await down();
else {
  console.error('usage: cli.ts up [--nodes N] | down');
  process.exit(2);
}
