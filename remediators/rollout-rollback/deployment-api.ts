// The Deployment and its ReplicaSets through the cluster's Kubernetes API: read them, put a
// template back. Fresh from the API: a rollback must act on the Deployment as it is now.
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import type { DeploymentLike, PodLike, PodTemplate, ReplicaSetLike, StormWorkload } from './logic.ts';
import { rollbackPatch } from './logic.ts';

const selector = (d: DeploymentLike) =>
  Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export class DeploymentApi {
  private readonly ns: string;
  constructor(
    private readonly api: Pick<KubeApi, 'send'>,
    readonly w: StormWorkload,
  ) {
    this.ns = encodeURIComponent(w.namespace);
  }

  private async ok<T>(what: string, p: Promise<Awaited<ReturnType<KubeApi['send']>>>): Promise<T> {
    const res = await p;
    if (!res.ok) throw new Error(`${what}: ${res.status} ${res.error.message ?? ''}`.trim());
    return res.value as T;
  }

  get(): Promise<DeploymentLike> {
    return this.ok(`GET Deployment ${this.w.namespace}/${this.w.name}`, this.api.send('GET', `/apis/apps/v1/namespaces/${this.ns}/deployments/${encodeURIComponent(this.w.name)}`));
  }

  async replicaSets(d: DeploymentLike): Promise<ReplicaSetLike[]> {
    const q = encodeURIComponent(selector(d));
    return (await this.ok<{ items: ReplicaSetLike[] }>(`list ReplicaSets of ${this.w.namespace}/${this.w.name}`, this.api.send('GET', `/apis/apps/v1/namespaces/${this.ns}/replicasets?labelSelector=${q}`))).items;
  }

  async pods(d: DeploymentLike): Promise<PodLike[]> {
    const q = encodeURIComponent(selector(d));
    return (await this.ok<{ items: PodLike[] }>(`list pods of ${this.w.namespace}/${this.w.name}`, this.api.send('GET', `/api/v1/namespaces/${this.ns}/pods?labelSelector=${q}`))).items;
  }

  /** Replaces the template if the Deployment is still at `resourceVersion`; answers the new generation. */
  async putTemplate(resourceVersion: string, template: PodTemplate): Promise<number> {
    const d = await this.ok<DeploymentLike>(
      `roll back ${this.w.namespace}/${this.w.name}`,
      this.api.send('PATCH', `/apis/apps/v1/namespaces/${this.ns}/deployments/${encodeURIComponent(this.w.name)}`, rollbackPatch(resourceVersion, template), { contentType: 'application/json-patch+json' }),
    );
    return d.metadata.generation ?? 0;
  }
}
