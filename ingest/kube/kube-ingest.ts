// Kubernetes ingestion for every managed cluster: one ResourceWatcher per (cluster, resource),
// all feeding one KubeWriter. A cluster that cannot be reached (bad kubeconfig, API down) is
// reported in status() and the whistle_kube_cluster_up gauge and retried; it never stops the others.
import { KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Backoff, sleep } from '../../core/backoff.ts';
import type { ClusterCatalog } from '../../core/clusters/catalog.ts';
import type { KubeRecord } from '../../core/types.ts';
import type { Logger } from '../../core/log.ts';
import type { Store } from '../../store/store.ts';
import { KubeApi } from './api-client.ts';
import { KubeWriter } from './kube-writer.ts';
import { WATCHED_RESOURCES, type ResourceSpec } from './records.ts';
import { ResourceWatcher, type ResourceWatchStatus } from './resource-watcher.ts';

export interface KubeClusterSource {
  /** Whistle's name for the cluster (rows carry it). */
  name: string;
  /** A kubeconfig file, or an already loaded KubeConfig. */
  kubeconfig: string | KubeConfig;
  /** Context to use; the kubeconfig's current context when omitted. */
  context?: string;
}

/** One source per context of a kubeconfig file, named after the context (or `contexts` only). */
export function clustersFromKubeconfig(path: string, contexts?: string[]): KubeClusterSource[] {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const names = kc.getContexts().map((c) => c.name);
  for (const c of contexts ?? []) {
    if (!names.includes(c)) throw new Error(`kubeconfig ${path} has no context "${c}" (has: ${names.join(', ') || 'none'})`);
  }
  return (contexts ?? names).map((name) => ({ name, kubeconfig: kc, context: name }));
}

/** The managed clusters (the catalog) that have Kubernetes access. */
export function sourcesFromCatalog(catalog: Pick<ClusterCatalog, 'names' | 'kubeAccess'>): KubeClusterSource[] {
  return catalog.names().flatMap((name) => {
    const access = catalog.kubeAccess(name);
    return access ? [{ name, ...access }] : [];
  });
}

/**
 * API clients for the read-only proxy, one per source. A source whose kubeconfig cannot be loaded
 * is left out and named in `problems` (the proxy then answers 404 for it) rather than failing all.
 */
export async function kubeApisFor(sources: readonly KubeClusterSource[]): Promise<{ apis: Map<string, KubeApi>; problems: string[] }> {
  const apis = new Map<string, KubeApi>();
  const problems: string[] = [];
  for (const src of sources) {
    try {
      const kc = typeof src.kubeconfig === 'string' ? loadFile(src.kubeconfig) : src.kubeconfig;
      apis.set(src.name, await KubeApi.fromKubeConfig(src.name, kc, src.context));
    } catch (err) {
      problems.push(`cluster ${src.name}: ${(err as Error).message}`);
    }
  }
  return { apis, problems };
}

export interface ClusterStatus {
  cluster: string;
  /** True once every resource has been listed and the last request to the API succeeded. */
  reachable: boolean;
  synced: boolean;
  lastError: string | null;
  /** Consecutive failed requests since the last success. */
  failures: number;
  resources: ResourceWatchStatus[];
}

export interface KubeIngestOptions {
  store: Store;
  clusters: KubeClusterSource[];
  resources?: readonly ResourceSpec[];
  log?: Logger;
  registry?: Registry;
  /** Also handed every record (after the writer); for tests and the detectors' live feed. */
  onRecords?: (records: readonly KubeRecord[]) => void;
  watchTimeoutSeconds?: number;
  writer?: { batchSize?: number; flushIntervalMs?: number };
}

class ClusterWatch {
  api: KubeApi | null = null;
  watchers: ResourceWatcher[] = [];
  reachable = false;
  failures = 0;
  lastError: string | null = null;
  private readonly abort = new AbortController();
  private connecting: Promise<void> | null = null;

  constructor(
    readonly source: KubeClusterSource,
    private readonly ingest: KubeIngest,
  ) {}

  start(): void {
    this.connecting = this.connect();
  }

  /** Building the client can fail too (unreadable kubeconfig, exec plugin down): retry it. */
  private async connect(): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    while (!this.abort.signal.aborted) {
      try {
        const kc = typeof this.source.kubeconfig === 'string' ? loadFile(this.source.kubeconfig) : this.source.kubeconfig;
        this.api = await KubeApi.fromKubeConfig(this.source.name, kc, this.source.context);
        break;
      } catch (err) {
        this.health(false, err as Error);
        await sleep(backoff.next(), this.abort.signal);
      }
    }
    if (this.abort.signal.aborted || !this.api) return;
    const api = this.api;
    this.watchers = this.ingest.resources.map(
      (resource) =>
        new ResourceWatcher({
          api,
          resource,
          emit: (records) => this.ingest.accept(records),
          onHealth: (ok, err) => this.health(ok, err),
          watchTimeoutSeconds: this.ingest.watchTimeoutSeconds,
        }),
    );
    for (const w of this.watchers) w.start();
  }

  health(ok: boolean, err?: Error): void {
    const was = this.reachable;
    if (ok) {
      this.failures = 0;
      this.reachable = true;
    } else {
      this.failures++;
      this.lastError = err?.message ?? 'unknown error';
      this.reachable = false;
    }
    this.ingest.reportHealth(this.source.name, this.reachable, was, this.lastError);
  }

  status(): ClusterStatus {
    const resources = this.watchers.map((w) => w.status());
    return {
      cluster: this.source.name,
      reachable: this.reachable,
      synced: resources.length > 0 && resources.every((r) => r.synced),
      lastError: this.lastError,
      failures: this.failures,
      resources,
    };
  }

  async waitSynced(): Promise<void> {
    await this.connecting;
    await Promise.all(this.watchers.map((w) => w.waitSynced()));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.connecting;
    await Promise.all(this.watchers.map((w) => w.stop()));
    this.api?.close();
  }
}

function loadFile(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export class KubeIngest {
  readonly writer: KubeWriter;
  readonly resources: readonly ResourceSpec[];
  readonly watchTimeoutSeconds: number | undefined;
  private readonly clusters = new Map<string, ClusterWatch>();
  private readonly upGauge?: Gauge;
  private readonly recordCounter?: Counter;
  /** Records handed over by the watchers, whatever their kind. */
  received = 0;

  constructor(private readonly o: KubeIngestOptions) {
    this.resources = o.resources ?? WATCHED_RESOURCES;
    this.watchTimeoutSeconds = o.watchTimeoutSeconds;
    this.writer = new KubeWriter({
      store: o.store,
      ...o.writer,
      onError: (err) => o.log?.warn({ err: err.message }, 'kube: store insert failed, retrying'),
    });
    if (o.registry) {
      this.upGauge = new Gauge({
        name: 'whistle_kube_cluster_up',
        help: '1 when the cluster API answered the last request, 0 when it is unreachable',
        labelNames: ['cluster'],
        registers: [o.registry],
      });
      this.recordCounter = new Counter({
        name: 'whistle_kube_records_total',
        help: 'Kubernetes object changes ingested',
        labelNames: ['cluster', 'kind'],
        registers: [o.registry],
      });
    }
    for (const src of o.clusters) {
      if (this.clusters.has(src.name)) throw new Error(`kube: cluster "${src.name}" listed twice`);
      this.clusters.set(src.name, new ClusterWatch(src, this));
    }
  }

  private started = false;

  start(): void {
    this.started = true;
    for (const c of this.clusters.values()) {
      this.upGauge?.set({ cluster: c.source.name }, 0);
      c.start();
    }
  }

  has(cluster: string): boolean {
    return this.clusters.has(cluster);
  }

  /** Starts watching one more cluster (a cluster created through the API), at once when running. */
  add(src: KubeClusterSource): void {
    if (this.clusters.has(src.name)) throw new Error(`kube: cluster "${src.name}" is already watched`);
    const watch = new ClusterWatch(src, this);
    this.clusters.set(src.name, watch);
    if (this.started) {
      this.upGauge?.set({ cluster: src.name }, 0);
      watch.start();
    }
  }

  /** Stops watching a cluster (deleted, or its access replaced); what its watchers emitted stays written. */
  async remove(cluster: string): Promise<void> {
    const watch = this.clusters.get(cluster);
    if (!watch) return;
    this.clusters.delete(cluster);
    await watch.stop();
    this.upGauge?.remove({ cluster });
  }

  /** @internal called by the watchers. */
  accept(records: readonly KubeRecord[]): void {
    this.received += records.length;
    this.writer.write(records);
    if (this.recordCounter) for (const r of records) this.recordCounter.inc({ cluster: r.cluster, kind: r.kind });
    this.o.onRecords?.(records);
  }

  /** @internal */
  reportHealth(cluster: string, up: boolean, was: boolean, lastError: string | null): void {
    this.upGauge?.set({ cluster }, up ? 1 : 0);
    if (up !== was) {
      if (up) this.o.log?.info({ cluster }, 'kube: cluster API reachable');
      else this.o.log?.warn({ cluster, err: lastError }, 'kube: cluster API unreachable, retrying');
    }
  }

  status(): ClusterStatus[] {
    return [...this.clusters.values()].map((c) => c.status());
  }

  /** Resolves when `cluster` (or every cluster) has listed every resource once and that is written. */
  async waitSynced(cluster?: string): Promise<void> {
    const targets = cluster ? [this.clusters.get(cluster)] : [...this.clusters.values()];
    await Promise.all(targets.map((c) => c?.waitSynced()));
    await this.writer.flush();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.stop()));
    await this.writer.close();
  }
}
