// The add-on's workload through the cluster's Kubernetes API: read it and its pods, restart it the
// way `kubectl rollout restart` does, delete its crash-looping pods. Fresh from the API, not the
// watched tables, since the verification must not judge a state older than the action.
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import type { AddonConfig } from './config.ts';
import { resourcePath, restartPatch, selectorQuery, type PodLike, type WorkloadLike } from './logic.ts';

interface Workload extends WorkloadLike {
  metadata: { name: string; generation?: number };
  spec?: WorkloadLike['spec'] & { selector?: Parameters<typeof selectorQuery>[0] };
}

export class AddonWorkload {
  constructor(
    private readonly api: Pick<KubeApi, 'send'>,
    readonly addon: AddonConfig,
  ) {}

  private async ok<T>(what: string, p: Promise<Awaited<ReturnType<KubeApi['send']>>>): Promise<T> {
    const res = await p;
    if (!res.ok) throw new Error(`${what}: ${res.status} ${res.error.message ?? ''}`.trim());
    return res.value as T;
  }

  get(): Promise<Workload> {
    return this.ok(`GET ${this.addon.kind} ${this.addon.namespace}/${this.addon.name}`, this.api.send('GET', resourcePath(this.addon)));
  }

  /** Whether the workload exists (a 404 is "no"; any other failure throws). */
  async exists(): Promise<boolean> {
    const res = await this.api.send('GET', resourcePath(this.addon));
    if (res.ok) return true;
    if (res.status === 404) return false;
    throw new Error(`GET ${this.addon.kind} ${this.addon.namespace}/${this.addon.name}: ${res.status} ${res.error.message ?? ''}`);
  }

  async pods(w?: Workload): Promise<PodLike[]> {
    const sel = selectorQuery((w ?? (await this.get())).spec?.selector);
    if (!sel) throw new Error(`${this.addon.kind} ${this.addon.namespace}/${this.addon.name} has no selector`);
    const list = await this.ok<{ items: PodLike[] }>(
      `list pods of ${this.addon.namespace}/${this.addon.name}`,
      this.api.send('GET', `/api/v1/namespaces/${encodeURIComponent(this.addon.namespace)}/pods?labelSelector=${encodeURIComponent(sel)}`),
    );
    return list.items;
  }

  /** Sets the restartedAt annotation; answers the generation the change got. */
  async rolloutRestart(at: string): Promise<number> {
    const w = await this.ok<Workload>(
      `rollout restart of ${this.addon.namespace}/${this.addon.name}`,
      this.api.send('PATCH', resourcePath(this.addon), restartPatch(at), { contentType: 'application/strategic-merge-patch+json' }),
    );
    return w.metadata.generation ?? 0;
  }

  /** Deletes one pod; already gone is fine. */
  async deletePod(name: string): Promise<void> {
    const res = await this.api.send('DELETE', `/api/v1/namespaces/${encodeURIComponent(this.addon.namespace)}/pods/${encodeURIComponent(name)}`);
    if (!res.ok && res.status !== 404) throw new Error(`delete pod ${this.addon.namespace}/${name}: ${res.status} ${res.error.message ?? ''}`);
  }
}
