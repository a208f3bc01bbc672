import {
  addressFromPublicKey,
  bytesToHex,
  canonicalize,
  generateKeyPair,
  hexToBytes,
  sha256,
  signingBytes,
} from '@aitbc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createMempool,
  signTx,
  type TxBody,
  txBodyFromJson,
  txBodyJson,
  txFromJson,
  txIdHex,
  txSigningBytes,
  txToJson,
  verifyTxSignature,
} from '../src/index.js';
import { sharedSigningBytes, txCacheStats } from '../src/tx.js';

const alice = generateKeyPair();
const bob = generateKeyPair();
const A = addressFromPublicKey(alice.publicKey);
const B = addressFromPublicKey(bob.publicKey);
const transfer: TxBody = {
  type: 'transfer',
  chainId: 'aitbc-devnet',
  from: A,
  nonce: 0,
  fee: 1000n,
  to: B,
  amount: 5n * 10n ** 18n,
};

describe('transactions', () => {
  it('signs, encodes and decodes every type, with stable ids', () => {
    const bodies: TxBody[] = [
      transfer,
      {
        type: 'escrow.lock',
        chainId: 'aitbc-devnet',
        from: A,
        nonce: 1,
        fee: 1000n,
        jobId: 'job_1',
        amount: 10n ** 18n,
        coordinator: B,
        expiresAtHeight: 100,
      },
      {
        type: 'escrow.settle',
        chainId: 'aitbc-devnet',
        from: B,
        nonce: 0,
        fee: 1000n,
        jobId: 'job_1',
        receipt: '{"units":1.0}',
      },
      { type: 'escrow.refund', chainId: 'aitbc-devnet', from: A, nonce: 2, fee: 1000n, jobId: 'job_1' },
    ];
    for (const body of bodies) {
      const seed = body.from === A ? alice.seed : bob.seed;
      const tx = signTx(body, seed);
      expect(verifyTxSignature(tx)).toBe(true);
      const wire = txToJson(tx);
      const back = txFromJson(JSON.parse(JSON.stringify(wire)));
      expect(back.body).toEqual(body);
      expect(txIdHex(back)).toBe(txIdHex(tx));
      expect(verifyTxSignature(back)).toBe(true);
      expect(back.size).toBe(canonicalize(wire).length);
    }
  });

  it('txToJson: the wire object a transaction was decoded from or signed as, a fresh copy each call', () => {
    const tx = signTx(transfer, alice.seed);
    const wire = txToJson(tx);
    expect(wire).toEqual({
      ...transfer,
      fee: '1000',
      amount: transfer.amount.toString(),
      publicKey: bytesToHex(alice.publicKey),
      signature: bytesToHex(tx.signature),
    });
    wire.amount = '1'; // the caller's copy: the transaction's own JSON is unchanged
    expect(txToJson(tx)).not.toBe(txToJson(tx));
    expect(txToJson(tx).amount).toBe(transfer.amount.toString());
    const decoded = txFromJson(JSON.parse(JSON.stringify(txToJson(tx))));
    expect(JSON.stringify(txToJson(decoded))).toBe(JSON.stringify(txToJson(tx)));
  });

  it('the id excludes the signature and changes with any body field', () => {
    const tx = signTx(transfer, alice.seed);
    const wire = txToJson(tx);
    expect(txIdHex(txFromJson({ ...wire, signature: '00'.repeat(64) }))).toBe(txIdHex(tx));
    for (const change of [{ nonce: 1 }, { fee: '1001' }, { amount: '1' }, { to: A }, { chainId: 'aitbc-other' }]) {
      const changed = txFromJson({ ...wire, ...change });
      expect(txIdHex(changed)).not.toBe(txIdHex(tx));
      expect(verifyTxSignature(changed)).toBe(false);
    }
  });

  it('a signature for one chain never verifies on another (cross-chain replay)', () => {
    const tx = signTx(transfer, alice.seed);
    const replayed = txFromJson({ ...txToJson(tx), chainId: 'aitbc-mainnet' });
    expect(verifyTxSignature(replayed)).toBe(false);
  });

  it.each([
    ['an unknown type', { type: 'mint' }, 'type'],
    ['an unknown field', { memo: 'hi' }, 'memo'],
    ['a negative amount', { amount: '-5' }, 'amount'],
    ['a leading zero', { amount: '05' }, 'amount'],
    ['a numeric amount', { amount: 5 }, 'amount'],
    ['a huge amount', { amount: '1'.repeat(79) }, 'amount'],
    ['a fractional nonce', { nonce: 1.5 }, 'nonce'],
    ['an unsafe nonce', { nonce: 2 ** 53 }, 'nonce'],
    ['a bad recipient checksum', { to: `${B.slice(0, -1)}${B.endsWith('q') ? 'p' : 'q'}` }, 'to'],
    ['an uppercase address', { to: B.toUpperCase() }, 'to'],
    ['a bad chain id', { chainId: 'bad chain' }, 'chainId'],
    ['an uppercase public key', { publicKey: bytesToHex(alice.publicKey).toUpperCase() }, 'publicKey'],
    ['a short signature', { signature: 'ab'.repeat(63) }, 'signature'],
  ])('rejects %s with CHAIN_TX_MALFORMED naming the field', (_name, change, field) => {
    const wire = { ...txToJson(signTx(transfer, alice.seed)), ...change };
    expect(() => txFromJson(wire)).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED', details: { field } }));
  });

  it('rejects a public key that is not the sender’s', () => {
    const wire = { ...txToJson(signTx(transfer, alice.seed)), publicKey: bytesToHex(bob.publicKey) };
    expect(() => txFromJson(wire)).toThrow(expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }));
    expect(() => signTx(transfer, bob.seed)).toThrow(expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }));
  });

  it('rejects oversized receipts and non-objects', () => {
    const body: TxBody = {
      type: 'escrow.settle',
      chainId: 'aitbc-devnet',
      from: A,
      nonce: 0,
      fee: 1n,
      jobId: 'j',
      receipt: 'x'.repeat(70_000),
    };
    expect(() => signTx(body, alice.seed)).toThrow(
      expect.objectContaining({ code: 'CHAIN_TX_MALFORMED', details: { field: 'receipt' } }),
    );
    for (const bad of [null, 42, 'tx', []])
      expect(() => txFromJson(bad)).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED' }));
  });

  it('decodes a transaction seen before once: the same wire form returns the same object, any change is decoded strictly', () => {
    const tx = signTx({ ...transfer, nonce: 4242 }, alice.seed);
    const wire = () => JSON.parse(JSON.stringify(txToJson(tx))) as Record<string, unknown>;
    const first = txFromJson(wire());
    expect(first).not.toBe(tx); // signed here, not decoded: first decode
    expect(txFromJson(wire())).toBe(first); // the same wire text again: the cached transaction
    expect(txFromJson({ ...wire() })).toBe(first); // field order does not matter
    // Same signature, anything else different: never the cached transaction.
    const amount = txFromJson({ ...wire(), amount: '6' });
    expect(amount).not.toBe(first);
    expect(amount.body).toMatchObject({ amount: 6n });
    expect(verifyTxSignature(amount)).toBe(false);
    expect(() => txFromJson({ ...wire(), extra: 1 })).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED' }));
    const { to: _to, ...missing } = wire();
    expect(() => txFromJson(missing)).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED' }));
    expect(() => txFromJson({ ...wire(), nonce: '4242' })).toThrow(
      expect.objectContaining({ code: 'CHAIN_TX_MALFORMED' }),
    );
    expect(() => txFromJson({ ...wire(), publicKey: bytesToHex(bob.publicKey) })).toThrow(
      expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }),
    );
    const inherited = Object.create({ to: B }) as Record<string, unknown>;
    Object.assign(inherited, missing, { pad: 0 });
    expect(() => txFromJson(inherited)).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED' }));
    expect(txFromJson(wire())).toBe(first); // still cached
  });

  it('round-trips any valid transfer (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        (nonce, amount, fee) => {
          const tx = signTx({ ...transfer, nonce, amount, fee }, alice.seed);
          const back = txFromJson(JSON.parse(JSON.stringify(txToJson(tx))));
          expect(back.body).toEqual(tx.body);
          expect(back.id).toEqual(tx.id);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('writes each type’s canonical JSON byte for byte as the generic JCS encoder does (property)', () => {
    const alnum = [...'ABCXYZabcxyz0189'];
    const chainId = fc
      .tuple(fc.constantFrom(...alnum), fc.string({ unit: fc.constantFrom(...alnum, '.', '_', '-'), maxLength: 63 }))
      .map(([head, tail]) => head + tail);
    const amount = fc.bigInt({ min: 0n, max: 10n ** 78n - 1n });
    const jobId = fc.string({ unit: fc.constantFrom(...alnum, '.', '_', ':', '-'), minLength: 1, maxLength: 128 });
    const common = { chainId, from: fc.constant(A), nonce: fc.maxSafeNat(), fee: amount };
    const body: fc.Arbitrary<TxBody> = fc.oneof(
      fc.record({ ...common, type: fc.constant('transfer' as const), to: fc.constantFrom(A, B), amount }),
      fc.record({
        ...common,
        type: fc.constant('escrow.lock' as const),
        jobId,
        amount,
        coordinator: fc.constantFrom(A, B),
        expiresAtHeight: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      }),
      fc.record({
        ...common,
        type: fc.constant('escrow.settle' as const),
        jobId,
        // any text: quotes, backslashes, control characters, non-ASCII, astral characters
        receipt: fc.oneof(
          fc.string({
            unit: fc.oneof(
              fc.string({ minLength: 1, maxLength: 1 }),
              fc.constantFrom('"', '\\', '\u0000', '\u001f', '\n', '\u007f', '\u2028', 'é', '€', '😀', '\ud83d\ude00'),
            ),
            minLength: 1,
            maxLength: 64,
          }),
          fc.constantFrom('{"units":1.0}', '"\\\\\\u0000\\n', 'é€😀', '\u2028\u2029\u007f'),
        ),
      }),
      fc.record({ ...common, type: fc.constant('escrow.refund' as const), jobId }),
    );
    fc.assert(
      fc.property(body, (b) => {
        const tx = signTx(b, alice.seed);
        // compared as hex: one string comparison instead of an element-by-element deep equality
        const generic = bytesToHex(signingBytes('tx', b.chainId, txBodyJson(b)));
        expect(bytesToHex(txSigningBytes(tx))).toBe(generic);
        expect(bytesToHex(tx.id)).toBe(bytesToHex(sha256(hexToBytes(generic))));
        expect(tx.size).toBe(canonicalize(txToJson(tx)).length);
        expect(verifyTxSignature(tx)).toBe(true);
        const back = txFromJson(JSON.parse(JSON.stringify(txToJson(tx))));
        expect(back.body).toEqual(b);
        expect(bytesToHex(txSigningBytes(back))).toBe(generic);
        expect(bytesToHex(back.id)).toBe(bytesToHex(tx.id));
        expect(back.size).toBe(tx.size);
        expect(verifyTxSignature(back)).toBe(true);
        expect(txBodyFromJson(txBodyJson(b))).toEqual(b);
      }),
      { numRuns: 120 },
    );
  });

  it('refuses a receipt with a lone surrogate (no canonical form), after the sender check', () => {
    const settle: TxBody = {
      type: 'escrow.settle',
      chainId: 'aitbc-devnet',
      from: A,
      nonce: 0,
      fee: 1n,
      jobId: 'j',
      receipt: 'ok',
    };
    expect(() => signTx({ ...settle, receipt: 'a\ud800b' }, alice.seed)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_CANONICAL_JSON' }),
    );
    const wire = { ...txToJson(signTx(settle, alice.seed)), receipt: 'a\udc00' };
    expect(() => txFromJson(wire)).toThrow(expect.objectContaining({ code: 'CRYPTO_CANONICAL_JSON' }));
    expect(() => txFromJson({ ...wire, publicKey: bytesToHex(bob.publicKey) })).toThrow(
      expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }),
    );
  });

  it('counts only own enumerable fields: a field hidden or inherited is missing', () => {
    const wire = txToJson(signTx({ ...transfer, nonce: 77 }, alice.seed));
    const hidden = (field: string) => {
      const o: Record<string, unknown> = { ...wire };
      delete o[field];
      Object.defineProperty(o, field, { value: wire[field], enumerable: false });
      return o;
    };
    for (const field of ['type', 'to', 'amount', 'nonce'])
      expect(() => txFromJson(hidden(field))).toThrow(
        expect.objectContaining({ code: 'CHAIN_TX_MALFORMED', details: { field } }),
      );
    const { amount: _amount, ...noAmount } = wire;
    const inherited = Object.assign(Object.create({ amount: wire.amount }) as Record<string, unknown>, noAmount);
    expect(() => txFromJson(inherited)).toThrow(
      expect.objectContaining({ code: 'CHAIN_TX_MALFORMED', details: { field: 'amount' } }),
    );
    expect(() =>
      txBodyFromJson(Object.assign(Object.create({ to: B }), { ...txBodyJson(transfer), to: undefined })),
    ).toThrow(expect.objectContaining({ code: 'CHAIN_TX_MALFORMED', details: { field: 'to' } }));
    expect(txFromJson({ ...wire }).body).toMatchObject({ nonce: 77 });
  });

  it('caches sender keys within a bound; an evicted sender decodes the same, and a cached key never vouches for a forgery', async () => {
    const tx0 = signTx({ ...transfer, nonce: 9001 }, alice.seed);
    const wire = txToJson(tx0);
    const first = txFromJson({ ...wire, amount: '7' }); // alice's key is now cached (that body is not what she signed)
    expect(verifyTxSignature(first)).toBe(false);
    // each transaction owns its key bytes: changing one never changes the cache or another transaction
    first.publicKey.fill(0);
    const again = txFromJson({ ...wire, amount: '8' });
    expect(again.publicKey).toEqual(alice.publicKey);
    // a forged signature or a foreign key with a cached sender is still refused
    const pool = createMempool({
      chainId: 'aitbc-devnet',
      minFee: 1n,
      account: async () => ({ balance: 10n ** 30n, nonce: 9001 }),
    });
    await expect(pool.add(again)).rejects.toMatchObject({ code: 'CHAIN_BAD_SIGNATURE' });
    const forged = {
      ...wire,
      signature: bytesToHex(signTx({ ...transfer, nonce: 9001 }, bob.seed, alice.publicKey).signature),
    };
    await expect(pool.addJson(forged)).rejects.toMatchObject({ code: 'CHAIN_BAD_SIGNATURE' });
    expect(() => txFromJson({ ...wire, publicKey: bytesToHex(bob.publicKey) })).toThrow(
      expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }),
    );
    // Fill the key cache past a small bound with keys that sign for no sender (each one is refused).
    const { max: bound, decodedMax: decodedBound } = txCacheStats();
    const max = 64;
    txCacheStats(max);
    const filler = new Uint8Array(32);
    for (let i = 0; i <= max; i++) {
      filler[0] = i & 0xff;
      filler[1] = (i >> 8) & 0xff;
      filler[2] = i >> 16;
      expect(() => txFromJson({ ...wire, publicKey: bytesToHex(filler), amount: '9' })).toThrow(
        expect.objectContaining({ code: 'CHAIN_FROM_MISMATCH' }),
      );
    }
    const stats = txCacheStats();
    expect(stats.keys).toBe(max);
    // alice's key was evicted: her transaction decodes to exactly what she signed, and is admitted
    const back = txFromJson(JSON.parse(JSON.stringify(wire)));
    expect(back.publicKey).toEqual(alice.publicKey);
    expect(back.id).toEqual(tx0.id);
    expect(verifyTxSignature(back)).toBe(true);
    expect((await pool.add(back)).status).toBe('added');
    // the other caches keep to the bound too, as entries come
    for (let n = 0; n < max; n++) txFromJson(txToJson(signTx({ ...transfer, nonce: 20_000 + n, to: A }, alice.seed)));
    expect(txCacheStats()).toMatchObject({ keys: max, addresses: expect.any(Number), decoded: max });
    expect(txCacheStats().addresses).toBeLessThanOrEqual(max);
    await expect(pool.addJson({ ...wire, amount: '10' })).rejects.toMatchObject({ code: 'CHAIN_BAD_SIGNATURE' });
    // decoded transactions have their own, smaller bound (they keep far more alive than a key)
    expect(decodedBound).toBeLessThan(bound);
    txCacheStats(max, 8);
    for (let n = 0; n < 10; n++) txFromJson(txToJson(signTx({ ...transfer, nonce: 30_000 + n, to: A }, alice.seed)));
    expect(txCacheStats()).toMatchObject({ max, decodedMax: 8, keys: max, decoded: 8 });
    txCacheStats(bound, decodedBound);
  });

  it('kept signing bytes never change as other transactions are encoded (a scratch buffer serves only synchronous use)', () => {
    const t1 = txFromJson(txToJson(signTx({ ...transfer, nonce: 31_337 }, alice.seed)));
    const expected = bytesToHex(signingBytes('tx', transfer.chainId, txBodyJson(t1.body)));
    const kept = sharedSigningBytes(t1);
    expect(sharedSigningBytes(t1)).toBe(kept); // made once
    for (let n = 0; n < 5; n++) {
      const other = txFromJson(txToJson(signTx({ ...transfer, nonce: 31_338 + n, amount: 1n }, alice.seed)));
      expect(verifyTxSignature(other)).toBe(true);
      expect(verifyTxSignature(t1)).toBe(true);
    }
    expect(bytesToHex(kept)).toBe(expected);
    expect(bytesToHex(txSigningBytes(t1))).toBe(expected);
    // a transaction built elsewhere (a copy of the fields) is encoded from its body
    const copy = { ...t1 };
    expect(bytesToHex(sharedSigningBytes(copy))).toBe(expected);
    expect(verifyTxSignature(copy)).toBe(true);
    expect(verifyTxSignature({ ...copy, body: { ...t1.body, nonce: 1 } })).toBe(false);
  });
});
