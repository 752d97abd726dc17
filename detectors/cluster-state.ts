// The cluster's current Kubernetes state as detectors see it. The Kubernetes ingestion writes watched
// objects into kube_objects (store/migrations/030_kube.sql); a reader over those tables lives in
// ingest/kube/cluster-state.ts and implements `ClusterStateReader`. The interface is kept small on
// purpose: only what the built-in detectors need, already flattened from the API objects.
//
// "No data" is not "everything is broken": when a cluster is not watched (no kubeconfig, or the
// tables are empty) `observedAt` answers null and detectors skip their Kubernetes checks.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface KubeCondition {
  /** Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable, ... */
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  /** Epoch ms. */
  lastTransitionTime?: number;
}

export interface KubeNodeState {
  name: string;
  /** The Ready condition's status; 'Unknown' also when the condition is missing. */
  ready: ConditionStatus;
  conditions: KubeCondition[];
  unschedulable: boolean;
}

export interface KubeTermination {
  /** OOMKilled, Error, Completed, ContainerCannotRun, ... */
  reason: string;
  exitCode: number;
  /** Epoch ms. */
  finishedAt?: number;
}

export interface KubeContainerState {
  name: string;
  ready: boolean;
  /** Cumulative, as in status.containerStatuses[].restartCount. */
  restartCount: number;
  /**
   * Restarts within the window asked for (`pods({ restartWindowMs })`): restartCount now minus the
   * lowest restartCount observed for this container at or after `now - restartWindowMs` (all of
   * restartCount when the pod is younger than the window). Derived from the object history.
   */
  restartsInWindow: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  /** CrashLoopBackOff, ImagePullBackOff, ... when waiting. */
  waitingReason?: string;
  /** status.containerStatuses[].lastState.terminated */
  lastTermination?: KubeTermination;
}

export interface KubeWorkloadRef {
  /** Deployment (resolved through its ReplicaSet), DaemonSet, StatefulSet, Job, ... or Pod when bare. */
  kind: string;
  name: string;
}

export interface KubePodState {
  namespace: string;
  name: string;
  /** spec.nodeName; '' when not scheduled. */
  node: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  workload?: KubeWorkloadRef;
  containers: KubeContainerState[];
}

export interface KubeWorkloadState {
  kind: 'Deployment' | 'DaemonSet' | string;
  namespace: string;
  name: string;
  /** Deployment spec.replicas; DaemonSet status.desiredNumberScheduled. */
  desired: number;
  /** Deployment status.availableReplicas; DaemonSet status.numberAvailable. */
  available: number;
  /** Deployment status.updatedReplicas; DaemonSet status.updatedNumberScheduled. */
  updated: number;
}

/** Implemented by the Kubernetes ingestion (ingest/kube/cluster-state.ts). Every method is read-only. */
export interface ClusterStateReader {
  /**
   * Up to when the state is known to be current (epoch ms): the last watch event, bookmark or
   * successful relist for the cluster, or null when there is no Kubernetes data for it at all.
   * Detectors skip judging state older than their `staleMs`.
   */
  observedAt(cluster: string): Promise<number | null>;
  nodes(cluster: string): Promise<KubeNodeState[]>;
  pods(cluster: string, opts: { restartWindowMs: number }): Promise<KubePodState[]>;
  /** Deployments and DaemonSets. */
  workloads(cluster: string): Promise<KubeWorkloadState[]>;
}

/** The same reads bound to one cluster: what `DetectorContext.kube` offers. */
export interface ClusterStateView {
  observedAt(): Promise<number | null>;
  nodes(): Promise<KubeNodeState[]>;
  pods(opts: { restartWindowMs: number }): Promise<KubePodState[]>;
  workloads(): Promise<KubeWorkloadState[]>;
}

export function bindClusterState(reader: ClusterStateReader, cluster: string): ClusterStateView {
  return {
    observedAt: () => reader.observedAt(cluster),
    nodes: () => reader.nodes(cluster),
    pods: (opts) => reader.pods(cluster, opts),
    workloads: () => reader.workloads(cluster),
  };
}

/** The reader used when no Kubernetes ingestion is wired: no data for any cluster. */
export class NoClusterState implements ClusterStateReader {
  async observedAt(): Promise<number | null> {
    return null;
  }
  async nodes(): Promise<KubeNodeState[]> {
    return [];
  }
  async pods(): Promise<KubePodState[]> {
    return [];
  }
  async workloads(): Promise<KubeWorkloadState[]> {
    return [];
  }
}

/** An in-memory reader: unit tests and benchmarks set rows directly. */
export class StaticClusterState implements ClusterStateReader {
  constructor(
    private readonly data: Record<string, { observedAt: number; nodes?: KubeNodeState[]; pods?: KubePodState[]; workloads?: KubeWorkloadState[] }> = {},
  ) {}
  set(cluster: string, state: { observedAt: number; nodes?: KubeNodeState[]; pods?: KubePodState[]; workloads?: KubeWorkloadState[] }): void {
    this.data[cluster] = state;
  }
  async observedAt(cluster: string): Promise<number | null> {
    return this.data[cluster]?.observedAt ?? null;
  }
  async nodes(cluster: string): Promise<KubeNodeState[]> {
    return this.data[cluster]?.nodes ?? [];
  }
  async pods(cluster: string): Promise<KubePodState[]> {
    return this.data[cluster]?.pods ?? [];
  }
  async workloads(cluster: string): Promise<KubeWorkloadState[]> {
    return this.data[cluster]?.workloads ?? [];
  }
}
