// Shared set-up for incident and notification tests: a migrated chDB store in a temp dir, a
// logger whose output is captured (to check that secrets never reach it), findings and reports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { REDACT_PATHS } from '../../core/log.ts';
import type { DetectorReport } from '../../core/pipeline.ts';
import type { Finding, Severity } from '../../core/types.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import { incidentsSchema, type IncidentsConfig } from '../../remediators/incidents/config.ts';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `whistle-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }) };
}

export async function openStore(dir: string): Promise<ChdbStore> {
  const store = new ChdbStore(join(dir, 'chdb'));
  await migrate(store, { retentionDays: 30 });
  return store;
}

/** A pino logger configured like production (same redaction) that keeps every line it writes. */
export function capturedLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  return { log, lines };
}

export function incidentsConfig(over: Partial<IncidentsConfig> = {}): IncidentsConfig {
  return { ...incidentsSchema.parse({}), ...over };
}

export function finding(over: Partial<Finding> & { subject: string }, ts: number): Finding {
  const detector = over.detector ?? 'low-disk';
  const cluster = over.cluster ?? 'prod-1';
  return {
    detector,
    cluster,
    severity: 'warning' as Severity,
    summary: `disk on ${over.subject} is 87% full`,
    evidence: { usedPercent: 87, mount: '/' },
    labels: { node: over.subject },
    fingerprint: `${detector}/${cluster}/${over.subject}`,
    ...over,
    ts,
  };
}

export function report(ts: number, findings: Finding[], detector = 'low-disk', cluster = 'prod-1'): DetectorReport {
  return { cluster, detector, ts, findings };
}

/** A controllable clock. */
export function clock(start = Date.UTC(2026, 0, 1, 12)) {
  let t = start;
  return { now: () => t, set: (v: number) => (t = v), advance: (ms: number) => (t += ms) };
}
