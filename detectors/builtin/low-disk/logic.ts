// low-disk from rows: filesystems whose newest used/total is over the warning level (judged in
// ClickHouse, so only those come back), and the bucketed history of used and total for every
// filesystem (trend). Level and prediction are judged separately; the worse sets the severity.
// The prediction extrapolates the fitted line (like Prometheus' predict_linear): time to full =
// (total - fit(now)) / slope, or from the newest level when the filesystem is also over the line.
import type { Finding, Severity } from '../../../core/types.ts';
import { humanDuration, makeFinding, type RatioRow, type SeriesPoint, type SeriesRow } from '../../api.ts';
import { at, theilSen, type Fit } from '../../fit.ts';
import type { LowDiskConfig } from './config.ts';

export const ID = 'low-disk';

export type Resource = 'bytes' | 'inodes';

export interface LowDiskRows {
  /** used/size >= warn level, bytes (labels mount, fstype, readonly, device). */
  bytes: readonly RatioRow[];
  /** files_used/files >= warn level. */
  inodes: readonly RatioRow[];
  /** Bucket means of used, size, files_used, files (labels mount, fstype, device). */
  history: readonly SeriesRow[];
}

interface Fs {
  node: string;
  mount: string;
  fstype: string;
  device: string;
  readonly: boolean;
  level?: RatioRow;
  used?: readonly SeriesPoint[];
  total?: readonly SeriesPoint[];
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
function amount(v: number, resource: Resource): string {
  if (resource === 'inodes') return v >= 1e6 ? `${(v / 1e6).toFixed(1)}M inodes` : `${Math.round(v)} inodes`;
  return v >= GiB ? `${(v / GiB).toFixed(1)} GiB` : `${(v / 1024 ** 2).toFixed(0)} MiB`;
}

export function lowDiskFindings(cluster: string, now: number, rows: LowDiskRows, cfg: LowDiskConfig): Finding[] {
  const m = cfg.metrics;
  const fss = { bytes: new Map<string, Fs>(), inodes: new Map<string, Fs>() };
  const fsOf = (resource: Resource, node: string, labels: Record<string, string>): Fs => {
    const mount = labels.mount ?? '';
    const k = `${node}\u0000${mount}`;
    let fs = fss[resource].get(k);
    if (!fs) {
      fs = { node, mount, fstype: labels.fstype ?? '', device: labels.device ?? '', readonly: labels.readonly === 'true' };
      fss[resource].set(k, fs);
    }
    return fs;
  };
  for (const r of rows.bytes) fsOf('bytes', r.node, r.labels).level = r;
  for (const r of rows.inodes) fsOf('inodes', r.node, r.labels).level = r;
  for (const s of rows.history) {
    if (s.name === m.used) fsOf('bytes', s.node, s.labels).used = s.points;
    else if (s.name === m.size) fsOf('bytes', s.node, s.labels).total = s.points;
    else if (s.name === m.filesUsed) fsOf('inodes', s.node, s.labels).used = s.points;
    else if (s.name === m.files) fsOf('inodes', s.node, s.labels).total = s.points;
  }
  const ignored = new Set(cfg.ignoreFsTypes);
  const out: Finding[] = [];
  for (const resource of ['bytes', 'inodes'] as const) {
    for (const fs of fss[resource].values()) {
      if (fs.readonly || ignored.has(fs.fstype) || !fs.mount) continue;
      const f = judge(fs, resource, now, cfg);
      if (f) out.push(makeFinding(ID, cluster, now, f));
    }
  }
  return out;
}

function judge(fs: Fs, resource: Resource, now: number, cfg: LowDiskConfig) {
  // The trend: only from history that is still current (the agent may have gone quiet).
  let fit: Fit | null = null;
  const pts = fs.used;
  const lastPoint = pts?.[pts.length - 1];
  if (pts && lastPoint && pts.length >= cfg.minFitPoints && now - lastPoint.t <= 3 * cfg.bucketMs) {
    const f = fitOf(pts);
    if (f && f.spanMs >= cfg.minFitSpanMs) fit = f;
  }
  const totalPoint = fs.total?.[fs.total.length - 1];
  const total = fs.level?.denominator ?? totalPoint?.v;
  if (total === undefined || total <= 0) return null;
  if (resource === 'bytes' ? total < cfg.minSizeBytes : total < cfg.minInodes) return null;
  const used = fs.level?.numerator ?? (fit ? Math.min(total, Math.max(0, at(fit, now))) : undefined);
  if (used === undefined) return null;
  const pct = (used / total) * 100;
  const timeToFullMs = fit && fit.slope > 0 ? Math.max(0, (total - used) / fit.slope) : null;

  const reasons: string[] = [];
  let severity: Severity | null = null;
  const raise = (s: Severity, reason: string) => {
    reasons.push(reason);
    if (severity !== 'critical') severity = s;
  };
  if (fs.level && pct >= cfg.criticalPercent) raise('critical', 'level');
  else if (fs.level && pct >= cfg.warnPercent) raise('warning', 'level');
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
      /** false: "used" is the trend line's value now (the filesystem is below the warning level). */
      usedMeasured: fs.level !== undefined,
      reasons,
      trendPerHour: fit ? fit.slope * 3_600_000 : null,
      timeToFullSeconds: timeToFullMs !== null ? Math.round(timeToFullMs / 1000) : null,
      estimatedFullAt: timeToFullMs !== null ? new Date(now + timeToFullMs).toISOString() : null,
      fitPoints: fit?.points ?? 0,
      fitSpanHours: fit ? Math.round((fit.spanMs / 3_600_000) * 10) / 10 : 0,
      sampleTs: fs.level ? new Date(fs.level.ts).toISOString() : lastPoint ? new Date(lastPoint.t).toISOString() : null,
    },
  };
}
