// TODO(incidents): a minimal in-memory stand-in for remediators/incidents/manager.ts
// (IncidentManager), used by the etcd tests and benchmark while that manager is being written. Same
// contract: FindingSink in, IncidentEvents out, transition / appendHistory / isSuppressed. One
// incident per fingerprint; it resolves when its detector reports without it for `resolveWindowMs`.
// No persistence, silences or flap damping: swap in IncidentManager once it has landed.
import { randomBytes } from 'node:crypto';
import type { DetectorReport, FindingSink, IncidentEvent, IncidentEventKind, IncidentListener, IncidentView } from '../../core/pipeline.ts';
import type { IncidentState } from '../../core/types.ts';
import type { IncidentPort } from './ports.ts';

export interface MinimalHistoryEntry {
  ts: number;
  kind: string;
  message: string;
  actor: string;
}

export class MinimalIncidents implements FindingSink, IncidentPort {
  private readonly byId = new Map<string, IncidentView & { lastSeen: number }>();
  private readonly byFp = new Map<string, string>();
  private readonly listeners = new Set<IncidentListener>();
  readonly history = new Map<string, MinimalHistoryEntry[]>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly resolveWindowMs = 3_000) {}

  subscribe(l: IncidentListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(kind: IncidentEventKind, inc: IncidentView): void {
    const event: IncidentEvent = { kind, incident: structuredClone(this.view(inc)) };
    this.chain = this.chain.then(async () => {
      for (const l of this.listeners) await l.onIncidentEvent(event).catch(() => undefined);
    });
  }

  private view(i: IncidentView & { lastSeen?: number }): IncidentView {
    const { lastSeen: _ignored, ...v } = i;
    return v;
  }

  private note(id: string, kind: string, message: string, actor: string): void {
    this.history.set(id, [...(this.history.get(id) ?? []), { ts: Date.now(), kind, message, actor }]);
  }

  async report(r: DetectorReport): Promise<void> {
    const seen = new Set<string>();
    for (const f of r.findings) {
      seen.add(f.fingerprint);
      const id = this.byFp.get(f.fingerprint);
      const cur = id ? this.byId.get(id) : undefined;
      if (!cur || cur.state === 'resolved') {
        const inc = { id: `inc-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, fingerprint: f.fingerprint, cluster: f.cluster, detector: f.detector, subject: f.subject, severity: f.severity, state: 'open' as IncidentState, summary: f.summary, openedAt: r.ts, updatedAt: r.ts, labels: f.labels, evidence: f.evidence, lastSeen: r.ts };
        this.byId.set(inc.id, inc);
        this.byFp.set(f.fingerprint, inc.id);
        this.note(inc.id, 'opened', f.summary, f.detector);
        this.emit('opened', inc);
        continue;
      }
      const changed = cur.severity !== f.severity || cur.labels.state !== f.labels.state;
      Object.assign(cur, { severity: f.severity, summary: f.summary, labels: f.labels, evidence: f.evidence, lastSeen: r.ts, updatedAt: r.ts });
      if (changed) {
        this.note(cur.id, 'updated', f.summary, f.detector);
        this.emit('updated', cur);
      }
    }
    for (const inc of this.byId.values()) {
      if (inc.state === 'resolved' || inc.detector !== r.detector || inc.cluster !== r.cluster || seen.has(inc.fingerprint)) continue;
      if (r.ts - inc.lastSeen >= this.resolveWindowMs) await this.transition(inc.id, 'resolved', 'detector no longer reports it', inc.detector);
    }
  }

  async transition(id: string, state: IncidentState, reason: string, actor: string): Promise<IncidentView> {
    const inc = this.byId.get(id);
    if (!inc) throw new Error(`incident ${id} does not exist`);
    if (inc.state === state) return this.view(inc);
    inc.state = state;
    inc.updatedAt = Date.now();
    if (state === 'resolved') inc.resolvedAt = inc.updatedAt;
    this.note(id, `state:${state}`, reason, actor);
    this.emit(state === 'resolved' ? 'resolved' : 'state_changed', inc);
    return this.view(inc);
  }

  async appendHistory(id: string, e: { kind: string; message: string; actor?: string }): Promise<void> {
    this.note(id, e.kind, e.message, e.actor ?? 'whistle');
  }

  isSuppressed(): boolean {
    return false;
  }

  get(id: string): IncidentView | undefined {
    const i = this.byId.get(id);
    return i ? this.view(i) : undefined;
  }

  list(filter: { detector?: string } = {}): IncidentView[] {
    return [...this.byId.values()].filter((i) => !filter.detector || i.detector === filter.detector).map((i) => this.view(i));
  }

  async idle(): Promise<void> {
    await this.chain;
  }
}
