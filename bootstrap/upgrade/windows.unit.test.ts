import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkWindowOrder, instantOf, isOpenAt, nextOpening, windowFields, windowStateAt, type RecurringWindow } from './windows.ts';

const utc = (s: string) => Date.parse(`${s}Z`);
const weekdaysBerlin: RecurringWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' };

describe('recurring windows', () => {
  it('is open inside the local hours of a listed day, and says when it closes', () => {
    // Monday 5 Jan 2026, 02:30 in Berlin (CET, UTC+1).
    const t = utc('2026-01-05T01:30:00');
    expect(windowStateAt([weekdaysBerlin], t)).toEqual({ open: true, closesAt: utc('2026-01-05T03:00:00'), nextOpening: null });
    expect(nextOpening([weekdaysBerlin], t)).toBe(t);
  });

  it('is closed at the end instant and before the start', () => {
    expect(isOpenAt([weekdaysBerlin], utc('2026-01-05T03:00:00'))).toBe(false);
    expect(isOpenAt([weekdaysBerlin], utc('2026-01-05T00:59:59'))).toBe(false);
    expect(isOpenAt([weekdaysBerlin], utc('2026-01-05T01:00:00'))).toBe(true);
  });

  it('skips days not listed: from Friday after the window to Monday 02:00 local', () => {
    expect(nextOpening([weekdaysBerlin], utc('2026-01-09T05:00:00'))).toBe(utc('2026-01-12T01:00:00'));
  });

  it('follows daylight saving time: the same local hours are an hour earlier in UTC in summer', () => {
    expect(nextOpening([weekdaysBerlin], utc('2026-07-05T12:00:00'))).toBe(utc('2026-07-06T00:00:00'));
  });

  it('a start the clocks skip opens at the end of the gap', () => {
    // 29 Mar 2026: Berlin goes from 02:00 CET straight to 03:00 CEST.
    const w: RecurringWindow = { days: ['sun'], start: '02:30', end: '03:30', timeZone: 'Europe/Berlin' };
    expect(instantOf(2026, 3, 29, 2.5 * 3600, 'Europe/Berlin')).toBe(utc('2026-03-29T01:00:00'));
    expect(windowStateAt([w], utc('2026-03-29T01:10:00'))).toEqual({ open: true, closesAt: utc('2026-03-29T01:30:00'), nextOpening: null });
  });

  it('takes the earliest of several windows, and the latest close of overlapping ones', () => {
    const ny: RecurringWindow = { days: ['sat'], start: '22:00', end: '23:30:30', timeZone: 'America/New_York' };
    // Saturday 10 Jan 2026 18:00 UTC: New York's window opens at 03:00 UTC Sunday, before Berlin's Monday one.
    expect(nextOpening([weekdaysBerlin, ny], utc('2026-01-10T18:00:00'))).toBe(utc('2026-01-11T03:00:00'));
    const wide: RecurringWindow = { ...weekdaysBerlin, start: '01:00', end: '05:00' };
    expect(windowStateAt([weekdaysBerlin, wide], utc('2026-01-05T01:30:00')).closesAt).toBe(utc('2026-01-05T04:00:00'));
  });

  it('no window: never open, no next opening', () => {
    expect(windowStateAt([], Date.now())).toEqual({ open: false, closesAt: null, nextOpening: null });
  });

  it('refuses an end before the start, and a bad zone, naming the field', () => {
    const schema = z.strictObject(windowFields).superRefine(checkWindowOrder);
    const bad = schema.safeParse({ start: '04:00', end: '02:00' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['end']);
    const zone = schema.safeParse({ start: '01:00', end: '02:00', timeZone: 'Mars/Olympus' });
    expect(zone.error?.issues.map((i) => i.path.join('.'))).toEqual(['timeZone']);
    expect(schema.parse({ start: '01:00', end: '02:00' })).toMatchObject({ timeZone: 'UTC', days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] });
  });
});
