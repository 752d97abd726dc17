// What each console page shows, gathered from the services the other stages provide (incidents,
// approvals, pause state, the node registry) and from the store (telemetry, the audit trail).
// Pages (pages/*.ts) only render what these return.
import type { IncidentView } from '../core/pipeline.ts';
import type { RegisteredNode, Severity } from '../core/types.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
import type { IncidentManager } from '../remediators/incidents/manager.ts';
import type { HistoryEntry } from '../remediators/incidents/model.ts';
import type { Suppression } from '../remediators/incidents/silences.ts';
import type { IncidentTimeline } from '../remediators/incidents/timeline.ts';
import type { Approvals, ProposedPlan } from '../remediators/policy/approvals.ts';
import type { PauseState, RemediationPause } from '../remediators/policy/pause.ts';
import type { Store } from '../store/store.ts';
import type { ConsoleConfig } from './config.ts';
import { POOL } from '../core/clusters/pool.ts';
import type { ReleaseState } from './release-state.ts';
import { ConsoleTelemetry, type EtcdMember, type NodeMetrics } from './telemetry.ts';
import { readTrail, type TrailEntry, type TrailFilter } from './trail.ts';

export interface ViewDeps {
  store: Store;
  config: ConsoleConfig;
  /** The cluster catalog's names (configured and created through the API). */
  clusters: () => string[];
  incidents: IncidentManager;
  timeline: IncidentTimeline;
  approvals: Approvals;
  pause: RemediationPause;
  nodes: NodeRegistry;
  release: (cluster: string) => ReleaseState;
  now: () => number;
}

export type Counts = Record<Severity, number>;

export interface ClusterSummary {
  name: string;
  incidents: Counts;
  /** Open incidents under a silence or maintenance window (counted in `incidents` too). */
  silenced: number;
  worst: IncidentView[];
  nodes: { reporting: number; total: number; pending: number };
  etcd: { healthy: number; total: number };
  pause: PauseState;
  release: ReleaseState;
  /** Higher is worse: the fleet page sorts by it. */
  score: number;
}

export interface NodeRow {
  node: RegisteredNode;
  reporting: boolean;
  metrics: NodeMetrics | undefined;
  lastSample: number | null;
}

export interface IncidentPage {
  incident: IncidentView;
  suppressedBy: Suppression | null;
  findings: unknown[];
  history: HistoryEntry[];
  actions: Awaited<ReturnType<IncidentManager['actions']>>;
  plans: ProposedPlan[];
  more: Record<string, unknown[]>;
}

export class ConsoleViews {
  readonly telemetry: ConsoleTelemetry;

  constructor(private readonly d: ViewDeps) {
    this.telemetry = new ConsoleTelemetry(d.store);
  }

  /** Every cluster Whistle knows: in the catalog, with registered nodes, or with incidents (the node pool is none). */
  clusterNames(): string[] {
    const names = new Set<string>(this.d.clusters());
    for (const n of this.d.nodes.list()) names.add(n.cluster);
    for (const i of this.d.incidents.current()) names.add(i.cluster);
    names.delete(POOL);
    return [...names].sort();
  }

  openIncidents(cluster?: string): IncidentView[] {
    return this.d.incidents
      .current()
      .filter((i) => i.state !== 'resolved' && (!cluster || i.cluster === cluster))
      .map((r) => this.d.incidents.get(r.id)!)
      .filter(Boolean)
      .sort((a, b) => sevRank(b.severity) - sevRank(a.severity) || b.updatedAt - a.updatedAt);
  }

  suppressedBy(i: IncidentView): Suppression | null {
    return this.d.incidents.suppressedBy(i);
  }

  async fleet(): Promise<ClusterSummary[]> {
    const [last, etcd] = await Promise.all([this.telemetry.lastSamples(), this.telemetry.etcdMembers()]);
    const now = this.d.now();
    const open = this.openIncidents();
    return this.clusterNames()
      .map((name) => {
        const mine = open.filter((i) => i.cluster === name);
        const incidents: Counts = { critical: 0, warning: 0, info: 0 };
        for (const i of mine) incidents[i.severity]++;
        const silenced = mine.filter((i) => this.suppressedBy(i)).length;
        const nodes = this.d.nodes.list(name);
        const authorized = nodes.filter((n) => n.status === 'authorized');
        const reporting = authorized.filter((n) => now - (this.telemetry.lastOf(last, name, n.node) ?? 0) <= this.d.config.staleAfterMs).length;
        const members = etcd.get(name) ?? [];
        const healthy = members.filter((m) => m.up).length;
        const pause = this.d.pause.get(name);
        const release = this.d.release(name);
        const score =
          (incidents.critical - countSilenced(mine, 'critical', this)) * 1e6 +
          (incidents.warning - countSilenced(mine, 'warning', this)) * 1e4 +
          (incidents.info - countSilenced(mine, 'info', this)) * 1e2 +
          (members.length - healthy) * 1e3 +
          (release.rollout?.state === 'failed' ? 1e3 : 0) +
          (authorized.length - reporting) * 10 +
          (pause.paused ? 1 : 0);
        return { name, incidents, silenced, worst: mine.slice(0, 3), nodes: { reporting, total: authorized.length, pending: nodes.filter((n) => n.status === 'pending').length }, etcd: { healthy, total: members.length }, pause, release, score };
      })
      .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  }

  async cluster(name: string): Promise<{ nodes: NodeRow[]; etcd: EtcdMember[]; incidents: IncidentView[]; trail: TrailEntry[]; pause: PauseState; release: ReleaseState; known: boolean }> {
    const [metrics, last, etcd, trail] = await Promise.all([
      this.telemetry.nodeMetrics(name),
      this.telemetry.lastSamples(name),
      this.telemetry.etcdMembers(name),
      readTrail(this.d.store, { cluster: name, limit: 20 }),
    ]);
    const now = this.d.now();
    const nodes = this.d.nodes.list(name).map((node) => {
      const lastSample = this.telemetry.lastOf(last, name, node.node);
      return { node, metrics: metrics.get(node.node), lastSample, reporting: node.status === 'authorized' && lastSample !== null && now - lastSample <= this.d.config.staleAfterMs };
    });
    return { nodes, etcd: etcd.get(name) ?? [], incidents: this.openIncidents(name), trail, pause: this.d.pause.get(name), release: this.d.release(name), known: this.clusterNames().includes(name) };
  }

  async incident(id: string): Promise<IncidentPage> {
    const shown = await this.d.incidents.show(id);
    const [actions, more] = await Promise.all([this.d.incidents.actions(id), this.d.timeline.collect(id)]);
    return { ...shown, actions, more, plans: this.d.approvals.list({ incidentId: id }), suppressedBy: this.suppressedBy(shown.incident) };
  }

  async nodesPage(): Promise<NodeRow[]> {
    const last = await this.telemetry.lastSamples();
    const now = this.d.now();
    return this.d.nodes.list().map((node) => {
      const lastSample = this.telemetry.lastOf(last, node.cluster, node.node);
      return { node, metrics: undefined, lastSample, reporting: node.status === 'authorized' && lastSample !== null && now - lastSample <= this.d.config.staleAfterMs };
    });
  }

  trail(f: TrailFilter): Promise<TrailEntry[]> {
    return readTrail(this.d.store, f);
  }
}

function sevRank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0;
}

function countSilenced(list: IncidentView[], sev: Severity, v: ConsoleViews): number {
  return list.filter((i) => i.severity === sev && v.suppressedBy(i)).length;
}
