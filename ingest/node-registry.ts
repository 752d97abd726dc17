// Registered node agents. The flow the seeds describe: an agent presents its cluster's join token
// and appears as pending; an operator authorizes it; only then is its telemetry accepted. State is
// appended to the `nodes` table and held in memory for the per-request token check.
import type { Logger } from 'pino';
import type { ClusterConfig } from '../core/config/schema.ts';
import { ForbiddenError, InputError, NotFoundError, UnauthorizedError } from '../core/errors.ts';
import type { NodeStatus, RegisteredNode } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import { hashToken, newToken, tokensEqual } from '../core/http/tokens.ts';

export interface RegistrationRequest {
  cluster: string;
  node: string;
  joinToken: string;
  address?: string;
  agentVersion?: string;
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
}

const key = (cluster: string, node: string) => `${cluster}\u0000${node}`;

export class NodeRegistry {
  private byKey = new Map<string, RegisteredNode>();
  private byTokenHash = new Map<string, RegisteredNode>();
  private version = 0;

  /**
   * Registrations this returns an actor for are authorized at once. `whistle start` uses it for the
   * agent it runs itself on the management plane's own machine; no remote node is ever matched.
   */
  autoAuthorize: (cluster: string, node: string) => string | undefined = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly clusters: () => ClusterConfig[],
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    const ts = (col: string) => (this.store.dialect === 'modern' ? `toUnixTimestamp64Milli(argMax(${col}, version))` : `argMax(${col}, version)`);
    const rows = await this.store.query<NodeRow>(
      `SELECT cluster, node, argMax(status, version) AS status, argMax(token_hash, version) AS token_hash,
              ${ts('registered_at')} AS registered_at, ${ts('updated_at')} AS updated_at,
              argMax(updated_by, version) AS updated_by, argMax(address, version) AS address,
              argMax(agent_version, version) AS agent_version, max(version) AS v
       FROM nodes GROUP BY cluster, node`,
    );
    this.byKey.clear();
    this.byTokenHash.clear();
    for (const r of rows) {
      this.remember({
        cluster: r.cluster,
        node: r.node,
        status: r.status,
        tokenHash: r.token_hash,
        registeredAt: Number(r.registered_at),
        updatedAt: Number(r.updated_at),
        updatedBy: r.updated_by,
        address: r.address,
        agentVersion: r.agent_version,
      });
    }
    this.log.debug({ nodes: rows.length }, 'node registry loaded');
  }

  private remember(n: RegisteredNode): void {
    const old = this.byKey.get(key(n.cluster, n.node));
    if (old) this.byTokenHash.delete(old.tokenHash);
    this.byKey.set(key(n.cluster, n.node), n);
    this.byTokenHash.set(n.tokenHash, n);
  }

  private async persist(n: RegisteredNode): Promise<void> {
    // Versions must grow even within one millisecond.
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    await this.store.insert('nodes', [
      {
        cluster: n.cluster,
        node: n.node,
        status: n.status,
        token_hash: n.tokenHash,
        registered_at: n.registeredAt,
        updated_at: n.updatedAt,
        updated_by: n.updatedBy,
        address: n.address,
        agent_version: n.agentVersion,
        version: this.version,
      },
    ]);
    this.remember(n);
  }

  /** Registers (or re-registers) an agent. A re-registration invalidates the old token and needs a new authorization. */
  async register(req: RegistrationRequest): Promise<{ token: string; status: NodeStatus }> {
    const autoAuthorizeBy = this.autoAuthorize(req.cluster, req.node);
    const cluster = this.clusters().find((c) => c.name === req.cluster);
    if (!cluster) throw new UnauthorizedError(`unknown cluster "${req.cluster}" or bad join token`);
    if (!tokensEqual(cluster.joinToken, req.joinToken)) throw new UnauthorizedError(`unknown cluster "${req.cluster}" or bad join token`);
    const token = newToken();
    const now = Date.now();
    const existing = this.byKey.get(key(req.cluster, req.node));
    const node: RegisteredNode = {
      cluster: req.cluster,
      node: req.node,
      status: autoAuthorizeBy ? 'authorized' : 'pending',
      tokenHash: hashToken(token),
      registeredAt: existing?.registeredAt ?? now,
      updatedAt: now,
      updatedBy: autoAuthorizeBy ?? 'agent',
      address: req.address ?? '',
      agentVersion: req.agentVersion ?? '',
    };
    await this.persist(node);
    this.log.info({ cluster: node.cluster, node: node.node, status: node.status }, existing ? 'node re-registered' : 'node registered');
    return { token, status: node.status };
  }

  async setStatus(cluster: string, nodeName: string, status: NodeStatus, actor: string): Promise<RegisteredNode> {
    if (!['pending', 'authorized', 'revoked'].includes(status)) throw new InputError(`status: must be authorized or revoked`);
    const existing = this.byKey.get(key(cluster, nodeName));
    if (!existing) throw new NotFoundError(`node ${cluster}/${nodeName} is not registered`);
    if (existing.status === status) return existing; // idempotent
    const updated = { ...existing, status, updatedAt: Date.now(), updatedBy: actor };
    await this.persist(updated);
    this.log.info({ cluster, node: nodeName, status, actor }, 'node status changed');
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

  get(cluster: string, node: string): RegisteredNode | undefined {
    return this.byKey.get(key(cluster, node));
  }

  list(cluster?: string): RegisteredNode[] {
    return [...this.byKey.values()].filter((n) => !cluster || n.cluster === cluster).sort((a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node));
  }
}
