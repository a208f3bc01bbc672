import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, canonicalizeToString, cryptoBackendName, generateKeyPair, parseAddress, sign, verify, verifyMany } from '../src/index.js';

describe('smoke', () => {
  it('signs and verifies', async () => {
    const kp = generateKeyPair();
    const msg = new Uint8Array([1, 2, 3]);
    const sig = sign(msg, kp.seed);
    expect(verify(sig, msg, kp.publicKey)).toBe(true);
    expect(verify(sig, new Uint8Array([1, 2]), kp.publicKey)).toBe(false);
    expect(await verifyMany([{ signature: sig, message: msg, publicKey: kp.publicKey }])).toEqual([true]);
    expect(cryptoBackendName()).toBe('node');
    const a = addressFromPublicKey(kp.publicKey);
    expect(a.startsWith('ait1')).toBe(true);
    expect(parseAddress(a).length).toBe(20);
    expect(canonicalizeToString({ b: 1n, a: [1.5, 'x'] })).toBe('{"a":[1.5,"x"],"b":"1"}');
  });
});
