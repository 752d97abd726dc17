// low-disk from rows: the newest size/used (bytes and inodes) per node and mount, plus the bucketed
// history of "used". Level and prediction are judged separately; the worse one sets the severity.
import type { Finding, Severity } from '../../../core/types.ts';
import { humanDuration, makeFinding, type LatestRow, type SeriesPoint, type SeriesRow } from '../../api.ts';
import { theilSen, type Fit } from '../../fit.ts';
import type { LowDiskConfig } from './config.ts';

export const ID = 'low-disk';

interface Fs {
  node: string;
  mount: string;
  fstype: string;
  device: string;
  readonly: boolean;
  values: Partial<Record<'size' | 'used' | 'files' | 'filesUsed', number>>;
  ts: number;
}

// Fits are recomputed only when a bucket closes: series arrays are stable between ticks.
const fitMemo = new WeakMap<readonly SeriesPoint[], Fit | null>();
function fitOf(points: readonly SeriesPoint[]): Fit | null {
  let f = fitMemo.get(points);
  if (f === undefined) {
    f = theilSen(points);
    fitMemo.set(points, f);
  }
  return f;
}

const GiB = 1024 ** 3;
function amount(v: number, resource: 'bytes' | 'inodes'): string {
  if (resource === 'inodes') return v >= 1e6 ? `${(v / 1e6).toFixed(1)}M inodes` : `${Math.round(v)} inodes`;
  return v >= GiB ? `${(v / GiB).toFixed(1)} GiB` : `${(v / 1024 ** 2).toFixed(0)} MiB`;
}

export function lowDiskFindings(cluster: string, now: number, latest: readonly LatestRow[], history: readonly SeriesRow[], cfg: LowDiskConfig): Finding[] {
  const m = cfg.metrics;
  const field = new Map<string, keyof Fs['values']>([
    [m.size, 'size'],
    [m.used, 'used'],
    [m.files, 'files'],
    [m.filesUsed, 'filesUsed'],
  ]);
  const filesystems = new Map<string, Fs>();
  for (const r of latest) {
    const f = field.get(r.name);
    const mount = r.labels.mount;
    if (!f || !mount) continue;
    const k = `${r.node}\u0000${mount}`;
    let fs = filesystems.get(k);
    if (!fs) {
      fs = { node: r.node, mount, fstype: r.labels.fstype ?? '', device: r.labels.device ?? '', readonly: r.labels.readonly === 'true', values: {}, ts: r.ts };
      filesystems.set(k, fs);
    }
    fs.values[f] = r.value;
    fs.ts = Math.max(fs.ts, r.ts);
  }
  const usedHistory = new Map<string, readonly SeriesPoint[]>();
  for (const s of history) {
    const f = field.get(s.name);
    if (f === 'used' || f === 'filesUsed') usedHistory.set(`${s.node}\u0000${s.labels.mount ?? ''}\u0000${f}`, s.points);
  }
  const ignored = new Set(cfg.ignoreFsTypes);
  const out: Finding[] = [];
  for (const [k, fs] of filesystems) {
    if (fs.readonly || ignored.has(fs.fstype)) continue;
    const { size, used, files, filesUsed } = fs.values;
    if (size === undefined || used === undefined || size < cfg.minSizeBytes || size <= 0) continue;
    const bytes = judge(fs, 'bytes', size, used, usedHistory.get(`${k}\u0000used`), now, cfg);
    if (bytes) out.push(makeFinding(ID, cluster, now, bytes));
    if (files !== undefined && filesUsed !== undefined && files >= cfg.minInodes && files > 0) {
      const inodes = judge(fs, 'inodes', files, filesUsed, usedHistory.get(`${k}\u0000filesUsed`), now, cfg);
      if (inodes) out.push(makeFinding(ID, cluster, now, inodes));
    }
  }
  return out;
}

function judge(fs: Fs, resource: 'bytes' | 'inodes', total: number, used: number, points: readonly SeriesPoint[] | undefined, now: number, cfg: LowDiskConfig) {
  const pct = (used / total) * 100;
  let fit: Fit | null = null;
  let timeToFullMs: number | null = null;
  if (points && points.length >= cfg.minFitPoints) {
    fit = fitOf(points);
    if (fit && fit.spanMs >= cfg.minFitSpanMs && fit.slope > 0) timeToFullMs = Math.max(0, (total - used) / fit.slope);
    else if (fit && fit.spanMs < cfg.minFitSpanMs) fit = null;
  }
  const reasons: string[] = [];
  let severity: Severity | null = null;
  const raise = (s: Severity, reason: string) => {
    reasons.push(reason);
    if (severity !== 'critical') severity = s;
  };
  if (pct >= cfg.criticalPercent) raise('critical', 'level');
  else if (pct >= cfg.warnPercent) raise('warning', 'level');
  if (timeToFullMs !== null && timeToFullMs <= cfg.criticalWithinMs) raise('critical', 'trend');
  else if (timeToFullMs !== null && timeToFullMs <= cfg.warnWithinMs) raise('warning', 'trend');
  if (!severity) return null;
  const what = resource === 'bytes' ? 'disk' : 'inodes';
  const full = timeToFullMs !== null ? `; full in ~${humanDuration(timeToFullMs)}` : '';
  const rate = fit && fit.slope > 0 ? ` at ${amount(fit.slope * 3_600_000, resource)}/h` : '';
  return {
    subject: `${fs.node}:${fs.mount}:${resource}`,
    severity: severity as Severity,
    summary: `${fs.node} ${fs.mount} ${what} ${pct.toFixed(1)}% used (${amount(used, resource)} of ${amount(total, resource)})${full}${rate}`,
    labels: { node: fs.node, mount: fs.mount, resource },
    evidence: {
      node: fs.node,
      mount: fs.mount,
      device: fs.device,
      fstype: fs.fstype,
      resource,
      used,
      total,
      usedPercent: Math.round(pct * 100) / 100,
      reasons,
      trendPerHour: fit ? fit.slope * 3_600_000 : null,
      timeToFullSeconds: timeToFullMs !== null ? Math.round(timeToFullMs / 1000) : null,
      estimatedFullAt: timeToFullMs !== null ? new Date(now + timeToFullMs).toISOString() : null,
      fitPoints: fit?.points ?? 0,
      fitSpanHours: fit ? Math.round((fit.spanMs / 3_600_000) * 10) / 10 : 0,
      sampleTs: new Date(fs.ts).toISOString(),
    },
  };
}
