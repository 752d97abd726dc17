// Node operations on one cluster's Kubernetes API, for the cordon-and-drain remediator and the
// upgrade engine: cordon and uncordon under Whistle's mark, drain through the Eviction API, and the
// node's readiness as they decide on it. See README.md.
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { CORDONED_AT, CORDONED_BY, cordon, getNode, uncordon, type CordonOptions, type CordonResult } from './cordon.ts';
import { drain, type DrainOptions, type DrainResult } from './drain.ts';
import { isControlPlane, isCordoned, isNodeReady } from './readiness.ts';

export { CORDONED_AT, CORDONED_BY, type CordonOptions, type CordonResult } from './cordon.ts';
export type { BlockedPod, BlockReason, DrainOptions, DrainResult, EvictedPod } from './drain.ts';
export { NodeOperationRefused, type RefusalReason } from './errors.ts';
export type { PodRef } from './objects.ts';
export type { SkippedPod, SkipReason } from './pod-plan.ts';
export { CONTROL_PLANE_LABEL } from './readiness.ts';

export interface NodeStatus {
  node: string;
  ready: boolean;
  controlPlane: boolean;
  cordoned: boolean;
  /** Whose cordon it is (whistle.io/cordoned-by), null when not cordoned by Whistle. */
  cordonedBy: string | null;
  /** When Whistle cordoned it (epoch ms), null when not cordoned by Whistle. */
  cordonedAt: number | null;
}

export class NodeOps {
  constructor(private readonly api: KubeApi) {}

  cordon(node: string, opts: CordonOptions): Promise<CordonResult> {
    return cordon(this.api, node, opts);
  }

  uncordon(node: string, opts: CordonOptions): Promise<CordonResult> {
    return uncordon(this.api, node, opts);
  }

  drain(node: string, opts: DrainOptions): Promise<DrainResult> {
    return drain(this.api, node, opts);
  }

  async status(node: string, signal?: AbortSignal): Promise<NodeStatus> {
    const n = await getNode(this.api, node, signal);
    const cordoned = isCordoned(n);
    const by = cordoned ? (n.metadata.annotations?.[CORDONED_BY] ?? null) : null;
    const at = by === null ? NaN : Date.parse(n.metadata.annotations?.[CORDONED_AT] ?? '');
    return { node, ready: isNodeReady(n), controlPlane: isControlPlane(n), cordoned, cordonedBy: by, cordonedAt: Number.isNaN(at) ? null : at };
  }
}
