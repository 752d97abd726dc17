import { describe, expect, it } from 'vitest';
import { placeControlPlane } from './placement.ts';

describe('placeControlPlane', () => {
  it('puts each member in its own zone when the pool has enough zones', () => {
    const p = placeControlPlane(
      [
        { node: 'a1', zone: 'a' },
        { node: 'a2', zone: 'a' },
        { node: 'a3', zone: 'a' },
        { node: 'b1', zone: 'b' },
        { node: 'c1', zone: 'c' },
      ],
      3,
    );
    expect(p.spread).toBe(true);
    expect(new Set(p.zones)).toEqual(new Set(['a', 'b', 'c']));
    expect(p.nodes).toEqual(['a1', 'b1', 'c1']);
    expect(p.note).toBeNull();
  });

  it('says so when there are fewer zones than members, and still spreads as far as it can', () => {
    const p = placeControlPlane(
      [
        { node: 'a1', zone: 'a' },
        { node: 'a2', zone: 'a' },
        { node: 'b1', zone: 'b' },
      ],
      3,
    );
    expect(p.spread).toBe(false);
    expect(p.nodes.sort()).toEqual(['a1', 'a2', 'b1']);
    expect(p.note).toMatch(/only 2 known zone\(s\).*\(a, b\)/);
  });

  it('counts nodes without a zone as unknown, never as spread', () => {
    const p = placeControlPlane(
      [
        { node: 'x', zone: '' },
        { node: 'y', zone: 'b' },
      ],
      2,
    );
    expect(p.spread).toBe(false);
    expect(p.note).toMatch(/1 chosen node\(s\) report no zone/);
  });

  it('refuses when the pool is too small', () => {
    expect(() => placeControlPlane([{ node: 'x', zone: 'a' }], 3)).toThrow(/1 authorized node\(s\) in no cluster, 3 wanted/);
  });
});
