// The etcd bootstrap engine (what etcdadm does, driven from the management plane): init, join,
// info, remove, reset, snapshot, restore. Every change runs on the node that holds the member, as
// allow-listed agent tasks; every operation is idempotent, prints its plan first (and a dry run
// stops there), and is recorded before and after in the `actions` table.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sleep } from '../../core/backoff.ts';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { CertificateAuthority } from '../pki/ca.ts';
import { formatPreflight, runPreflight } from '../preflight/preflight.ts';
import { checkParams } from '../tasks/contract.ts';
import type { TaskQueue } from '../tasks/queue.ts';
import { ClusterReader, type EtcdInfo } from './cluster-view.ts';
import type { EtcdClusterConfig, EtcdConfig, EtcdNodeConfig } from './config.ts';
import type { OperationResult, Plan, PlanStep } from './plan.ts';
import { initialClusterFlag, peerURL, snapshotFileName, type MemberRef } from './topology.ts';

export interface OpOptions {
  dryRun?: boolean;
  actor?: string;
  incidentId?: string;
}

export interface SnapshotOptions extends OpOptions {
  /**
   * Skip (recorded as skipped) rather than wait while another operation holds the cluster: a
   * scheduled snapshot must neither wait behind a join nor delay it.
   */
  skipIfBusy?: boolean;
}

interface SnapshotRow {
  file: string;
  node: string;
  revision: number;
  ts: number;
}

export class EtcdEngine {
  readonly reader: ClusterReader;
  private readonly cas = new Map<string, Promise<CertificateAuthority>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly cfg: EtcdConfig,
    private readonly queue: TaskQueue,
    private readonly recorder: ActionRecorder,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.reader = new ClusterReader(queue, cfg.agentGoneMs);
  }

  // ---- lookup --------------------------------------------------------------------------------

  private readonly sources: ((name: string) => EtcdClusterConfig | undefined)[] = [];

  /**
   * Another place etcd clusters are declared besides `etcd.clusters[]`: the fleet's managed
   * clusters, whose members are their control-plane nodes. Asked at each lookup, so the set follows it.
   */
  addClusterSource(source: (name: string) => EtcdClusterConfig | undefined): void {
    this.sources.push(source);
  }

  cluster(name: string): EtcdClusterConfig {
    const c = this.cfg.clusters.find((x) => x.cluster === name) ?? this.sources.map((s) => s(name)).find(Boolean);
    if (!c) throw new NotFoundError(`cluster: no etcd cluster "${name}" (neither in etcd.clusters[] nor a managed cluster)`);
    return c;
  }

  node(c: EtcdClusterConfig, name: string): EtcdNodeConfig {
    const n = c.nodes.find((x) => x.node === name);
    if (!n) throw new InputError(`node: "${name}" is not an etcd node of ${c.cluster} (known: ${c.nodes.map((x) => x.node).join(', ')})`);
    return n;
  }

  ca(c: EtcdClusterConfig): Promise<CertificateAuthority> {
    let p = this.cas.get(c.cluster);
    if (!p) {
      p = CertificateAuthority.ensure(join(this.cfg.pkiDir, c.cluster), `whistle-etcd-ca-${c.cluster}`);
      p.catch(() => this.cas.delete(c.cluster));
      this.cas.set(c.cluster, p);
    }
    return p;
  }

  /**
   * One operation at a time per cluster; the others wait their turn. Snapshots take it too: a save
   * through a member that is being removed or re-joined hangs until etcdctl's deadline, and holds
   * that node's agent (which runs one task at a time) while the operation's next task waits.
   */
  private async exclusive<T>(cluster: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(cluster) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(cluster, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(cluster) === next) this.locks.delete(cluster);
    }
  }

  private async recorded(op: string, c: EtcdClusterConfig, subject: string, plan: Plan, opts: OpOptions, before: unknown, fn: () => Promise<{ changed: boolean; after?: unknown; detail?: Record<string, unknown> }>): Promise<OperationResult> {
    const base = { incidentId: opts.incidentId, cluster: c.cluster, subject, kind: `etcd.${op}`, actor: opts.actor ?? 'whistle' };
    if (opts.dryRun) {
      await this.recorder.write(this.recorder.newId(), 'skipped', { ...base, reason: 'dry run', dryRun: true, detail: { plan, before } });
      return { op, cluster: c.cluster, plan, dryRun: true, changed: false, before };
    }
    const r = await this.recorder.step({ ...base, reason: plan.summary, before, detail: { plan } }, fn, (x) => ({ changed: x.changed, after: x.after ?? null }));
    return { op, cluster: c.cluster, plan, dryRun: false, changed: r.changed, before, after: r.after, detail: r.detail };
  }

  private startParams(c: EtcdClusterConfig, members: MemberRef[], state: 'new' | 'existing', token: string) {
    return {
      clientPort: c.clientPort,
      peerPort: c.peerPort,
      initialCluster: initialClusterFlag(members),
      state,
      token,
      quotaBackendBytes: c.quotaBackendBytes,
      heartbeatMs: c.heartbeatMs,
      electionMs: c.electionMs,
    };
  }

  /** Certificates for a node from its own key (CSR); skipped when it already holds ours. */
  async ensurePki(c: EtcdClusterConfig, n: EtcdNodeConfig): Promise<{ issued: boolean }> {
    const ca = await this.ca(c);
    const out = await this.queue.runOk(c.cluster, n.node, 'pki.csr', {});
    if (out.certsPresent && out.caPem === ca.certPem) return { issued: false };
    // Loopback nodes also name 127.0.0.1: connections between 127.0.0.x addresses leave from it.
    const ips = n.address.startsWith('127.') && n.address !== '127.0.0.1' ? [n.address, '127.0.0.1'] : [n.address];
    const dnsNames = [n.node];
    await this.queue.runOk(c.cluster, n.node, 'pki.install', {
      caPem: ca.certPem,
      serverPem: await ca.sign(out.csrPem, { commonName: n.node, role: 'server', ips, dnsNames }),
      peerPem: await ca.sign(out.csrPem, { commonName: n.node, role: 'peer', ips, dnsNames }),
      clientPem: await ca.sign(out.csrPem, { commonName: `whistle-agent-${n.node}`, role: 'client' }),
    });
    return { issued: true };
  }

  /** A client certificate for a person or a test (same CA, clientAuth only). */
  async issueClientCert(cluster: string, csrPem: string, commonName: string): Promise<{ certPem: string; caPem: string }> {
    const ca = await this.ca(this.cluster(cluster));
    return { certPem: await ca.sign(csrPem, { commonName, role: 'client' }), caPem: ca.certPem };
  }

  private async preflight(c: EtcdClusterConfig, newNodes: EtcdNodeConfig[], memberNodes: EtcdNodeConfig[]): Promise<void> {
    const report = await runPreflight(this.queue, c.cluster, { newNodes, members: memberNodes, clientPort: c.clientPort, peerPort: c.peerPort });
    this.log.info({ cluster: c.cluster, ok: report.ok, ms: report.durationMs }, 'etcd preflight');
    if (!report.ok) throw new InputError(formatPreflight(report));
  }

  private requireAgent(c: EtcdClusterConfig, n: EtcdNodeConfig): void {
    if (!this.reader.agentAlive(c, n.node)) throw new ConflictError(`node: the agent on ${n.node} is not polling for tasks (gone for more than ${this.cfg.agentGoneMs} ms)`);
  }

  // ---- operations ------------------------------------------------------------------------------

  async info(cluster: string): Promise<EtcdInfo> {
    const c = this.cluster(cluster);
    const info = await this.reader.live(c);
    if (info) return info;
    return {
      cluster: c.cluster,
      quorum: false,
      leader: null,
      revision: null,
      via: null,
      members: [],
      nodes: c.nodes.map((n) => ({ node: n.node, address: n.address, role: n.role, agentAlive: this.reader.agentAlive(c, n.node), member: null })),
    };
  }

  async init(cluster: string, node: string | undefined, opts: OpOptions = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    const n = node ? this.node(c, node) : c.nodes.find((x) => x.role === 'member');
    if (!n) throw new InputError('node: no node with role "member" to start the cluster on');
    return this.exclusive(c.cluster, async () => {
      const before = await this.reader.live(c);
      const url = peerURL(c, n.address);
      const plan: Plan = { op: 'init', cluster: c.cluster, summary: `start a new one-member cluster on ${n.node} (${url})`, steps: [] };
      if (before?.quorum) {
        const mine = before.members.find((m) => m.peerURL === url);
        if (mine?.healthy) return { op: 'init', cluster: c.cluster, plan: { ...plan, summary: 'already initialized: nothing to do' }, dryRun: Boolean(opts.dryRun), changed: false, before };
        throw new ConflictError(`cluster ${c.cluster} is already initialized (members: ${before.members.map((m) => m.name || m.peerURL).join(', ')}); use join`);
      }
      const token = `whistle-${c.cluster}`;
      plan.steps = [
        { node: n.node, action: `preflight: ports ${c.clientPort},${c.peerPort} free on ${n.address}`, why: 'fail before changing anything' },
        { node: n.node, action: 'pki.csr + pki.install: server, peer and client certificates from the cluster CA', why: 'client and peer TLS with certificate auth' },
        { node: n.node, action: `etcd.start --initial-cluster-state=new --initial-cluster=${n.node}=${url}`, why: 'first member' },
        { node: n.node, action: 'verify: member healthy, has a leader', why: 'an operation is done when it is verified' },
      ];
      this.requireAgent(c, n);
      return this.recorded('init', c, n.node, plan, opts, before, async () => {
        const proc = await this.queue.runOk(c.cluster, n.node, 'etcd.process', {});
        if (!proc.running) await this.preflight(c, [n], []);
        await this.ensurePki(c, n);
        const started = await this.queue.runOk(c.cluster, n.node, 'etcd.start', this.startParams(c, [{ name: n.node, peerURL: url }], 'new', token));
        const after = await this.reader.waitHealthy(c, [n.node], this.cfg.verifyTimeoutMs);
        return { changed: !started.alreadyRunning, after };
      });
    });
  }

  async join(cluster: string, node: string, opts: OpOptions & { via?: string } = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    const n = this.node(c, node);
    if (opts.via) this.node(c, opts.via);
    return this.exclusive(c.cluster, () => this.joinLocked(c, n, opts));
  }

  private async joinLocked(c: EtcdClusterConfig, n: EtcdNodeConfig, opts: OpOptions & { via?: string }): Promise<OperationResult> {
    let before: EtcdInfo | null;
    if (opts.via) {
      try {
        before = await this.reader.via(c, opts.via);
      } catch (err) {
        throw new ConflictError(`via: ${(err as Error).message}; nothing was changed`);
      }
    } else before = await this.reader.live(c, [n.node]);
    if (!before?.quorum) throw new ConflictError(`cluster ${c.cluster} has no member with quorum to join through${before ? '' : ' (no agent answered)'}; nothing was changed`);
    const via = before.via!;
    const url = peerURL(c, n.address);
    const existing = before.members.find((m) => m.peerURL === url);
    const plan: Plan = { op: 'join', cluster: c.cluster, summary: `add ${n.node} (${url}) to ${before.members.length} member(s) through ${via}`, steps: [] };
    if (existing && existing.started && existing.healthy && !existing.isLearner) {
      return { op: 'join', cluster: c.cluster, plan: { ...plan, summary: `${n.node} is already a healthy member: nothing to do` }, dryRun: Boolean(opts.dryRun), changed: false, before };
    }
    const others = before.members.filter((m) => m.peerURL !== url);
    const memberNodes = others.map((m) => c.nodes.find((x) => x.node === m.node)).filter((x): x is EtcdNodeConfig => Boolean(x) && others.find((m) => m.node === x!.node)!.healthy);
    const steps: PlanStep[] = [
      { node: n.node, action: `preflight: ports free on ${n.address}, reach ${memberNodes.map((m) => m.node).join(',')} on ${c.peerPort}/${c.clientPort}`, why: 'fail before changing anything' },
      { node: n.node, action: 'pki.csr + pki.install', why: 'client and peer TLS with certificate auth' },
      existing
        ? { node: via, action: `member ${existing.id} already added (learner: ${existing.isLearner})`, why: 'idempotent re-run' }
        : { node: via, action: `etcd.member-add --learner ${url}`, why: 'a learner does not count toward quorum while it catches up' },
      { node: n.node, action: 'etcd.start --initial-cluster-state=existing', why: 'join the running cluster' },
      { node: via, action: 'etcd.member-promote (when the learner is in sync)', why: 'make it a voting member' },
      { node: '*', action: `verify: ${others.length + 1} voting members, all healthy`, why: 'an operation is done when it is verified' },
    ];
    plan.steps = steps;
    this.requireAgent(c, n);
    return this.recorded('join', c, n.node, plan, opts, before, async () => {
      const proc = await this.queue.runOk(c.cluster, n.node, 'etcd.process', {});
      if (!proc.running) await this.preflight(c, [n], memberNodes);
      await this.ensurePki(c, n);
      let memberId = existing?.id;
      let members: MemberRef[] = before.members.map((m) => ({ name: m.node === n.node ? n.node : m.name || m.node || '', peerURL: m.peerURL }));
      let added = false;
      if (!existing) {
        const add = await this.retrying(`member-add ${url}`, () =>
          this.queue.runOk(c.cluster, via, 'etcd.member-add', { clientPort: c.clientPort, peerURL: url, learner: true }),
        );
        memberId = add.member.id;
        added = add.added;
        members = add.members.map((m) => ({ name: m.peerURLs.includes(url) ? n.node : m.name || (c.nodes.find((x) => m.peerURLs.includes(peerURL(c, x.address)))?.node ?? ''), peerURL: m.peerURLs[0] ?? '' }));
      }
      try {
        // Already running: a re-run of a join cut short after this step (the handler would report alreadyRunning too).
        if (!proc.running) await this.queue.runOk(c.cluster, n.node, 'etcd.start', this.startParams(c, members, 'existing', `whistle-${c.cluster}`));
      } catch (err) {
        // Leave the cluster as it was: a learner that never started must not linger.
        if (added && memberId) await this.queue.run(c.cluster, via, 'etcd.member-remove', { clientPort: c.clientPort, memberId }).catch(() => undefined);
        throw err;
      }
      if (!existing || existing.isLearner) {
        await this.retrying(`promote ${n.node}`, () => this.queue.runOk(c.cluster, via, 'etcd.member-promote', { clientPort: c.clientPort, memberId: memberId! }), this.cfg.verifyTimeoutMs);
      }
      const expected = [...others.map((m) => m.node ?? m.name), n.node];
      const after = await this.reader.waitHealthy(c, expected, this.cfg.verifyTimeoutMs);
      return { changed: true, after, detail: { memberId } };
    });
  }

  /** Retries cluster-API calls etcd refuses transiently ("unhealthy cluster", learner not in sync). */
  private async retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const msg = (err as Error).message;
        const transient = /unhealthy cluster|in sync with leader|too many learner|leader changed|no leader|timed out|DEADLINE|UNAVAILABLE/i.test(msg);
        if (!transient || Date.now() > deadline) throw err;
        this.log.debug({ what, err: msg }, 'retrying etcd cluster call');
        await sleep(200);
      }
    }
  }

  async remove(cluster: string, node: string, opts: OpOptions = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    const n = this.node(c, node);
    return this.exclusive(c.cluster, () => this.removeLocked(c, n, opts));
  }

  private async removeLocked(c: EtcdClusterConfig, n: EtcdNodeConfig, opts: OpOptions): Promise<OperationResult> {
    const before = await this.reader.live(c, [n.node]);
    if (!before?.quorum) throw new ConflictError(`cluster ${c.cluster} has no quorum: removing a member needs one (see restore)`);
    const url = peerURL(c, n.address);
    const m = before.members.find((x) => x.peerURL === url);
    const plan: Plan = { op: 'remove', cluster: c.cluster, summary: m ? `remove member ${m.name || m.id} (${url}) through ${before.via}` : `${n.node} is not a member: nothing to do`, steps: [] };
    if (!m) return { op: 'remove', cluster: c.cluster, plan, dryRun: Boolean(opts.dryRun), changed: false, before };
    plan.steps = [
      { node: before.via!, action: `etcd.member-remove ${m.id}`, why: 'through a member with quorum' },
      { node: n.node, action: 'etcd.stop (if its agent is up)', why: 'a removed member must not keep running' },
    ];
    return this.recorded('remove', c, n.node, plan, opts, before, async () => {
      await this.retrying(`member-remove ${m.id}`, () => this.queue.runOk(c.cluster, before.via!, 'etcd.member-remove', { clientPort: c.clientPort, memberId: m.id }));
      if (this.reader.agentAlive(c, n.node)) await this.queue.run(c.cluster, n.node, 'etcd.stop', {}, 15_000);
      return { changed: true, after: await this.reader.live(c, [n.node]) };
    });
  }

  async reset(cluster: string, node: string, opts: OpOptions = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    const n = this.node(c, node);
    return this.exclusive(c.cluster, async () => {
      const before = await this.reader.live(c, [n.node]);
      const url = peerURL(c, n.address);
      const m = before?.quorum ? before.members.find((x) => x.peerURL === url) : undefined;
      const plan: Plan = {
        op: 'reset',
        cluster: c.cluster,
        summary: `leave the cluster and clean ${n.node}'s etcd data`,
        steps: [
          ...(m ? [{ node: before!.via!, action: `etcd.member-remove ${m.id}`, why: 'leave first, so the cluster does not wait for it' }] : []),
          { node: n.node, action: 'etcd.reset: stop etcd, delete its data dir (certificates stay)', why: 'a clean node can join again' },
        ],
      };
      this.requireAgent(c, n);
      if (!m && before?.quorum && !opts.dryRun) {
        // Not a member, not running, no data: already reset (a re-run after a restart cut the operation short).
        const proc = await this.queue.runOk(c.cluster, n.node, 'etcd.process', {});
        if (!proc.running && !proc.hasData) return { op: 'reset', cluster: c.cluster, plan: { ...plan, summary: `${n.node} is already reset: nothing to do`, steps: [] }, dryRun: false, changed: false, before };
      }
      return this.recorded('reset', c, n.node, plan, opts, before, async () => {
        if (m) await this.retrying(`member-remove ${m.id}`, () => this.queue.runOk(c.cluster, before!.via!, 'etcd.member-remove', { clientPort: c.clientPort, memberId: m.id }));
        const r = await this.queue.runOk(c.cluster, n.node, 'etcd.reset', {});
        return { changed: Boolean(m) || r.stopped || r.wiped, after: r };
      });
    });
  }

  /** True while an operation holds the cluster (or waits for it). */
  busy(cluster: string): boolean {
    return this.locks.has(cluster);
  }

  async snapshot(cluster: string, opts: SnapshotOptions = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    if (opts.skipIfBusy && this.busy(c.cluster)) {
      const plan: Plan = { op: 'snapshot', cluster: c.cluster, summary: 'skipped: another operation holds the cluster', steps: [] };
      await this.recorder.write(this.recorder.newId(), 'skipped', {
        incidentId: opts.incidentId,
        cluster: c.cluster,
        subject: c.cluster,
        kind: 'etcd.snapshot',
        actor: opts.actor ?? 'whistle',
        reason: 'ClusterBusy: another operation on the cluster is running; the next scheduled snapshot will try again',
        detail: { plan },
      });
      return { op: 'snapshot', cluster: c.cluster, plan, dryRun: Boolean(opts.dryRun), changed: false };
    }
    return this.exclusive(c.cluster, () => this.snapshotLocked(c, opts));
  }

  private async snapshotLocked(c: EtcdClusterConfig, opts: OpOptions): Promise<OperationResult> {
    const before = await this.reader.live(c);
    if (!before) throw new ConflictError(`cluster ${c.cluster}: no member answered; cannot take a snapshot`);
    const via = before.members.find((m) => m.healthy && m.node && !m.isLeader)?.node ?? before.via!;
    const file = snapshotFileName(c.cluster, Date.now());
    const plan: Plan = {
      op: 'snapshot',
      cluster: c.cluster,
      summary: `save ${file} from ${via}, keep the newest ${c.snapshots.retain}`,
      steps: [
        { node: via, action: `etcdctl snapshot save ${file}`, why: 'a follower, to spare the leader' },
        { node: via, action: 'etcdctl snapshot status + SHA-256 check', why: 'a backup is only good if it verifies' },
        { node: via, action: `delete snapshots beyond the newest ${c.snapshots.retain}`, why: 'retention' },
      ],
    };
    return this.recorded('snapshot', c, c.cluster, plan, opts, { revision: before.revision }, async () => {
      const out = await this.queue.runOk(c.cluster, via, 'etcd.snapshot', {
        clientPort: c.clientPort,
        file,
        retain: c.snapshots.retain,
        prefix: c.cluster,
      });
      const now = Date.now();
      await this.store.insert('etcd_snapshots', [
        { ts: now, cluster: c.cluster, node: via, file, state: 'saved', revision: out.revision, total_keys: out.totalKey, size_bytes: out.size, hash: out.hash, error: '' },
        ...out.deleted.map((f) => ({ ts: now, cluster: c.cluster, node: via, file: f, state: 'deleted', revision: 0, total_keys: 0, size_bytes: 0, hash: 0, error: '' })),
      ]);
      return { changed: true, after: out, detail: { file, node: via, revision: out.revision, totalKeys: out.totalKey } };
    });
  }

  /** Saved snapshots not deleted by retention, newest first. */
  async snapshots(cluster: string): Promise<SnapshotRow[]> {
    const rows = await this.store.query<{ file: string; node: string; revision: number | string; first_ts: number | string; st: string }>(
      `SELECT file, argMax(node, ts) AS node, max(revision) AS revision, toUnixTimestamp64Milli(min(ts)) AS first_ts, argMax(state, ts) AS st
       FROM etcd_snapshots WHERE cluster = {cluster:String} GROUP BY file HAVING st = 'saved' ORDER BY file DESC`,
      { cluster },
    );
    return rows.map((r) => ({ file: r.file, node: r.node, revision: Number(r.revision), ts: Number(r.first_ts) }));
  }

  /** The nodes a restore would use: the member nodes whose agents are up, topped up with spares. */
  restoreTargets(c: EtcdClusterConfig, nodes?: string[]): EtcdNodeConfig[] {
    if (nodes?.length) return nodes.map((x) => this.node(c, x));
    const wanted = c.nodes.filter((n) => n.role === 'member').length;
    const alive = c.nodes.filter((n) => n.role === 'member' && this.reader.agentAlive(c, n.node));
    const spares = c.nodes.filter((n) => n.role === 'spare' && this.reader.agentAlive(c, n.node));
    return [...alive, ...spares].slice(0, Math.max(1, wanted));
  }

  /** The restore plan: newest good snapshot (or `file`), the target nodes, each exact step. */
  async planRestore(cluster: string, opts: { file?: string; nodes?: string[] } = {}): Promise<{ plan: Plan; file: string; revision: number; targets: EtcdNodeConfig[]; token: string }> {
    const c = this.cluster(cluster);
    const targets = this.restoreTargets(c, opts.nodes);
    if (targets.length === 0) throw new ConflictError(`cluster ${c.cluster}: no node with a live agent to restore on`);
    let file = opts.file;
    let revision = 0;
    if (!file) {
      const known = await this.snapshots(c.cluster);
      for (const s of known) {
        const r = await this.queue.run(c.cluster, targets[0]!.node, 'etcd.snapshot-verify', { file: s.file }, 30_000);
        if (r.ok) {
          file = s.file;
          revision = r.output.revision;
          break;
        }
        this.log.warn({ cluster, file: s.file, err: r.error }, 'snapshot failed verification; trying an older one');
      }
      if (!file) throw new ConflictError(`cluster ${c.cluster}: no snapshot that verifies (${known.length} recorded)`);
    } else if (!checkParams('etcd.snapshot-verify', { file }).ok) throw new InputError('snapshot: must be a snapshot file name like <cluster>-<ts>.db');
    const token = `whistle-${c.cluster}-r${Date.now().toString(36)}`;
    const members = targets.map((n) => ({ name: n.node, peerURL: peerURL(c, n.address) }));
    const ic = initialClusterFlag(members);
    const plan: Plan = {
      op: 'restore',
      cluster: c.cluster,
      summary: `new ${targets.length}-member cluster from snapshot ${file}${revision ? ` (revision ${revision})` : ''} on ${targets.map((n) => n.node).join(', ')}`,
      steps: [
        ...targets.map((n) => ({ node: n.node, action: `etcdctl snapshot status ${file} + SHA-256 check`, why: 'every node must read the same good file before anything stops' })),
        ...c.nodes.filter((n) => this.reader.agentAlive(c, n.node)).map((n) => ({ node: n.node, action: 'etcd.stop', why: 'the old cluster has lost quorum' })),
        ...targets.map((n) => ({
          node: n.node,
          action: `etcdctl snapshot restore ${file} --name=${n.node} --initial-cluster=${ic} --initial-cluster-token=${token} --initial-advertise-peer-urls=${peerURL(c, n.address)} (old data dir kept aside)`,
          why: 'each member gets its own data dir from the snapshot',
        })),
        ...targets.map((n) => ({ node: n.node, action: `etcd.start --initial-cluster-state=new --initial-cluster-token=${token}`, why: 'start the restored cluster' })),
        { node: '*', action: `verify: ${targets.length} healthy members, revision >= the snapshot's`, why: 'an operation is done when it is verified' },
      ],
    };
    return { plan, file, revision, targets, token };
  }

  async restore(cluster: string, opts: OpOptions & { file?: string; nodes?: string[] } = {}): Promise<OperationResult> {
    const c = this.cluster(cluster);
    return this.exclusive(c.cluster, async () => {
      const p = await this.planRestore(cluster, opts);
      const before = await this.reader.live(c);
      return this.recorded('restore', c, c.cluster, p.plan, opts, before, async () => {
        // 1. Every target reads the same good snapshot, or nothing is touched.
        const verified = await Promise.all(p.targets.map((n) => this.queue.run(c.cluster, n.node, 'etcd.snapshot-verify', { file: p.file }, 30_000)));
        const bad = verified.map((r, i) => (r.ok ? null : `${p.targets[i]!.node}: ${r.error}`)).filter(Boolean);
        const first = verified[0];
        if (bad.length || !first?.ok) throw new InputError(`snapshot: ${bad.join('; ')}; nothing was changed`);
        const revision = first.output.revision;
        // 2. Stop the old members, 3. restore each target's data dir, 4. start them together.
        await Promise.all(c.nodes.filter((n) => this.reader.agentAlive(c, n.node)).map((n) => this.queue.runOk(c.cluster, n.node, 'etcd.stop', {})));
        const members = p.targets.map((n) => ({ name: n.node, peerURL: peerURL(c, n.address) }));
        const ic = initialClusterFlag(members);
        await Promise.all(
          p.targets.map(async (n) => {
            await this.ensurePki(c, n);
            await this.queue.runOk(c.cluster, n.node, 'etcd.restore', { file: p.file, initialCluster: ic, token: p.token, peerPort: c.peerPort });
          }),
        );
        await Promise.all(p.targets.map((n) => this.queue.runOk(c.cluster, n.node, 'etcd.start', this.startParams(c, members, 'new', p.token))));
        const after = await this.reader.waitHealthy(c, p.targets.map((n) => n.node), this.cfg.verifyTimeoutMs);
        if ((after.revision ?? 0) < revision) throw new Error(`restored cluster is at revision ${after.revision}, below the snapshot's ${revision}`);
        return { changed: true, after, detail: { file: p.file, revision, token: p.token } };
      });
    });
  }
}
