// The domain model shared by every part of the pipeline (see README "Architecture").
// Plain data only: these cross process, HTTP, Kafka and ClickHouse boundaries.

export type Labels = Record<string, string>;

/** One agent measurement. `ts` is epoch milliseconds. */
export interface Sample {
  cluster: string;
  node: string;
  name: string;
  value: number;
  ts: number;
  labels: Labels;
}

export type NodeStatus = 'pending' | 'authorized' | 'revoked';
export type NodeRole = '' | 'control-plane' | 'worker';

/** A node agent known to the management plane. The token itself is never stored, only its hash. */
export interface RegisteredNode {
  /** The cluster the node is in now: the one it registered into, or the one it is attached to from the pool ("pool" while in none). */
  cluster: string;
  /** The cluster it registered into (its token's and certificate's): a cluster name or "pool". */
  home: string;
  /** Availability zone: reported by the agent (agent.zone), or the Kubernetes node's topology.kubernetes.io/zone label. */
  zone: string;
  /** A pool node's role in the cluster it is attached to; '' for nodes not attached. */
  role: NodeRole;
  node: string;
  status: NodeStatus;
  tokenHash: string;
  registeredAt: number;
  updatedAt: number;
  updatedBy: string;
  address: string;
  agentVersion: string;
}

export type Severity = 'info' | 'warning' | 'critical';

/** A watched Kubernetes object's state, keyed by uid and resourceVersion. */
export interface KubeRecord {
  cluster: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  deleted: boolean;
  ts: number;
  /** The object as the API returned it, JSON-encoded. */
  object: string;
}

/** Pure output of a detector. */
export interface Finding {
  detector: string;
  cluster: string;
  /** What the finding is about: a node, pod, workload, etcd member, add-on, mount... */
  subject: string;
  severity: Severity;
  summary: string;
  evidence: Record<string, unknown>;
  labels: Labels;
  /** Stable identity of the problem; one incident per fingerprint. */
  fingerprint: string;
  ts: number;
}

export type IncidentState = 'open' | 'remediating' | 'awaiting_approval' | 'escalated' | 'resolved';

export type ActionState = 'planned' | 'started' | 'succeeded' | 'failed' | 'skipped';

/** One remediation step, recorded before and after. */
export interface Action {
  id: string;
  incidentId: string;
  cluster: string;
  subject: string;
  kind: string;
  state: ActionState;
  reason: string;
  dryRun: boolean;
  ts: number;
  detail: Record<string, unknown>;
  /** Who acted (a remediator's id, an operator's name), as the actions table's `actor` column has it. */
  actor?: string;
}

/** Work sent to a node agent: a kind from an allow-list, never shell. */
export interface Task {
  id: string;
  cluster: string;
  node: string;
  kind: string;
  params: Record<string, unknown>;
  createdAt: number;
}

export interface TaskResult {
  taskId: string;
  ok: boolean;
  output: Record<string, unknown>;
  error?: string;
  finishedAt: number;
}
