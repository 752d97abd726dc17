import { describe, expect, it } from 'vitest';
import { byAge, decide, isLive, MAX_LEASE_MS, type Claim } from './claims.ts';

const claim = (id: string, ts: number): Claim => ({ id, ts, actor: 'x', incidentId: 'inc', worker: 'w', leaseMs: 60_000 });

describe('decide', () => {
  it('holds when its own claim is the only live one', () => {
    expect(decide('a', [claim('a', 10)], true)).toEqual({ holds: true });
    expect(decide('a', [claim('a', 10)], false)).toEqual({ holds: true });
  });

  it('loses to an earlier live claim, naming it', () => {
    expect(decide('b', [claim('b', 20), claim('a', 10)], true)).toEqual({ holds: false, holder: claim('a', 10) });
  });

  it('breaks a tie in milliseconds by id, the same way on every worker', () => {
    const [x, y] = [claim('act-1', 10), claim('act-2', 10)];
    expect(decide('act-2', [x, y], true)).toEqual({ holds: false, holder: x });
    expect(decide('act-1', [y, x], true)).toEqual({ holds: 'wait' });
  });

  it('the earliest with later ones waits for them to close theirs, and counts itself lost once the wait is over', () => {
    expect(decide('a', [claim('a', 10), claim('b', 20)], true)).toEqual({ holds: 'wait' });
    expect(decide('a', [claim('a', 10), claim('b', 20)], false)).toEqual({ holds: false, holder: claim('b', 20) });
  });

  it('a claim not read back yet waits, or loses to whatever is seen', () => {
    expect(decide('a', [], true)).toEqual({ holds: 'wait' });
    expect(decide('a', [], false)).toEqual({ holds: false, holder: null });
    expect(decide('a', [claim('b', 20)], true)).toEqual({ holds: false, holder: claim('b', 20) });
  });
});

describe('claims', () => {
  it('are live until their lease runs out, never longer than the cap', () => {
    expect(isLive({ ts: 0, leaseMs: 1000 }, 999)).toBe(true);
    expect(isLive({ ts: 0, leaseMs: 1000 }, 1000)).toBe(false);
    expect(isLive({ ts: 0, leaseMs: 10 * MAX_LEASE_MS }, MAX_LEASE_MS)).toBe(false);
  });

  it('sort the earliest (ts, id) first', () => {
    expect(byAge([claim('c', 5), claim('b', 3), claim('a', 5)]).map((c) => c.id)).toEqual(['b', 'a', 'c']);
  });
});
