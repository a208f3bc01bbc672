import { describe, expect, it } from 'vitest';
import { UnlockThrottle } from '../src/daemon/index.js';

describe('UnlockThrottle', () => {
  it('allows the free attempts, then doubles the delay up to the cap, per wallet, and resets on success', () => {
    let now = 0;
    const t = new UnlockThrottle({ freeAttempts: 2, baseDelayMs: 100, maxDelayMs: 350, now: () => now });
    expect([t.failure('a'), t.failure('a')]).toEqual([0, 0]);
    t.check('a');
    expect(t.failure('a')).toBe(100);
    expect(() => t.check('a')).toThrow(
      expect.objectContaining({ code: 'WALLET_UNLOCK_THROTTLED', details: { retryAfterMs: 100 } }),
    );
    t.check('b'); // other wallets are not affected
    now += 100;
    t.check('a');
    expect([t.failure('a'), t.failure('a'), t.failure('a')]).toEqual([200, 350, 350]);
    expect(t.failures('a')).toBe(6);
    now += 349;
    expect(() => t.check('a')).toThrow(expect.objectContaining({ details: { retryAfterMs: 1 } }));
    t.success('a');
    t.check('a');
    expect(t.failures('a')).toBe(0);
    expect(t.failure('a')).toBe(0);
  });
});
