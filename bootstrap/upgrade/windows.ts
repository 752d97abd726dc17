// Recurring maintenance windows: on some days of the week, from a start to an end time of day, in
// an IANA time zone (like kured's --reboot-days/--start-time/--end-time/--time-zone and the
// system-upgrade-controller's window). Pure: "is a window open at t" and "when does one next open",
// so the rollout loop, the plan and the API all decide through the same two functions.
import { z } from 'zod';

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];

/** "HH:MM" or "HH:MM:SS", 24-hour, local to the window's time zone. */
const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

export interface RecurringWindow {
  /** Days of the week the window opens on (its start's local day). */
  days: Day[];
  start: string;
  end: string;
  timeZone: string;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Seconds since local midnight of "HH:MM[:SS]". */
export function secondsOfDay(hhmm: string): number {
  const m = TIME.exec(hhmm);
  if (!m) throw new Error(`${hhmm}: not HH:MM or HH:MM:SS`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

/**
 * The schema of one window as config and the API take it. An end at or before the start is refused
 * naming `end`: a window past midnight is two windows (22:00-24:00 is written 22:00-23:59:59 and
 * 00:00-04:00 on the next day), so that which day a window belongs to is never in doubt.
 */
export const windowFields = {
  days: z.array(z.enum(DAYS)).min(1).default([...DAYS]),
  start: z.string().regex(TIME, 'must be HH:MM or HH:MM:SS (24-hour)'),
  end: z.string().regex(TIME, 'must be HH:MM or HH:MM:SS (24-hour)'),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC').default('UTC'),
};

export function checkWindowOrder(w: { start: string; end: string }, ctx: z.RefinementCtx): void {
  if (!TIME.test(w.start) || !TIME.test(w.end)) return;
  if (secondsOfDay(w.end) <= secondsOfDay(w.start)) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: `must be after start (${w.start}); a window past midnight is written as two windows` });
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: Day;
  /** Seconds since local midnight. */
  seconds: number;
}

export function localTime(t: number, tz: string): LocalTime {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: String(parts.weekday).toLowerCase().slice(0, 3) as Day,
    seconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second),
  };
}

/** The zone's offset from UTC at instant t, in ms (local = utc + offset). */
function offsetAt(t: number, tz: string): number {
  const l = localTime(t, tz);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day) + l.seconds * 1000;
  return asUtc - (t - (t % 1000));
}

/**
 * The instant a local date and time of day happen in `tz`. A time the clocks skip (spring forward)
 * is the first instant after the gap; one they pass twice (fall back) is its first occurrence.
 */
export function instantOf(year: number, month: number, day: number, seconds: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day) + seconds * 1000;
  const first = wall - offsetAt(wall, tz);
  const second = wall - offsetAt(first, tz);
  const candidates = [first, second].filter((c) => {
    const l = localTime(c, tz);
    return Date.UTC(l.year, l.month - 1, l.day) + l.seconds * 1000 === wall;
  });
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the wall time never happens. The answer is the jump itself, found by bisection
  // between an instant before it and one after it (to the second: zones jump on whole seconds).
  let lo = Math.min(first, second);
  let hi = Math.max(first, second);
  const after = offsetAt(hi, tz);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, tz) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The open interval [opensAt, closesAt) of `w` on the local calendar day of `dayAnchor`, or null if it does not open that day. */
function occurrenceOn(w: RecurringWindow, year: number, month: number, day: number): { opensAt: number; closesAt: number } | null {
  const weekday = DAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()]!;
  if (!w.days.includes(weekday)) return null;
  return { opensAt: instantOf(year, month, day, secondsOfDay(w.start), w.timeZone), closesAt: instantOf(year, month, day, secondsOfDay(w.end), w.timeZone) };
}

/** Occurrences of `w` on the local days from the day before t to `daysAhead` days after it, in order. */
function occurrencesAround(w: RecurringWindow, t: number, daysAhead: number): { opensAt: number; closesAt: number }[] {
  const l = localTime(t, w.timeZone);
  const out: { opensAt: number; closesAt: number }[] = [];
  for (let d = -1; d <= daysAhead; d++) {
    const date = new Date(Date.UTC(l.year, l.month - 1, l.day + d));
    const occ = occurrenceOn(w, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
    if (occ && occ.closesAt > occ.opensAt) out.push(occ);
  }
  return out;
}

export interface WindowState {
  open: boolean;
  /** While open: when the window that is open now closes (the latest, when several overlap). */
  closesAt: number | null;
  /** While closed: when a window next opens; null when no window is configured. */
  nextOpening: number | null;
}

/** Whether any of `windows` is open at t, and when that changes. No windows at all: never open. */
export function windowStateAt(windows: readonly RecurringWindow[], t: number): WindowState {
  let closesAt: number | null = null;
  let next: number | null = null;
  for (const w of windows) {
    for (const occ of occurrencesAround(w, t, 8)) {
      if (occ.opensAt <= t && t < occ.closesAt) closesAt = Math.max(closesAt ?? 0, occ.closesAt);
      else if (occ.opensAt > t) next = Math.min(next ?? Infinity, occ.opensAt);
    }
  }
  return closesAt !== null ? { open: true, closesAt, nextOpening: null } : { open: false, closesAt: null, nextOpening: next };
}

export function isOpenAt(windows: readonly RecurringWindow[], t: number): boolean {
  return windowStateAt(windows, t).open;
}

/** t itself when a window is open at t, else the next instant one opens (null: none within a week, i.e. none configured). */
export function nextOpening(windows: readonly RecurringWindow[], t: number): number | null {
  const s = windowStateAt(windows, t);
  return s.open ? t : s.nextOpening;
}
