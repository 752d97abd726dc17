// The Kubernetes read model: the current state of a watched cluster, already flattened from the API
// objects, as every stage after ingest sees it. The Kubernetes ingestion writes the watched objects
// and Events into kube_objects / kube_events and implements `ClusterStateReader` over them
// (ingest/kube/state-reader.ts); detectors read one cluster of it as `DetectorContext.kube`. Only
// what readers decide on is here, so the tables' layout can change without touching them.
//
// "No data" is not "everything is broken": when a cluster is not watched (no kubeconfig, or the
// tables are empty) `observedAt` answers null and readers skip their Kubernetes checks.

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
  /** The Ready condition's status; 'Unknown' also when the condition is missing (a node that never reported). */
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
   * restartCount at the window's start (the lowest seen inside it when the pod is younger than the
   * window). Derived from the object history.
   */
  restartsInWindow: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  /** CrashLoopBackOff, ImagePullBackOff, ... when waiting. */
  waitingReason?: string;
  /** status.containerStatuses[].lastState.terminated */
  lastTermination?: KubeTermination;
  /** The image the pod's spec names for this container (else the one its status reports). */
  image?: string;
}

export interface KubeWorkloadRef {
  /** Deployment (resolved through its ReplicaSet), DaemonSet, StatefulSet, Job, ... the pod's controller. */
  kind: string;
  name: string;
}

export interface KubePodState {
  namespace: string;
  name: string;
  /** spec.nodeName; '' when not scheduled. */
  node: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** The pod's Ready condition is True. */
  ready: boolean;
  /** Absent for a bare pod. */
  workload?: KubeWorkloadRef;
  /** Init containers first, then the app containers. */
  containers: KubeContainerState[];
}

export interface KubeWorkloadState {
  kind: 'Deployment' | 'DaemonSet' | string;
  namespace: string;
  name: string;
  /** Deployment spec.replicas; DaemonSet status.desiredNumberScheduled. */
  desired: number;
  /** Deployment status.readyReplicas; DaemonSet status.numberReady. */
  ready: number;
  /** Deployment status.availableReplicas; DaemonSet status.numberAvailable. */
  available: number;
  /** Deployment status.updatedReplicas; DaemonSet status.updatedNumberScheduled. */
  updated: number;
  /** The pod template's container images, in order. */
  images?: string[];
  /** Deployment: its current revision (the `deployment.kubernetes.io/revision` annotation). */
  revision?: number;
  /**
   * Deployment: when its current revision was first seen in the watched history (epoch ms): the last
   * rollout's start when Whistle watched it happen, else when the watch first saw the Deployment.
   */
  revisionSince?: number;
}

/** A core/v1 Event, at its latest version. */
export interface KubeEvent {
  namespace: string;
  name: string;
  /** Normal or Warning. */
  type: string;
  reason: string;
  message: string;
  involvedKind: string;
  involvedNamespace: string;
  involvedName: string;
  count: number;
  /** When it was last seen (epoch ms). */
  lastTs: number;
}

/** One cluster's state: what `DetectorContext.kube` offers. Every method is read-only. */
export interface ClusterStateView {
  /**
   * Up to when the state is known to be current (epoch ms): the last watch event, bookmark or
   * successful relist for the cluster, or null when there is no Kubernetes data for it at all.
   * Readers skip judging state older than their `staleMs`.
   */
  observedAt(): Promise<number | null>;
  nodes(): Promise<KubeNodeState[]>;
  pods(opts: { restartWindowMs: number }): Promise<KubePodState[]>;
  /** Deployments, then DaemonSets. */
  workloads(): Promise<KubeWorkloadState[]>;
  /** Events last seen at or after `sinceMs`, newest first, at most `limit` (default 1,000). */
  events(opts: { sinceMs: number; limit?: number }): Promise<KubeEvent[]>;
}

/** The state of every watched cluster; the detector engine binds one cluster per run. */
export interface ClusterStateReader {
  forCluster(cluster: string): ClusterStateView;
}
