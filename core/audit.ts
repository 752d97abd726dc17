// Records who did what through the operator API. Best effort by design: an audit write that fails
// is logged loudly but never blocks the operator's action (the action itself is recorded elsewhere).
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  cluster?: string;
  subject?: string;
  detail?: Record<string, unknown>;
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  async record(e: AuditEntry): Promise<void> {
    try {
      await this.store.insert('audit_log', [
        { ts: Date.now(), actor: e.actor, action: e.action, cluster: e.cluster ?? '', subject: e.subject ?? '', detail: JSON.stringify(e.detail ?? {}) },
      ]);
    } catch (err) {
      this.log.error({ err: (err as Error).message, entry: e }, 'audit write failed');
    }
  }
}
