// Records who did what through the operator API. Two kinds of write: `record`, best effort, for
// actions whose effect is recorded elsewhere too (logged loudly when it fails, never blocking);
// and `append`, which fails when the entry is not stored: the Kubernetes proxy serves a read only
// once it is recorded (fail closed), since the support team's reads of customer clusters must
// all be accountable.
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

  /** Best effort: for actions recorded elsewhere too (node authorization, silences). */
  async record(e: AuditEntry): Promise<void> {
    try {
      await this.append(e);
    } catch (err) {
      this.log.error({ err: (err as Error).message, entry: e }, 'audit write failed');
    }
  }

  /** Must succeed: throws when the entry could not be stored, for reads served only if recorded. */
  async append(e: AuditEntry): Promise<void> {
    await this.store.insert('audit_log', [
      { ts: Date.now(), actor: e.actor, action: e.action, cluster: e.cluster ?? '', subject: e.subject ?? '', detail: JSON.stringify(e.detail ?? {}) },
    ]);
  }
}
