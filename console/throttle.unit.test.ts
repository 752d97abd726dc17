import { describe, expect, it } from 'vitest';
import { SignInThrottle } from './throttle.ts';

const cfg = { maxFailuresPerName: 3, maxFailuresPerAddress: 5, windowMs: 60_000 };

describe('SignInThrottle', () => {
  it('refuses a name after its failures reach the limit, until the oldest leaves the window', () => {
    let now = 1_000_000;
    const t = new SignInThrottle(cfg, () => now);
    for (let i = 0; i < 3; i++) {
      expect(t.check('alice', '10.0.0.1').refused).toBe(false);
      t.failed('alice', '10.0.0.1');
      now += 1_000;
    }
    const v = t.check('alice', '10.0.0.9');
    expect(v).toMatchObject({ refused: true, over: ['name'] });
    // The first failure was at 1_000_000: it leaves the window at 1_060_000, 57 s from now.
    expect(v.retryAfterSeconds).toBe(57);
    expect(t.check('bob', '10.0.0.1').refused).toBe(false);
    now = 1_000_000 + 60_001;
    expect(t.check('alice', '10.0.0.9').refused).toBe(false);
  });

  it('refuses an address spraying many names, and counts token attempts (no name) per address', () => {
    const t = new SignInThrottle(cfg, () => 0);
    for (let i = 0; i < 4; i++) t.failed(`user${i}`, '10.0.0.2');
    t.failed('', '10.0.0.2');
    expect(t.check('someone-else', '10.0.0.2')).toMatchObject({ refused: true, over: ['address'] });
    expect(t.check('', '10.0.0.2').refused).toBe(true);
    expect(t.check('someone-else', '10.0.0.3').refused).toBe(false);
  });

  it('a good password clears the name, not the address', () => {
    const t = new SignInThrottle({ ...cfg, maxFailuresPerAddress: 4 }, () => 0);
    for (let i = 0; i < 2; i++) t.failed('alice', '10.0.0.4');
    t.succeeded('alice');
    for (let i = 0; i < 2; i++) t.failed('alice', '10.0.0.4');
    expect(t.check('alice', '10.0.0.5').refused).toBe(false);
    expect(t.check('carol', '10.0.0.4')).toMatchObject({ refused: true, over: ['address'] });
  });
});
