import { addressFromPublicKey, bytesToHex, canonicalize, generateKeyPair } from '@aitbc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signTx, type TxBody, txFromJson, txIdHex, txToJson, verifyTxSignature } from '../src/index.js';

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
});
