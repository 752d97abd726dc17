// One node's upgrade, step by step: preflight → cordon → drain (Eviction API, budgets honoured and
// waited on up to drainTimeoutMs, never forced) → the agent's install task → Ready and the target
// versions reported by the node's own agent → uncordon → health gate (no new incident on the node
// or its cluster for soakMs). Each step is recorded before and after in the actions table, and
// each phase reached is written to the rollout's state before the next step starts, so a restart
// continues from the phase recorded. A failed step throws NodeUpgradeFailed; the node stays as
// the step left it (cordoned, with the reason), and resume retries from the phase it had reached.
import type { Logger } from 'pino';
import { sleep } from '../../core/backoff.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { ActionRecorder } from '../../remediators/policy/recorder.ts';
import type { NodeOps } from '../nodes/index.ts';
import type { TaskQueue } from '../tasks/queue.ts';
import type { UpgradesConfig } from './config.ts';
import type { NodeStep } from './plan.ts';
import type { ReleaseCatalog } from './releases.ts';
import { phaseIndex, type NodeRecord, type PHASES, type Rollout } from './rollout-store.ts';

export class NodeUpgradeFailed extends Error {
  constructor(
    readonly node: string,
    readonly step: string,
    message: string,
  ) {
    super(`${node}: ${step}: ${message}`);
  }
}

export interface NodeUpgradeDeps {
  cfg: UpgradesConfig;
  ops: NodeOps;
  tasks: TaskQueue;
  recorder: ActionRecorder;
  releases: ReleaseCatalog;
  log: Logger;
  /** null when the cluster has no etcd Whistle manages. */
  etcdHealth(cluster: string): Promise<{ healthy: boolean; detail: string } | null>;
  /** Incidents on the cluster opened at or after `since` that are not tied to a rollout. */
  newIncidents(cluster: string, since: number): IncidentView[];
  /** Writes the node's record (durable before the next step). */
  save(n: NodeRecord): Promise<void>;
}

type Phase = (typeof PHASES)[number];

export async function upgradeNode(d: NodeUpgradeDeps, r: Rollout, step: NodeStep, rec: NodeRecord): Promise<void> {
  const by = `upgrade/${r.id}`;
  const targets = Object.fromEntries(step.changes.map((c) => [c.component, c.to]));
  const base = { cluster: r.cluster, subject: step.node, actor: by, detail: { rollout: r.id, release: r.release } };
  const reach = async (phase: Phase, extra: Partial<NodeRecord> = {}) => {
    Object.assign(rec, { phase, reached: phase, reason: '', updatedAt: Date.now() }, extra);
    await d.save(rec);
  };
  const fail = (what: string, message: string) => new NodeUpgradeFailed(step.node, what, message);
  const before = (p: Phase) => phaseIndex(rec.reached) < phaseIndex(p);
  const etcdGate = async (when: string) => {
    if (step.role !== 'control-plane') return;
    const e = await d.etcdHealth(r.cluster);
    if (e && !e.healthy) throw fail('etcd', `etcd is not healthy ${when}: ${e.detail}`);
  };

  if (before('preflight')) {
    await d.recorder.step({ ...base, kind: 'upgrade.preflight', reason: 'node Ready, agent reporting, etcd healthy', before: { targets } }, async () => {
      const s = await d.ops.status(step.node);
      if (!s.ready) throw fail('preflight', 'the node is not Ready');
      if (s.cordoned && s.cordonedBy !== by) throw fail('preflight', `the node is cordoned ${s.cordonedBy ? `by ${s.cordonedBy}` : 'outside Whistle'}: not taking it over`);
      const reported = await d.releases.nodeVersions(r.cluster, 0, step.node);
      if (reported.length === 0) throw fail('preflight', 'its agent reports no component versions (agent.tasks.packages)');
      await etcdGate('before the node is taken out');
      return { ready: s.ready, versions: reported[0]?.components };
    });
    await reach('preflight', { startedAt: rec.startedAt ?? Date.now() });
  }

  if (before('cordoned')) {
    await d.recorder.step({ ...base, kind: 'upgrade.cordon', reason: 'no new pods on the node while it is upgraded' }, () => d.ops.cordon(step.node, { by }));
    await reach('cordoned');
  }

  if (before('drained')) {
    const result = await d.recorder.step({ ...base, kind: 'upgrade.drain', reason: `evict through the Eviction API, PDBs honoured, at most ${d.cfg.drainTimeoutMs} ms` }, async () => {
      const res = await d.ops.drain(step.node, { by, timeoutMs: d.cfg.drainTimeoutMs, unmanagedPods: d.cfg.unmanagedPods });
      if (res.outcome !== 'drained') {
        const blocked = res.blocked.map((b) => `${b.namespace}/${b.name} (${b.reason}${b.pdb ? ` ${b.pdb}` : ''}: ${b.message})`).join('; ');
        throw fail('drain', `${res.outcome} after ${res.durationMs} ms, not forced; still on the node: ${blocked || 'nothing listed'}`);
      }
      // Calls beyond the first per pod were refused (a budget's 429, or throttling) and waited on.
      const refused = res.evicted.reduce((n, e) => n + Math.max(0, e.evictionCalls - 1), 0);
      return { evicted: res.evicted.length, skipped: res.skipped.length, refusedEvictions: refused, durationMs: res.durationMs };
    });
    d.log.info({ node: step.node, ...result }, 'node drained');
    await reach('drained');
  }

  let installedAt = rec.updatedAt;
  if (before('installed')) {
    await d.recorder.step({ ...base, kind: 'upgrade.install', reason: 'the node agent installs the release (node.upgrade-install)', before: { targets } }, async () => {
      const out = await d.tasks.run(r.cluster, step.node, 'node.upgrade-install', { release: r.release, components: targets }, d.cfg.installTimeoutMs);
      if (!out.ok) throw fail('install', out.error);
      return out.output;
    });
    installedAt = Date.now();
    await reach('installed');
  }

  if (before('ready')) {
    await d.recorder.step({ ...base, kind: 'upgrade.wait-ready', reason: 'Ready, and the target versions reported by its agent after the install', before: { targets } }, async () => {
      const deadline = Date.now() + d.cfg.readyTimeoutMs;
      let last = '';
      for (;;) {
        const s = await d.ops.status(step.node).catch((err: Error) => ({ ready: false, error: err.message }));
        const reported = (await d.releases.nodeVersions(r.cluster, installedAt, step.node))[0]?.components ?? {};
        const behind = Object.entries(targets).filter(([c, v]) => reported[c] !== v);
        if (s.ready && behind.length === 0) return { ready: true, versions: reported };
        last = `${s.ready ? 'Ready' : 'not Ready'}; ${behind.length ? `reported since the install: ${behind.map(([c, v]) => `${c} ${reported[c] ?? 'nothing'} (want ${v})`).join(', ')}` : 'versions at target'}`;
        if (Date.now() >= deadline) throw fail('wait-ready', `not back within ${d.cfg.readyTimeoutMs} ms: ${last}`);
        await sleep(Math.min(1_000, d.cfg.tickMs));
      }
    });
    await reach('ready');
  }

  if (before('uncordoned')) {
    await d.recorder.step({ ...base, kind: 'upgrade.uncordon', reason: 'back in service' }, () => d.ops.uncordon(step.node, { by }));
    await reach('uncordoned', { backAt: rec.backAt ?? Date.now() });
  }

  if (before('done')) {
    await d.recorder.step({ ...base, kind: 'upgrade.health-gate', reason: `no new incident on ${step.node} or ${r.cluster} for ${d.cfg.soakMs} ms` }, async () => {
      const since = rec.startedAt ?? rec.updatedAt;
      const until = (rec.backAt ?? Date.now()) + d.cfg.soakMs;
      for (;;) {
        const fresh = d.newIncidents(r.cluster, since);
        if (fresh.length > 0) throw fail('health-gate', `new incident(s) since the node's upgrade began: ${fresh.map((i) => `${i.id} ${i.detector} on ${i.subject}: ${i.summary}`).join('; ')}`);
        if (Date.now() >= until) break;
        await sleep(Math.min(500, Math.max(1, until - Date.now())));
      }
      await etcdGate('after the node came back');
      return { soakedMs: d.cfg.soakMs };
    });
    await reach('done');
  }
}
