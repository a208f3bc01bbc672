import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../src/boundedCache.js';
import { generateKeyPair, sign, verify, verifyMany } from '../src/index.js';

describe('BoundedCache (key objects and strictness checks)', () => {
  it('never holds more than its bound, whatever is inserted', () => {
    const cache = new BoundedCache<number, string>(8);
    for (let i = 0; i < 1000; i++) {
      cache.set(i, `v${i}`);
      expect(cache.size).toBeLessThanOrEqual(8);
    }
    // the newest entries are there, the oldest are gone
    expect(cache.get(999)).toBe('v999');
    expect(cache.get(0)).toBeUndefined();
  });

  it('keeps an entry that is used while others come and go, and drops one that is not', () => {
    const cache = new BoundedCache<string, number>(8);
    cache.set('hot', 1);
    cache.set('cold', 2);
    for (let i = 0; i < 100; i++) {
      cache.set(`k${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
    expect(cache.get('cold')).toBeUndefined();
    expect(cache.size).toBeLessThanOrEqual(8);
  });

  it('overwrites in either generation without growing', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3); // a and b are now the old generation
    cache.set('a', 10);
    cache.set('c', 30);
    expect(cache.get('a')).toBe(10);
    expect(cache.get('b')).toBe(2);
    expect(cache.get('c')).toBe(30);
    expect(cache.size).toBe(3);
  });
});

describe('verify with cached keys', () => {
  it('a cached key never verifies a forged or foreign signature, and the cache follows the key bytes, not the array', async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const msg = new TextEncoder().encode('message');
    const good = sign(msg, a.seed);
    const foreign = sign(msg, b.seed);
    const check = async () => {
      expect(verify(good, msg, a.publicKey)).toBe(true); // a's key is now cached
      expect(verify(foreign, msg, a.publicKey)).toBe(false);
      expect(verify(good, msg, b.publicKey)).toBe(false);
      const forged = good.slice();
      forged[10]! ^= 1;
      expect(verify(forged, msg, a.publicKey)).toBe(false);
      expect(verify(good, new TextEncoder().encode('massage'), a.publicKey)).toBe(false);
      expect(
        await verifyMany([
          { signature: good, message: msg, publicKey: a.publicKey },
          { signature: foreign, message: msg, publicKey: a.publicKey },
          { signature: forged, message: msg, publicKey: a.publicKey },
          { signature: foreign, message: msg, publicKey: b.publicKey },
        ]),
      ).toEqual([true, false, false, true]);
    };
    await check();
    // The caller's key array changes after a verify: the cache follows the bytes, not the array.
    const key = a.publicKey.slice();
    expect(verify(good, msg, key)).toBe(true);
    key.set(b.publicKey);
    expect(verify(good, msg, key)).toBe(false);
    expect(verify(foreign, msg, key)).toBe(true);
    await check();
  });
});
