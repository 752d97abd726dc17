// Registered node agents. The flow the seeds describe: an agent presents its cluster's join token
// (or the fleet join token, and then enters the node pool, in no cluster) and appears as pending; an
// operator authorizes it; only then is its telemetry accepted. A pool node may be attached to a
// cluster (bootstrap/fleet): its token and certificate stay those of the pool, but it counts as a
// node of that cluster everywhere (lists, detectors, its telemetry's cluster, its tasks). State is
// appended to the `nodes` table and held in memory for the per-request token check.
import type { Logger } from 'pino';
import { POOL, type ClusterCatalog } from '../core/clusters/catalog.ts';
import { ConflictError, ForbiddenError, InputError, NotFoundError, UnauthorizedError } from '../core/errors.ts';
import type { NodeRole, NodeStatus, RegisteredNode } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { hashToken, newToken } from '../core/http/tokens.ts';

export interface RegistrationRequest {
  cluster: string;
  node: string;
  joinToken: string;
  address?: string;
  agentVersion?: string;
  zone?: string;
}

interface NodeRow {
  cluster: string;
  node: string;
  status: NodeStatus;
  token_hash: string;
  registered_at: number | string;
  updated_at: number | string;
  updated_by: string;
  address: string;
  agent_version: string;
  zone?: string;
  attached_to?: string;
  role?: string;
}

const key = (cluster: string, node: string) => `${cluster}\u0000${node}`;

export class NodeRegistry {
  private byKey = new Map<string, RegisteredNode>();
  private byTokenHash = new Map<string, RegisteredNode>();
  private version = 0;
  /** This worker's own writes, running and done: a refresh read while one was made is not applied over it. */
  private writesRunning = 0;
  private writesDone = 0;

  /**
   * Registrations this returns an actor for are authorized at once. `whistle start` uses it for the
   * agent it runs itself on the management plane's own machine; no remote node is ever matched.
   */
  autoAuthorize: (cluster: string, node: string) => string | undefined = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly clusters: ClusterCatalog,
    private readonly log: Logger,
  ) {}

  /** Zone and placement columns come with the fleet migration, which legacy servers do not get. */
  private get fleetColumns(): boolean {
    return this.store.dialect === 'modern';
  }

  async load(): Promise<void> {
    const rows = await this.readTable();
    this.apply(rows);
    this.log.debug({ nodes: rows.length }, 'node registry loaded');
  }

  /**
   * Reads the table again, for what other Whistle workers sharing the store changed (a node
   * registered, authorized, revoked, attached or detached through another worker's API). A read
   * that overlapped a write made here is dropped: the next one sees both.
   */
  async refresh(): Promise<void> {
    if (this.writesRunning > 0) return;
    const seen = this.writesDone;
    const rows = await this.readTable();
    if (this.writesRunning > 0 || this.writesDone !== seen) return;
    this.apply(rows);
  }

  private async readTable(): Promise<NodeRow[]> {
    const ts = (col: string) => (this.store.dialect === 'modern' ? `toUnixTimestamp64Milli(argMax(${col}, version))` : `argMax(${col}, version)`);
    const fleet = this.fleetColumns ? ', argMax(zone, version) AS zone, argMax(attached_to, version) AS attached_to, argMax(role, version) AS role' : '';
    return this.store.query<NodeRow>(
      `SELECT cluster, node, argMax(status, version) AS status, argMax(token_hash, version) AS token_hash,
              ${ts('registered_at')} AS registered_at, ${ts('updated_at')} AS updated_at,
              argMax(updated_by, version) AS updated_by, argMax(address, version) AS address,
              argMax(agent_version, version) AS agent_version, max(version) AS v${fleet}
       FROM nodes GROUP BY cluster, node`,
    );
  }

  private apply(rows: NodeRow[]): void {
    this.byKey.clear();
    this.byTokenHash.clear();
    for (const r of rows) {
      this.remember({
        cluster: r.attached_to || r.cluster,
        home: r.cluster,
        node: r.node,
        status: r.status,
        tokenHash: r.token_hash,
        registeredAt: Number(r.registered_at),
        updatedAt: Number(r.updated_at),
        updatedBy: r.updated_by,
        address: r.address,
        agentVersion: r.agent_version,
        zone: r.zone ?? '',
        role: (r.role ?? '') as NodeRole,
      });
    }
  }

  private remember(n: RegisteredNode): void {
    const old = this.byKey.get(key(n.home, n.node));
    if (old) this.byTokenHash.delete(old.tokenHash);
    this.byKey.set(key(n.home, n.node), n);
    this.byTokenHash.set(n.tokenHash, n);
  }

  private async persist(n: RegisteredNode): Promise<void> {
    // Versions must grow even within one millisecond.
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    this.writesRunning++;
    try {
      await this.store.insert('nodes', [
        {
          cluster: n.home,
          node: n.node,
          status: n.status,
          token_hash: n.tokenHash,
          registered_at: n.registeredAt,
          updated_at: n.updatedAt,
          updated_by: n.updatedBy,
          address: n.address,
          agent_version: n.agentVersion,
          version: this.version,
          ...(this.fleetColumns ? { zone: n.zone, attached_to: n.cluster === n.home ? '' : n.cluster, role: n.role } : {}),
        },
      ]);
    } finally {
      this.writesRunning--;
      this.writesDone++;
    }
    this.remember(n);
  }

  /** Registers (or re-registers) an agent. A re-registration invalidates the old token and needs a new authorization; a pool node keeps its place. */
  async register(req: RegistrationRequest): Promise<{ token: string; status: NodeStatus }> {
    const autoAuthorizeBy = this.autoAuthorize(req.cluster, req.node);
    const known = req.cluster === POOL ? this.clusters.checkFleetToken(req.joinToken) : this.clusters.checkJoinToken(req.cluster, req.joinToken);
    if (!known) throw new UnauthorizedError(req.cluster === POOL ? 'bad fleet join token (the node pool)' : `unknown cluster "${req.cluster}" or bad join token`);
    const token = newToken();
    const now = Date.now();
    const existing = this.byKey.get(key(req.cluster, req.node));
    const node: RegisteredNode = {
      cluster: existing?.cluster ?? req.cluster,
      home: req.cluster,
      node: req.node,
      status: autoAuthorizeBy ? 'authorized' : 'pending',
      tokenHash: hashToken(token),
      registeredAt: existing?.registeredAt ?? now,
      updatedAt: now,
      updatedBy: autoAuthorizeBy ?? 'agent',
      address: req.address ?? '',
      agentVersion: req.agentVersion ?? '',
      zone: req.zone ?? existing?.zone ?? '',
      role: existing?.role ?? '',
    };
    await this.persist(node);
    this.log.info({ cluster: node.cluster, node: node.node, status: node.status }, existing ? 'node re-registered' : 'node registered');
    return { token, status: node.status };
  }

  async setStatus(cluster: string, nodeName: string, status: NodeStatus, actor: string): Promise<RegisteredNode> {
    if (!['pending', 'authorized', 'revoked'].includes(status)) throw new InputError(`status: must be authorized or revoked`);
    const existing = this.get(cluster, nodeName);
    if (!existing) throw new NotFoundError(`node ${cluster}/${nodeName} is not registered`);
    if (existing.status === status) return existing; // idempotent
    const updated = { ...existing, status, updatedAt: Date.now(), updatedBy: actor };
    await this.persist(updated);
    this.log.info({ cluster, node: nodeName, status, actor }, 'node status changed');
    return updated;
  }

  /** Attaches a pool node to `cluster` with `role`, or (cluster "pool") detaches it back to the pool. */
  async setPlacement(nodeName: string, cluster: string, role: NodeRole, actor: string): Promise<RegisteredNode> {
    const existing = this.byKey.get(key(POOL, nodeName));
    if (!existing) throw new NotFoundError(`node: ${nodeName} is not in the node pool`);
    if (cluster !== POOL && this.byKey.has(key(cluster, nodeName))) throw new ConflictError(`node: cluster ${cluster} already has a node named ${nodeName} (registered with its join token)`);
    const updated: RegisteredNode = { ...existing, cluster, role: cluster === POOL ? '' : role, updatedAt: Date.now(), updatedBy: actor };
    await this.persist(updated);
    this.log.info({ node: nodeName, cluster, role, actor }, cluster === POOL ? 'node detached to the pool' : 'node attached');
    return updated;
  }

  /** Resolves a node token to its node; throws the error the agent should act on. */
  authenticate(token: string | undefined): RegisteredNode {
    if (!token) throw new UnauthorizedError('missing bearer token (Authorization: Bearer <node token>)');
    const node = this.byTokenHash.get(hashToken(token));
    if (!node) throw new UnauthorizedError('unknown node token; register again with the join token');
    if (node.status === 'pending') throw new ForbiddenError(`node ${node.cluster}/${node.node} is pending authorization`);
    if (node.status === 'revoked') throw new ForbiddenError(`node ${node.cluster}/${node.node} is revoked`);
    return node;
  }

  /** The node `node` of `cluster`: registered into it, or attached to it from the pool. */
  get(cluster: string, node: string): RegisteredNode | undefined {
    const own = this.byKey.get(key(cluster, node));
    if (own) return own;
    const pooled = this.byKey.get(key(POOL, node));
    return pooled && pooled.cluster === cluster ? pooled : undefined;
  }

  /** A node of the pool by name, attached or not. */
  pooled(node: string): RegisteredNode | undefined {
    return this.byKey.get(key(POOL, node));
  }

  /** Nodes now in `cluster` (attached pool nodes included; "pool" lists the unattached ones). */
  list(cluster?: string): RegisteredNode[] {
    return [...this.byKey.values()].filter((n) => !cluster || n.cluster === cluster).sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node));
  }
}
