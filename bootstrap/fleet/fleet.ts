// The fleet: managed clusters with their nodes, the node pool, and the two changes that move nodes
// between them. Attach takes authorized pool nodes into a cluster: a preflight on every node at
// once (ports free to bind, peers reachable on each required port), then, for control-plane nodes,
// the cluster's etcd formed (init on the first) or grown (join as learner, then promote) by the
// etcd engine, over TLS from the cluster's CA. Detach moves nodes back to the pool: a control-plane
// node's member is removed only while the cluster keeps quorum afterwards; a worker is drained
// first when the cluster has Kubernetes access. Each change prints its plan first (a dry run stops
// there), is recorded before and after in `actions` (kinds fleet.attach, fleet.detach), and runs
// alone on its cluster: a second one is refused while the first runs.
import type { Logger } from 'pino';
import { ClusterCatalog, POOL, type ClusterView, type CreateClusterInput } from '../../core/clusters/catalog.ts';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts';
import type { Action, NodeRole, RegisteredNode } from '../../core/types.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import type { NodeRegistry } from '../../ingest/node-registry.ts';
import type { ActionRecorder } from '../../remediators/policy/recorder.ts';
import type { Store } from '../../store/store.ts';
import type { EtcdInfo } from '../etcd/cluster-view.ts';
import type { EtcdClusterConfig } from '../etcd/config.ts';
import type { EtcdEngine } from '../etcd/engine.ts';
import type { OperationResult, Plan, PlanStep } from '../etcd/plan.ts';
import { NodeOps } from '../nodes/index.ts';
import { runPreflightChecks, type PortHold, type ReachCheck } from '../preflight/checks.ts';
import { formatPreflight, type PreflightReport } from '../preflight/preflight.ts';
import type { TaskQueue } from '../tasks/queue.ts';
import type { ReleaseCatalog } from '../upgrade/releases.ts';
import type { StoredWindow, WindowStore } from '../upgrade/window-store.ts';
import type { FleetConfig } from './config.ts';
import { placeControlPlane, type Placement } from './placement.ts';

export type AttachRole = Exclude<NodeRole, ''>;

export interface FleetNodeView {
  node: string;
  /** The cluster it is in ("pool" while in none). */
  cluster: string;
  /** "pool" for nodes that joined with the fleet token, else the cluster whose join token they used. */
  home: string;
  role: NodeRole;
  zone: string;
  /** Where the zone comes from: the agent, the Kubernetes node's topology.kubernetes.io/zone label, or nowhere. */
  zoneFrom: 'agent' | 'kubernetes' | 'none';
  status: RegisteredNode['status'];
  address: string;
  agentVersion: string;
  registeredAt: number;
}

export interface ClusterDetail {
  cluster: ClusterView;
  nodes: FleetNodeView[];
  controlPlane: string[];
  workers: string[];
  /** The cluster's etcd as its members report it now; null without control-plane nodes. */
  etcd: EtcdInfo | null;
  etcdError: string | null;
  /** The stack release it runs (the upgrade engine's record), null when none says. */
  release: string | null;
  /** Its recurring maintenance windows (the upgrade engine's). */
  maintenanceWindows: StoredWindow[];
}

export interface ChangeResult {
  op: 'attach' | 'detach';
  cluster: string;
  plan: Plan;
  dryRun: boolean;
  changed: boolean;
  preflight?: PreflightReport;
  steps?: OperationResult[];
  notes?: string[];
  after?: ClusterDetail;
}

export interface FleetDeps {
  catalog: ClusterCatalog;
  nodes: NodeRegistry;
  queue: TaskQueue;
  engine: EtcdEngine;
  recorder: ActionRecorder;
  store: Store;
  apis: ReadonlyMap<string, KubeApi>;
  /** The upgrade engine's record of each cluster's release and windows, shown in the cluster's detail. */
  releases: Pick<ReleaseCatalog, 'clusterRelease'>;
  windows: Pick<WindowStore, 'list'>;
  config: FleetConfig;
  log: Logger;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ZONE_LABEL = 'topology.kubernetes.io/zone';

export class Fleet {
  /** Pool nodes an attach in progress is taking: node -> (cluster, role). Their tasks go to the pool agent. */
  private readonly reserved = new Map<string, { cluster: string; role: AttachRole }>();
  /** The change running on each cluster. */
  private readonly busy = new Map<string, string>();

  constructor(private readonly d: FleetDeps) {}

  // ---- wiring ----------------------------------------------------------------------------------

  /** The queue a task for (cluster, node) goes to: a pool node's agent polls as the pool node it registered as. */
  routeTask(cluster: string, node: string): { cluster: string; node: string } {
    const n = this.d.nodes.get(cluster, node);
    if (n) return { cluster: n.home, node };
    if (this.reserved.get(node)?.cluster === cluster) return { cluster: POOL, node };
    return { cluster, node };
  }

  /** The etcd engine's view of a managed cluster: its control-plane nodes (and those being attached) as members. */
  etcdCluster(name: string): EtcdClusterConfig | undefined {
    if (!this.d.catalog.has(name)) return undefined;
    const c = this.d.catalog.get(name);
    const cps = this.controlPlane(name);
    const nodes = [...cps, ...[...this.reserved].filter(([n, r]) => r.cluster === name && r.role === 'control-plane' && !cps.some((x) => x.node === n)).map(([n]) => this.d.nodes.pooled(n)!)];
    // A cluster without control-plane nodes has no etcd of Whistle's: callers (the upgrade engine's health check) see none.
    if (nodes.length === 0) return undefined;
    return {
      cluster: name,
      clientPort: c.etcd.clientPort,
      peerPort: c.etcd.peerPort,
      nodes: nodes.map((n) => ({ node: n.node, address: n.address, role: 'member' as const })),
      members: Math.max(1, nodes.length),
      quotaBackendBytes: 2 * 1024 ** 3,
      heartbeatMs: 100,
      electionMs: 1000,
      snapshots: { intervalS: 0, retain: 5 },
    };
  }

  private controlPlane(cluster: string): RegisteredNode[] {
    return this.d.nodes.list(cluster).filter((n) => n.role === 'control-plane');
  }

  // ---- reading ---------------------------------------------------------------------------------

  /** topology.kubernetes.io/zone of each Kubernetes node the watchers saw in `cluster`. */
  private async kubeZones(cluster: string): Promise<Map<string, string>> {
    if (this.d.store.dialect !== 'modern' || !this.d.catalog.has(cluster) || this.d.catalog.get(cluster).kubeAccess === 'none') return new Map();
    const rows = await this.d.store.query<{ name: string; object: string; deleted: number | boolean }>(
      `SELECT name, argMax(object, rv) AS object, argMax(deleted, rv) AS deleted FROM kube_objects WHERE cluster = {cluster:String} AND kind = 'Node' GROUP BY name`,
      { cluster },
    );
    const out = new Map<string, string>();
    for (const r of rows) {
      if (Number(r.deleted) === 1 || r.deleted === true) continue;
      try {
        const zone = (JSON.parse(r.object) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[ZONE_LABEL];
        if (zone) out.set(r.name, zone);
      } catch {
        // An object the watcher stored is JSON; a row that is not cannot name a zone.
      }
    }
    return out;
  }

  private view(n: RegisteredNode, kubeZones: Map<string, string>): FleetNodeView {
    const kubeZone = kubeZones.get(n.node);
    return {
      node: n.node,
      cluster: n.cluster,
      home: n.home,
      role: n.role,
      zone: n.zone || kubeZone || '',
      zoneFrom: n.zone ? 'agent' : kubeZone ? 'kubernetes' : 'none',
      status: n.status,
      address: n.address,
      agentVersion: n.agentVersion,
      registeredAt: n.registeredAt,
    };
  }

  async nodeViews(cluster?: string): Promise<FleetNodeView[]> {
    const nodes = this.d.nodes.list(cluster);
    const zones = new Map<string, Map<string, string>>();
    for (const c of new Set(nodes.map((n) => n.cluster))) zones.set(c, await this.kubeZones(c));
    return nodes.map((n) => this.view(n, zones.get(n.cluster) ?? new Map()));
  }

  /** Authorized pool nodes in no cluster: what attach and placement choose from. */
  async available(): Promise<FleetNodeView[]> {
    return (await this.nodeViews(POOL)).filter((n) => n.status === 'authorized' && !this.reserved.has(n.node));
  }

  async detail(name: string): Promise<ClusterDetail> {
    const cluster = this.d.catalog.get(name);
    const nodes = await this.nodeViews(name);
    const controlPlane = nodes.filter((n) => n.role === 'control-plane').map((n) => n.node);
    let etcd: EtcdInfo | null = null;
    let etcdError: string | null = null;
    if (controlPlane.length > 0) {
      try {
        etcd = await this.d.engine.info(name);
      } catch (err) {
        etcdError = (err as Error).message;
      }
    }
    return {
      cluster,
      nodes,
      controlPlane,
      workers: nodes.filter((n) => n.role === 'worker').map((n) => n.node),
      etcd,
      etcdError,
      release: this.d.releases.clusterRelease(name),
      maintenanceWindows: this.d.windows.list(name),
    };
  }

  // ---- clusters --------------------------------------------------------------------------------

  /** The control-plane nodes a new cluster would get: distinct zones where the pool has them. */
  async place(count: number): Promise<Placement> {
    try {
      return placeControlPlane((await this.available()).map((n) => ({ node: n.node, zone: n.zone })), count);
    } catch (err) {
      throw new ConflictError(`controlPlane: ${(err as Error).message}`);
    }
  }

  /**
   * Creates a cluster; with `controlPlane`, also attaches that many pool nodes as its control plane
   * (placed across zones). A dry run creates nothing and answers the placement and the plan.
   */
  async create(
    input: CreateClusterInput,
    opts: { controlPlane?: number; dryRun?: boolean; actor: string },
  ): Promise<{ cluster: ClusterView | null; joinToken?: string; placement: Placement | null; attach: ChangeResult | null; attachError?: string }> {
    const placement = opts.controlPlane ? await this.place(opts.controlPlane) : null;
    if (opts.dryRun) {
      const name = ClusterCatalog.checkName(input.name);
      if (this.d.catalog.has(name)) throw new ConflictError(`name: a cluster "${name}" already exists`);
      return { cluster: null, placement, attach: null };
    }
    const made = await this.d.catalog.create(input, opts.actor);
    let attach: ChangeResult | null = null;
    if (placement) {
      try {
        attach = await this.attach(made.cluster.name, placement.nodes, 'control-plane', { actor: opts.actor });
      } catch (err) {
        // The cluster stays, and this answer is the one place its join token is shown: say what failed beside it.
        return { cluster: made.cluster, joinToken: made.joinToken, placement, attach: null, attachError: `controlPlane: attaching ${placement.nodes.join(', ')} failed: ${(err as Error).message}` };
      }
    }
    return { cluster: made.cluster, joinToken: made.joinToken, placement, attach };
  }

  async deleteCluster(name: string, actor: string): Promise<ClusterView> {
    this.d.catalog.get(name);
    // Revoked nodes hold nothing and can do nothing: they do not keep a cluster alive.
    const left = this.d.nodes.list(name).filter((n) => n.status !== 'revoked');
    if (left.length > 0) throw new ConflictError(`cluster: ${name} still has ${left.length} node(s) (${left.map((n) => n.node).join(', ')}): detach (pool nodes) or revoke them first`);
    if (this.busy.has(name)) throw new ConflictError(`cluster: ${name} is busy: ${this.busy.get(name)}`);
    const view = await this.d.catalog.delete(name, actor);
    await this.recordDesired(name, 0);
    return view;
  }

  /** What judges the reported etcd state (the etcd-quorum detector) reads the member count from here. */
  private async recordDesired(cluster: string, members: number): Promise<void> {
    if (this.d.store.dialect !== 'modern') return;
    const nodes = this.controlPlane(cluster).map((n) => ({ node: n.node, address: n.address, role: 'member' }));
    await this.d.store.insert('etcd_clusters', [{ ts: Date.now(), cluster, members, nodes: JSON.stringify(nodes) }]);
  }

  // ---- attach and detach -----------------------------------------------------------------------

  /**
   * Attaches and detaches a previous process began and never finished (killed mid-change): each is
   * closed `failed`, with what the cluster looks like now (its nodes' placement and its etcd
   * members, a learner left behind included), so the record is honest and a person can see what
   * to attach or detach again. Nothing is redone on its own: a half-made change to a control plane
   * is a person's call. Called at start, before the API takes a change.
   */
  async closeInterrupted(): Promise<Action[]> {
    const closed: Action[] = [];
    for (const kind of ['fleet.attach', 'fleet.detach']) {
      for (const a of await this.d.recorder.unfinished(kind)) {
        let etcd: unknown = null;
        if (this.d.catalog.has(a.cluster) && this.controlPlane(a.cluster).length > 0) {
          etcd = await this.d.engine.info(a.cluster).then((i) => i.members.map((m) => ({ name: m.name, healthy: m.healthy, learner: m.isLearner })), (err: Error) => ({ error: err.message }));
        }
        const reason = `Interrupted: Whistle stopped during ${kind.replace('fleet.', '')} of ${a.subject}; check the cluster and run it again if needed`;
        closed.push(await this.d.recorder.write(a.id, 'failed', { cluster: a.cluster, subject: a.subject, kind, reason, ...(a.actor ? { actor: a.actor } : {}), detail: { ...a.detail, after: { placements: this.d.catalog.has(a.cluster) ? this.placements(a.cluster) : [], etcd } } }));
        this.d.log.warn({ cluster: a.cluster, subject: a.subject, kind, action: a.id }, reason);
      }
    }
    return closed;
  }

  private lock<T>(cluster: string, what: string, fn: () => Promise<T>): Promise<T> {
    const running = this.busy.get(cluster);
    if (running) throw new ConflictError(`cluster: ${cluster} is busy: ${running} is running (one change at a time per cluster)`);
    this.busy.set(cluster, what);
    return fn().finally(() => this.busy.delete(cluster));
  }

  private checkNames(names: unknown): string[] {
    if (!Array.isArray(names) || names.length === 0) throw new InputError('nodes: give at least one node');
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (typeof n !== 'string' || n === '') throw new InputError(`nodes[${i}]: must be a node name`);
      if (seen.has(n)) throw new InputError(`nodes[${i}]: ${n} is listed twice`);
      seen.add(n);
    });
    return names as string[];
  }

  /** Refuses (naming the field) anything attach cannot take; answers the nodes that need attaching. */
  private checkAttach(cluster: string, names: string[], role: AttachRole): RegisteredNode[] {
    const take: RegisteredNode[] = [];
    names.forEach((name, i) => {
      const f = `nodes[${i}]`;
      const n = this.d.nodes.pooled(name);
      if (!n) {
        const elsewhere = this.d.nodes.list().find((x) => x.node === name);
        if (elsewhere) throw new ConflictError(`${f}: ${name} is a node of cluster ${elsewhere.cluster} (registered with its join token), not a pool node`);
        throw new NotFoundError(`${f}: no node "${name}" in the pool`);
      }
      if (n.status === 'pending') throw new ConflictError(`${f}: ${name} is pending authorization (whistle nodes authorize ${POOL} ${name})`);
      if (n.status === 'revoked') throw new ConflictError(`${f}: ${name} is revoked`);
      const r = this.reserved.get(name);
      if (r) throw new ConflictError(`${f}: ${name} is being attached to ${r.cluster}`);
      if (n.cluster !== POOL && n.cluster !== cluster) throw new ConflictError(`${f}: ${name} is attached to cluster ${n.cluster}: detach it first`);
      if (n.cluster === cluster) {
        if (n.role !== role) throw new ConflictError(`${f}: ${name} is already a ${n.role} node of ${cluster}`);
        return; // already there: nothing to do for it
      }
      if (this.d.nodes.list(cluster).some((x) => x.node === name)) throw new ConflictError(`${f}: cluster ${cluster} already has a node named ${name}`);
      if (!IPV4.test(n.address)) throw new ConflictError(`${f}: ${name}'s address "${n.address}" is not an IPv4 address (preflight and etcd need one)`);
      take.push(n);
    });
    return take;
  }

  private preflightSpec(cluster: string, newCps: RegisteredNode[], workers: RegisteredNode[]): { hold: PortHold[]; reach: ReachCheck[] } {
    const { clientPort, peerPort } = this.d.catalog.get(cluster).etcd;
    const existing = this.controlPlane(cluster);
    const isNew = new Set(newCps.map((n) => n.node));
    const cps = [...existing, ...newCps];
    const hold: PortHold[] = [
      ...newCps.map((n) => ({ node: n.node, address: n.address, ports: [clientPort, peerPort] })),
      ...workers.map((n) => ({ node: n.node, address: n.address, ports: this.d.config.workerPorts })),
    ];
    const reach: ReachCheck[] = [];
    for (const from of cps) {
      for (const to of cps) {
        if (from.node === to.node || (!isNew.has(from.node) && !isNew.has(to.node))) continue;
        reach.push({ from: from.node, to: to.node, host: to.address, port: peerPort });
        // A joining member talks to the running ones' client port too (member add, health).
        if (isNew.has(from.node) && !isNew.has(to.node)) reach.push({ from: from.node, to: to.node, host: to.address, port: clientPort });
      }
      for (const w of workers) for (const port of this.d.config.workerPorts) reach.push({ from: from.node, to: w.node, host: w.address, port });
    }
    return { hold, reach };
  }

  async attach(cluster: string, names: unknown, role: AttachRole, opts: { dryRun?: boolean; actor: string }): Promise<ChangeResult> {
    this.d.catalog.get(cluster);
    if (role !== 'control-plane' && role !== 'worker') throw new InputError('role: must be control-plane or worker');
    const list = this.checkNames(names);
    const take = this.checkAttach(cluster, list, role);
    const hasEtcd = this.controlPlane(cluster).length > 0;
    const cps = role === 'control-plane' ? take : [];
    const workers = role === 'worker' ? take : [];
    const spec = this.preflightSpec(cluster, cps, workers);
    const steps: PlanStep[] = take.length
      ? [
          {
            node: take.map((n) => n.node).join(','),
            action: `preflight: ${spec.hold.map((h) => `${h.node} binds ${h.ports.join(',')}`).join('; ')}; ${spec.reach.length} reach check(s)${spec.reach.length ? ` (${[...new Set(spec.reach.map((r) => r.port))].join(',')})` : ''}`,
            why: 'every node at once, before anything changes',
          },
          ...cps.map((n, i) => ({
            node: n.node,
            action: i === 0 && !hasEtcd ? `etcd init: a new one-member cluster on ${n.address}` : `etcd join: added as learner, started, promoted`,
            why: i === 0 && !hasEtcd ? 'the first control-plane node forms the cluster' : 'grow the cluster one voting member at a time',
          })),
          ...workers.map((n) => ({ node: n.node, action: `attach as worker of ${cluster}`, why: 'the node leaves the pool' })),
        ]
      : [];
    const plan: Plan = {
      op: 'attach',
      cluster,
      summary: take.length ? `attach ${take.map((n) => `${n.node}${n.zone ? ` (${n.zone})` : ''}`).join(', ')} as ${role} node(s) of ${cluster}` : `${list.join(', ')} already ${role} node(s) of ${cluster}: nothing to do`,
      steps,
    };
    const base = { cluster, subject: list.join(','), kind: 'fleet.attach', actor: opts.actor };
    if (opts.dryRun || take.length === 0) {
      if (opts.dryRun) await this.d.recorder.write(this.d.recorder.newId(), 'skipped', { ...base, reason: 'dry run', dryRun: true, detail: { plan } });
      return { op: 'attach', cluster, plan, dryRun: Boolean(opts.dryRun), changed: false };
    }
    return this.lock(cluster, `attach ${list.join(',')} by ${opts.actor}`, async () => {
      for (const n of take) this.reserved.set(n.node, { cluster, role });
      try {
        const before = this.placements(cluster);
        return await this.d.recorder.step(
          { ...base, reason: plan.summary, before, detail: { plan } },
          async (): Promise<ChangeResult> => {
            const report = await runPreflightChecks(this.d.queue, cluster, { ...spec, timeoutMs: this.d.config.preflightTimeoutMs });
            this.d.log.info({ cluster, ok: report.ok, ms: report.durationMs, checks: report.checks.length }, 'fleet attach preflight');
            if (!report.ok) throw new ConflictError(`nodes: ${formatPreflight(report)}; nothing was changed`);
            const results: OperationResult[] = [];
            let etcdFormed = hasEtcd;
            for (const n of cps) {
              const r = etcdFormed ? await this.d.engine.join(cluster, n.node, { actor: opts.actor }) : await this.d.engine.init(cluster, n.node, { actor: opts.actor });
              etcdFormed = true;
              results.push(r);
              await this.d.nodes.setPlacement(n.node, cluster, 'control-plane', opts.actor);
              this.reserved.delete(n.node);
            }
            for (const n of workers) await this.d.nodes.setPlacement(n.node, cluster, 'worker', opts.actor);
            if (cps.length) await this.recordDesired(cluster, this.controlPlane(cluster).length);
            return { op: 'attach', cluster, plan, dryRun: false, changed: true, preflight: report, steps: results, after: await this.detail(cluster) };
          },
          () => ({ placements: this.placements(cluster) }),
        );
      } finally {
        for (const n of take) this.reserved.delete(n.node);
      }
    });
  }

  private placements(cluster: string): { node: string; role: NodeRole }[] {
    return this.d.nodes.list(cluster).map((n) => ({ node: n.node, role: n.role }));
  }

  /** Why removing `node`'s member would cost the cluster its quorum; null when it would not. */
  static quorumAfterRemoval(info: Pick<EtcdInfo, 'quorum' | 'members'>, node: string): string | null {
    if (!info.quorum) return 'the cluster has no quorum now (restore it first: whistle etcd restore)';
    const voters = info.members.filter((m) => !m.isLearner);
    const mine = info.members.find((m) => m.node === node);
    if (!mine) return null;
    if (mine.isLearner) return null;
    const after = voters.length - 1;
    if (after === 0) return null; // the last member: the cluster's etcd goes with it
    const healthyAfter = voters.filter((m) => m.healthy && m.node !== node).length;
    const quorum = Math.floor(after / 2) + 1;
    if (healthyAfter < quorum) {
      const down = voters.filter((m) => !m.healthy).map((m) => m.node ?? m.name);
      return `removing ${node}'s member would leave ${after} member(s) of which ${healthyAfter} healthy, and quorum needs ${quorum}${down.length ? ` (unhealthy: ${down.join(', ')})` : ''}`;
    }
    return null;
  }

  async detach(cluster: string, names: unknown, opts: { dryRun?: boolean; actor: string }): Promise<ChangeResult> {
    this.d.catalog.get(cluster);
    const list = this.checkNames(names);
    const nodes = list.map((name, i) => {
      const n = this.d.nodes.get(cluster, name);
      if (!n) {
        if (this.d.nodes.pooled(name) || this.d.nodes.list().some((x) => x.node === name)) throw new ConflictError(`nodes[${i}]: ${name} is not a node of ${cluster}`);
        throw new NotFoundError(`nodes[${i}]: no node "${name}"`);
      }
      if (n.home !== POOL) throw new ConflictError(`nodes[${i}]: ${name} registered with ${cluster}'s join token: it has no pool to go back to (revoke it instead)`);
      return n;
    });
    const api = this.d.apis.get(cluster);
    const steps: PlanStep[] = nodes.flatMap((n): PlanStep[] =>
      n.role === 'control-plane'
        ? [
            { node: n.node, action: 'check: the cluster keeps quorum without this member', why: 'never detach into an outage' },
            { node: n.node, action: 'etcd: member remove, stop, wipe its data (certificates stay)', why: 'the node may join another cluster later' },
            { node: n.node, action: 'back to the pool', why: '' },
          ]
        : [
            api
              ? { node: n.node, action: 'drain: cordon, evict its pods (Eviction API, disruption budgets honoured)', why: 'workloads move before the node goes' }
              : { node: n.node, action: 'no drain: Whistle has no Kubernetes access to this cluster', why: 'give one (kubeconfig) to drain workers on detach' },
            { node: n.node, action: 'back to the pool', why: '' },
          ],
    );
    const plan: Plan = { op: 'detach', cluster, summary: `detach ${nodes.map((n) => `${n.node} (${n.role})`).join(', ')} from ${cluster}`, steps };
    const base = { cluster, subject: list.join(','), kind: 'fleet.detach', actor: opts.actor };
    if (opts.dryRun) {
      await this.d.recorder.write(this.d.recorder.newId(), 'skipped', { ...base, reason: 'dry run', dryRun: true, detail: { plan } });
      return { op: 'detach', cluster, plan, dryRun: true, changed: false };
    }
    return this.lock(cluster, `detach ${list.join(',')} by ${opts.actor}`, async () => {
      // Refused before anything is recorded as started: a refusal changes nothing.
      const first = nodes.find((n) => n.role === 'control-plane');
      if (first) {
        const why = Fleet.quorumAfterRemoval(await this.d.engine.info(cluster), first.node);
        if (why) throw new ConflictError(`nodes[${list.indexOf(first.node)}]: ${why}: refused, nothing was changed`);
      }
      return this.d.recorder.step(
        { ...base, reason: plan.summary, before: this.placements(cluster), detail: { plan } },
        async (): Promise<ChangeResult> => {
          const results: OperationResult[] = [];
          const notes: string[] = [];
          for (const n of nodes) {
            if (n.role === 'control-plane') {
              const info = await this.d.engine.info(cluster);
              const why = Fleet.quorumAfterRemoval(info, n.node);
              if (why) throw new ConflictError(`nodes[${list.indexOf(n.node)}]: ${why}: refused (nodes before it in the list were detached)`);
              const alive = this.d.queue.agentAlive(cluster, n.node, 30_000);
              results.push(alive ? await this.d.engine.reset(cluster, n.node, { actor: opts.actor }) : await this.d.engine.remove(cluster, n.node, { actor: opts.actor }));
              if (!alive) notes.push(`${n.node}: its agent is gone: member removed, its data dir is left as it was`);
            } else if (api) {
              notes.push(await this.drain(api, n.node, opts.actor));
            }
            await this.d.nodes.setPlacement(n.node, POOL, '', opts.actor);
          }
          if (nodes.some((n) => n.role === 'control-plane')) await this.recordDesired(cluster, this.controlPlane(cluster).length);
          return { op: 'detach', cluster, plan, dryRun: false, changed: true, steps: results, notes, after: await this.detail(cluster) };
        },
        () => ({ placements: this.placements(cluster) }),
      );
    });
  }

  private async drain(api: KubeApi, node: string, actor: string): Promise<string> {
    const ops = new NodeOps(api);
    try {
      await ops.status(node);
    } catch (err) {
      if (err instanceof NotFoundError) return `${node}: no Kubernetes node of that name: nothing to drain`;
      throw err;
    }
    const r = await ops.drain(node, { by: `fleet/${actor}`, timeoutMs: this.d.config.drainTimeoutMs });
    if (r.outcome !== 'drained') {
      throw new ConflictError(`nodes: drain of ${node} ended ${r.outcome}: ${r.blocked.map((b) => `${b.namespace}/${b.name} (${b.reason})`).join(', ') || 'pods still there'}; ${node} stays attached (cordoned)`);
    }
    return `${node}: drained, ${r.evicted.length} pod(s) evicted in ${r.durationMs} ms`;
  }
}
