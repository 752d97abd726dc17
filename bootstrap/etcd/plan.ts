// An operation's plan: what will run, where, and why, printed before anything is done (and all a
// dry run does).
export interface PlanStep {
  node: string;
  action: string;
  why: string;
}

export interface Plan {
  op: string;
  cluster: string;
  summary: string;
  steps: PlanStep[];
}

export function formatPlan(p: Plan): string {
  return [`plan: etcd ${p.op} on ${p.cluster}: ${p.summary}`, ...p.steps.map((s, i) => `  ${i + 1}. [${s.node}] ${s.action} — ${s.why}`)].join('\n');
}

export interface OperationResult {
  op: string;
  cluster: string;
  plan: Plan;
  dryRun: boolean;
  /** False when the cluster was already in the requested state (idempotent re-run). */
  changed: boolean;
  before?: unknown;
  after?: unknown;
  detail?: Record<string, unknown>;
}
