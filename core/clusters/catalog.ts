// The clusters Whistle manages, as objects in the store (table `clusters`): created and deleted
// through the API, or seeded from `clusters[]` in the config at each start. Each has a join token
// (only its hash is kept; the token is shown once, when made or rotated), optional Kubernetes
// access (a kubeconfig file named in the config, or a kubeconfig given through the API and kept
// sealed, see secret-box.ts) and the ports its etcd uses. The fleet join token (agents that join
// the node pool, in no cluster) lives beside them. Held in memory for the per-request checks;
// every change is written first, then applied, then announced to the subscribers (the kube watchers,
// the proxy) so they follow without a restart.
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ConflictError, InputError, NotFoundError } from '../errors.ts';
import { hashToken, newToken, tokensEqual } from '../http/tokens.ts';
import type { Store } from '../../store/store.ts';
import type { ClusterConfig } from '../config/schema.ts';
import { SecretBox } from './secret-box.ts';

import { POOL } from './pool.ts';

export { POOL };

export const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface ClusterView {
  name: string;
  /** `config`: declared in clusters[] (delete it there); `api`: created through the API. */
  source: 'config' | 'api';
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  tokenRotatedAt: number;
  /** How Whistle reaches the cluster's Kubernetes API: not at all, a kubeconfig file, or one given through the API. */
  kubeAccess: 'none' | 'file' | 'api';
  kubeContext: string;
  etcd: { clientPort: number; peerPort: number };
}

export interface KubeAccess {
  /** A kubeconfig file, or one given through the API (loaded). */
  kubeconfig: string | KubeConfig;
  context?: string;
}

export type ClusterChange = { kind: 'created' | 'deleted' | 'kube-access'; name: string };

export interface CreateClusterInput {
  name: string;
  /** A kubeconfig document (YAML or JSON), not a path. */
  kubeconfig?: string;
  context?: string;
  clientPort?: number;
  peerPort?: number;
}

interface Entry {
  view: ClusterView;
  tokenHash: string;
  kubeconfigPath: string;
  kubeconfigSealed: string;
  /** The config file declares it: it comes back at the next start whatever the API did. */
  declared: boolean;
}

interface Row {
  name: string;
  deleted: number | string;
  source: string;
  join_token_hash: string;
  token_rotated_at: number | string;
  kubeconfig_path: string;
  kubeconfig_sealed: string;
  kube_context: string;
  client_port: number | string;
  peer_port: number | string;
  created_at: number | string;
  created_by: string;
  updated_at: number | string;
}

/** Parses a kubeconfig given through the API; the error names the field, never the content. */
export function parseKubeconfig(text: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new InputError(`kubeconfig: not a kubeconfig document (${(err as Error).message.split('\n')[0]!.slice(0, 120)})`);
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (context) {
    if (!contexts.includes(context)) throw new InputError(`context: the kubeconfig has no context "${context}" (has: ${contexts.join(', ') || 'none'})`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new InputError('kubeconfig: its current context names no cluster (give context)');
  return kc;
}

export class ClusterCatalog {
  private readonly entries = new Map<string, Entry>();
  private fleetTokenHash = '';
  private readonly listeners = new Set<(c: ClusterChange) => void>();
  private version = 0;
  private box: SecretBox | null = null;
  /** This worker's own writes, running and done: a refresh read while one was made is not applied over it. */
  private writesRunning = 0;
  private writesDone = 0;

  private constructor(
    private readonly store: Store,
    private readonly keyFile: string,
    private readonly log: Logger,
    /** Legacy ClickHouse servers hold the reduced schema: the config's clusters only, in memory. */
    private readonly persistent: boolean,
  ) {}

  /** Loads the table and seeds it from `clusters[]`: a declared cluster is created or brought in step with the file. */
  static async open(opts: { store: Store; keyFile: string; configured: readonly ClusterConfig[]; log: Logger }): Promise<ClusterCatalog> {
    const cat = new ClusterCatalog(opts.store, opts.keyFile, opts.log, opts.store.dialect === 'modern');
    if (cat.persistent) await cat.load();
    for (const c of opts.configured) await cat.seed(c);
    return cat;
  }

  private async load(): Promise<void> {
    const table = await this.readTable();
    for (const [name, e] of table.entries) this.entries.set(name, e);
    this.fleetTokenHash = table.fleetTokenHash;
  }

  /**
   * Reads the table again and takes what other Whistle workers sharing the store changed: a
   * cluster created or deleted, new Kubernetes access, a rotated join or fleet token. Each change
   * is announced as if made here, so this worker's watchers, detectors and proxy follow. Clusters
   * declared in this worker's clusters[] stay as its file says. A read that overlapped a change
   * made here is dropped (the next one sees both).
   */
  async refresh(): Promise<ClusterChange[]> {
    if (!this.persistent || this.writesRunning > 0) return [];
    const seen = this.writesDone;
    const table = await this.readTable();
    if (this.writesRunning > 0 || this.writesDone !== seen) return [];
    const changes: ClusterChange[] = [];
    const access = (e: Entry) => `${e.kubeconfigPath}\u0000${e.kubeconfigSealed}\u0000${e.view.kubeContext}`;
    for (const [name, e] of table.entries) {
      const old = this.entries.get(name);
      if (old?.declared) continue;
      this.entries.set(name, e);
      if (!old) changes.push({ kind: 'created', name });
      else if (access(old) !== access(e)) changes.push({ kind: 'kube-access', name });
    }
    for (const [name, old] of this.entries) {
      if (old.declared || table.entries.has(name)) continue;
      this.entries.delete(name);
      changes.push({ kind: 'deleted', name });
    }
    this.fleetTokenHash = table.fleetTokenHash;
    for (const c of changes) this.emit(c);
    if (changes.length) this.log.info({ changes }, 'clusters changed by another worker');
    return changes;
  }

  private async readTable(): Promise<{ entries: Map<string, Entry>; fleetTokenHash: string }> {
    const entries = new Map<string, Entry>();
    const ms = (col: string) => `toUnixTimestamp64Milli(argMax(${col}, version))`;
    const rows = await this.store.query<Row>(
      `SELECT name, argMax(deleted, version) AS deleted, argMax(source, version) AS source, argMax(join_token_hash, version) AS join_token_hash,
              ${ms('token_rotated_at')} AS token_rotated_at, argMax(kubeconfig_path, version) AS kubeconfig_path,
              argMax(kubeconfig_sealed, version) AS kubeconfig_sealed, argMax(kube_context, version) AS kube_context,
              argMax(client_port, version) AS client_port, argMax(peer_port, version) AS peer_port,
              ${ms('created_at')} AS created_at, argMax(created_by, version) AS created_by, ${ms('updated_at')} AS updated_at
       FROM clusters GROUP BY name`,
    );
    for (const r of rows) {
      if (Number(r.deleted) === 1) continue;
      entries.set(r.name, {
        tokenHash: r.join_token_hash,
        kubeconfigPath: r.kubeconfig_path,
        kubeconfigSealed: r.kubeconfig_sealed,
        declared: false,
        view: {
          name: r.name,
          source: r.source === 'config' ? 'config' : 'api',
          createdAt: Number(r.created_at),
          createdBy: r.created_by,
          updatedAt: Number(r.updated_at),
          tokenRotatedAt: Number(r.token_rotated_at),
          kubeAccess: r.kubeconfig_sealed ? 'api' : r.kubeconfig_path ? 'file' : 'none',
          kubeContext: r.kube_context,
          etcd: { clientPort: Number(r.client_port), peerPort: Number(r.peer_port) },
        },
      });
    }
    const tokens = await this.store.query<{ token_hash: string }>(`SELECT argMax(token_hash, version) AS token_hash FROM fleet_join_tokens WHERE scope = 'fleet' GROUP BY scope`);
    return { entries, fleetTokenHash: tokens[0]?.token_hash ?? '' };
  }

  private async seed(c: ClusterConfig): Promise<void> {
    const hash = hashToken(c.joinToken);
    const old = this.entries.get(c.name);
    const now = Date.now();
    const same = old && old.view.source === 'config' && old.tokenHash === hash && old.kubeconfigPath === (c.kubeconfig ?? '') && old.view.kubeContext === (c.context ?? '') && !old.kubeconfigSealed;
    if (old && old.view.source === 'api') this.log.warn({ cluster: c.name }, 'clusters[] declares a cluster created through the API: the config file now defines it');
    const entry: Entry = {
      tokenHash: hash,
      kubeconfigPath: c.kubeconfig ?? '',
      kubeconfigSealed: '',
      declared: true,
      view: {
        name: c.name,
        source: 'config',
        createdAt: old?.view.createdAt ?? now,
        createdBy: old?.view.createdBy ?? 'config',
        updatedAt: same ? old.view.updatedAt : now,
        tokenRotatedAt: same ? old.view.tokenRotatedAt : now,
        kubeAccess: c.kubeconfig ? 'file' : 'none',
        kubeContext: c.context ?? '',
        etcd: old?.view.etcd ?? { clientPort: 2379, peerPort: 2380 },
      },
    };
    if (!same) await this.persist(entry, false);
    this.entries.set(c.name, entry);
  }

  private nextVersion(): number {
    // Versions must grow even within one millisecond.
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    return this.version;
  }

  private async persist(e: Entry, deleted: boolean): Promise<void> {
    if (!this.persistent) return;
    const v = e.view;
    await this.write('clusters', [
      {
        name: v.name,
        deleted: deleted ? 1 : 0,
        source: v.source,
        join_token_hash: e.tokenHash,
        token_rotated_at: v.tokenRotatedAt,
        kubeconfig_path: e.kubeconfigPath,
        kubeconfig_sealed: e.kubeconfigSealed,
        kube_context: v.kubeContext,
        client_port: v.etcd.clientPort,
        peer_port: v.etcd.peerPort,
        created_at: v.createdAt,
        created_by: v.createdBy,
        updated_at: v.updatedAt,
        version: this.nextVersion(),
      },
    ]);
  }

  /** Every write of the catalog's tables; the caller updates its map right after, with no await between. */
  private async write(table: string, rows: Record<string, unknown>[]): Promise<void> {
    this.writesRunning++;
    try {
      await this.store.insert(table, rows);
    } finally {
      this.writesRunning--;
      this.writesDone++;
    }
  }

  private secrets(): SecretBox {
    this.box ??= SecretBox.open(this.keyFile);
    return this.box;
  }

  private requirePersistent(): void {
    if (!this.persistent) throw new ConflictError('clusters: this store is a legacy ClickHouse server without the fleet tables; declare clusters in clusters[]');
  }

  private emit(change: ClusterChange): void {
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.log.error({ err: (err as Error).message, change }, 'cluster change listener failed');
      }
    }
  }

  /** Called after every change, once it is stored. Returns the unsubscribe function. */
  onChange(fn: (change: ClusterChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  list(): ClusterView[] {
    return [...this.entries.values()].map((e) => e.view).sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.list().map((c) => c.name);
  }

  /** Declared in this process's clusters[]: deleted in the config file, not through the API. */
  isDeclared(name: string): boolean {
    return this.entries.get(name)?.declared === true;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): ClusterView {
    const e = this.entries.get(name);
    if (!e) throw new NotFoundError(`cluster: no cluster "${name}"`);
    return e.view;
  }

  /** True when `token` is the cluster's join token (constant-time over the hashes). */
  checkJoinToken(name: string, token: string): boolean {
    const e = this.entries.get(name);
    return Boolean(e && tokensEqual(e.tokenHash, hashToken(token)));
  }

  checkFleetToken(token: string): boolean {
    return this.fleetTokenHash !== '' && tokensEqual(this.fleetTokenHash, hashToken(token));
  }

  get hasFleetToken(): boolean {
    return this.fleetTokenHash !== '';
  }

  /** The cluster's Kubernetes access, for the watchers and the proxy only: never in a read endpoint. */
  kubeAccess(name: string): KubeAccess | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    const context = e.view.kubeContext || undefined;
    if (e.kubeconfigSealed) {
      let text: string;
      try {
        text = this.secrets().unseal(e.kubeconfigSealed, e.view.name);
      } catch (err) {
        // A worker with another key (workers sharing a store must share the key file) must still
        // start and serve every other cluster: this one goes unwatched, and the log says why.
        this.log.error({ cluster: name, keyFile: this.keyFile, err: (err as Error).message }, 'the kubeconfig given through the API cannot be opened with this key file; workers sharing a store must share it. The cluster is not watched or proxied here');
        return undefined;
      }
      const kc = new KubeConfig();
      kc.loadFromString(text);
      return { kubeconfig: kc, ...(context ? { context } : {}) };
    }
    if (e.kubeconfigPath) return { kubeconfig: e.kubeconfigPath, ...(context ? { context } : {}) };
    return undefined;
  }

  static checkName(name: unknown): string {
    if (typeof name !== 'string' || !CLUSTER_NAME.test(name)) throw new InputError(`name: must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit (got ${JSON.stringify(name)?.slice(0, 80)})`);
    if (name === POOL) throw new InputError(`name: "${POOL}" is reserved for the node pool`);
    return name;
  }

  async create(input: CreateClusterInput, actor: string): Promise<{ cluster: ClusterView; joinToken: string }> {
    this.requirePersistent();
    const name = ClusterCatalog.checkName(input.name);
    if (this.entries.has(name)) throw new ConflictError(`name: a cluster "${name}" already exists`);
    const clientPort = input.clientPort ?? 2379;
    const peerPort = input.peerPort ?? 2380;
    if (clientPort === peerPort) throw new InputError('peerPort: must differ from clientPort');
    if (input.context && !input.kubeconfig) throw new InputError('context: needs kubeconfig');
    const sealed = input.kubeconfig ? this.sealKubeconfig(name, input.kubeconfig, input.context) : '';
    const joinToken = newToken();
    const now = Date.now();
    const entry: Entry = {
      tokenHash: hashToken(joinToken),
      kubeconfigPath: '',
      kubeconfigSealed: sealed,
      declared: false,
      view: {
        name,
        source: 'api',
        createdAt: now,
        createdBy: actor,
        updatedAt: now,
        tokenRotatedAt: now,
        kubeAccess: sealed ? 'api' : 'none',
        kubeContext: input.context ?? '',
        etcd: { clientPort, peerPort },
      },
    };
    await this.persist(entry, false);
    this.entries.set(name, entry);
    this.log.info({ cluster: name, actor, kubeAccess: entry.view.kubeAccess }, 'cluster created');
    this.emit({ kind: 'created', name });
    return { cluster: entry.view, joinToken };
  }

  private sealKubeconfig(name: string, kubeconfig: string, context?: string): string {
    parseKubeconfig(kubeconfig, context);
    return this.secrets().seal(kubeconfig, name);
  }

  /** Gives (or replaces) the cluster's Kubernetes access through the API. */
  async setKubeconfig(name: string, kubeconfig: string, context: string | undefined, actor: string): Promise<ClusterView> {
    this.requirePersistent();
    const e = this.entries.get(name);
    if (!e) throw new NotFoundError(`cluster: no cluster "${name}"`);
    if (e.declared) throw new ConflictError(`cluster: ${name} is declared in clusters[] of the config file; set its kubeconfig there`);
    const sealed = this.sealKubeconfig(name, kubeconfig, context);
    const updated: Entry = { ...e, kubeconfigSealed: sealed, kubeconfigPath: '', view: { ...e.view, kubeAccess: 'api', kubeContext: context ?? '', updatedAt: Date.now() } };
    await this.persist(updated, false);
    this.entries.set(name, updated);
    this.log.info({ cluster: name, actor }, 'cluster kubeconfig set');
    this.emit({ kind: 'kube-access', name });
    return updated.view;
  }

  /** Deletes the cluster; `blockers` says why not (nodes still in it), checked by the caller's domain. */
  async delete(name: string, actor: string): Promise<ClusterView> {
    this.requirePersistent();
    const e = this.entries.get(name);
    if (!e) throw new NotFoundError(`cluster: no cluster "${name}"`);
    if (e.declared) throw new ConflictError(`cluster: ${name} is declared in clusters[] of the config file (it would come back at the next start); remove it there`);
    await this.persist({ ...e, view: { ...e.view, updatedAt: Date.now() } }, true);
    this.entries.delete(name);
    this.log.info({ cluster: name, actor }, 'cluster deleted');
    this.emit({ kind: 'deleted', name });
    return e.view;
  }

  async rotateJoinToken(name: string, actor: string): Promise<{ cluster: ClusterView; joinToken: string }> {
    this.requirePersistent();
    const e = this.entries.get(name);
    if (!e) throw new NotFoundError(`cluster: no cluster "${name}"`);
    if (e.declared) throw new ConflictError(`cluster: ${name} takes its join token from clusters[] of the config file; change it there`);
    const joinToken = newToken();
    const now = Date.now();
    const updated: Entry = { ...e, tokenHash: hashToken(joinToken), view: { ...e.view, tokenRotatedAt: now, updatedAt: now } };
    await this.persist(updated, false);
    this.entries.set(name, updated);
    this.log.info({ cluster: name, actor }, 'cluster join token rotated');
    return { cluster: updated.view, joinToken };
  }

  /** Makes a new fleet join token (agents that join the pool); the old one stops working. */
  async rotateFleetToken(actor: string): Promise<string> {
    this.requirePersistent();
    const token = newToken();
    const hash = hashToken(token);
    await this.write('fleet_join_tokens', [{ scope: 'fleet', token_hash: hash, created_at: Date.now(), created_by: actor, version: this.nextVersion() }]);
    this.fleetTokenHash = hash;
    this.log.info({ actor }, 'fleet join token rotated');
    return token;
  }
}
