import { addressFromPublicKey, bytesToBase64url, generateKeyPair, hexToBytes } from '@aitbc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attestReceipt,
  canonicalizeReceipt,
  createReceipt,
  JsonNumber,
  parseReceiptJson,
  type Receipt,
  receiptHash,
  receiptPrice,
  receiptSigningBytes,
  serializeReceipt,
  signReceipt,
  validateReceipt,
  verifyReceipt,
  verifyReceiptAsync,
} from '../src/index.js';
import pythonFixture from './python-receipt.json' with { type: 'json' };

const miner = generateKeyPair();
const coordinator = generateKeyPair();
const client = addressFromPublicKey(generateKeyPair().publicKey);
const minerAddress = addressFromPublicKey(miner.publicKey);

function freshReceipt(overrides: Partial<Parameters<typeof createReceipt>[0]> = {}): Receipt {
  return createReceipt({
    jobId: 'job_00000000000000000000000000000042',
    provider: minerAddress,
    client,
    units: 3n,
    unitType: 'gpu_seconds',
    unitPrice: 10n ** 17n,
    startedAt: new Date(1_700_000_000_000),
    completedAt: new Date(1_700_000_003_500),
    chainId: 'aitbc-devnet',
    metadata: { note: 'naïve café', nested: { list: [1, 2, 3] } },
    ...overrides,
  });
}

function signedAndAttested(): Receipt {
  return attestReceipt(signReceipt(freshReceipt(), miner.seed), coordinator.seed);
}

const trust = { minerKeys: [miner.publicKey], coordinatorKeys: [coordinator.publicKey] };

describe('receipts signed elsewhere (the original Python implementation)', () => {
  const receipt = parseReceiptJson(pythonFixture.wire) as Receipt;
  const minerKey = hexToBytes(pythonFixture.minerPublicKey);
  const coordinatorKey = hexToBytes(pythonFixture.coordinatorPublicKey);

  it('re-canonicalizes byte for byte, keeping number lexemes (1.0, 1e-07, -0.0, big ints)', () => {
    const { signature: _s, attestations: _a, ...payload } = receipt;
    expect(canonicalizeReceipt(payload)).toBe(pythonFixture.canonicalPayload);
    expect(new TextDecoder().decode(receiptSigningBytes(receipt))).toBe(pythonFixture.canonicalPayload);
    expect(receipt.units).toBeInstanceOf(JsonNumber);
    expect((receipt.units as JsonNumber).lexeme).toBe('1.0');
  });

  it('verifies with the pinned miner and coordinator keys', () => {
    const result = verifyReceipt(receipt, { minerKeys: [minerKey], coordinatorKeys: [coordinatorKey] });
    expect(result.ok).toBe(true);
    expect(result.signatures).toEqual([
      { role: 'miner', keyId: bytesToBase64url(minerKey), valid: true },
      { role: 'coordinator', keyId: bytesToBase64url(coordinatorKey), valid: true },
    ]);
  });

  it('fails if the 1.0 lexeme is normalized to 1', () => {
    const normalized = parseReceiptJson(pythonFixture.wire.replace('"units": 1.0', '"units": 1')) as Receipt;
    expect(verifyReceipt(normalized, { minerKeys: [minerKey] }).ok).toBe(false);
  });
});

describe('canonical form', () => {
  it('drops nulls at every depth, sorts keys, escapes non-ASCII like Python', () => {
    expect(canonicalizeReceipt({ b: null, a: [1, null, { y: null, x: 'é' }], c: '\u{1f600}\n"\\/' })).toBe(
      '{"a":[1,{"x":"\\u00e9"}],"c":"\\ud83d\\ude00\\n\\"\\\\/"}',
    );
  });

  it('sorts keys by code point, as Python does, not by UTF-16 unit', () => {
    // U+FB33 sorts before U+1F600 by UTF-16 units (0xD83D < 0xFB33? no: 0xD83D < 0xFB33) but after it by code point.
    const s = canonicalizeReceipt({ '\u{1f600}': 1, '\ufb33': 2 });
    expect(s).toBe('{"\\ufb33":2,"\\ud83d\\ude00":1}');
  });

  it('refuses values it cannot write faithfully', () => {
    for (const bad of [{ x: 1.5 }, { x: 2 ** 60 }, { x: new Date() }, { x: '\ud800' }, { x: new Uint8Array(1) }]) {
      expect(() => canonicalizeReceipt(bad as never)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    }
    expect(canonicalizeReceipt({ x: 2n ** 80n, y: new JsonNumber('1.50') })).toBe(
      '{"x":1208925819614629174706176,"y":1.50}',
    );
  });

  it('is stable across parse → canonicalize round trips (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value);
        const once = canonicalizeReceipt(parseReceiptJson(text));
        expect(canonicalizeReceipt(parseReceiptJson(once))).toBe(once);
        expect(once).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseReceiptJson', () => {
  it.each([
    ['duplicate keys', '{"a":1,"a":2}'],
    ['trailing content', '{"a":1} x'],
    ['a lone surrogate', '{"a":"\\ud800"}'],
    ['a raw control character', '{"a":"\u0001"}'],
    ['single quotes', "{'a':1}"],
    ['a leading zero', '{"a":01}'],
    ['NaN', '{"a":NaN}'],
    ['a trailing comma', '{"a":1,}'],
    ['an unterminated string', '{"a":"x'],
    ['deep nesting', `${'['.repeat(70)}${']'.repeat(70)}`],
    ['an oversized document', `{"a":"${'x'.repeat(70_000)}"}`],
  ])('rejects %s with RECEIPT_MALFORMED', (_name, text) => {
    expect(() => parseReceiptJson(text)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });

  it('keeps safe integers as numbers and everything else as lexemes', () => {
    const v = parseReceiptJson(
      '{"a":7,"b":-0,"c":1e3,"d":9007199254740993,"e":[true,false,null],"f":"\\u00e9\\n"}',
    ) as Record<string, unknown>;
    expect(v.a).toBe(7);
    expect((v.b as JsonNumber).lexeme).toBe('-0');
    expect((v.c as JsonNumber).lexeme).toBe('1e3');
    expect((v.d as JsonNumber).lexeme).toBe('9007199254740993');
    expect(v.e).toEqual([true, false, null]);
    expect(v.f).toBe('é\n');
  });
});

describe('createReceipt, signReceipt, attestReceipt', () => {
  it('creates receipts with ids, decimal-string amounts and real times', () => {
    const r = freshReceipt();
    expect(r.receipt_id).toMatch(/^rcpt_[0-9a-f]{32}$/);
    expect(r).toMatchObject({
      units: 3,
      unit_price: '100000000000000000',
      price: '300000000000000000',
      started_at: 1_700_000_000,
      completed_at: 1_700_000_003,
      duration_ms: 3500,
      status: 'completed',
    });
    expect(receiptPrice(r)).toBe(3n * 10n ** 17n);
    expect(freshReceipt().receipt_id).not.toBe(r.receipt_id);
    expect(() => freshReceipt({ completedAt: 0 })).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    expect(() => freshReceipt({ unitPrice: -1n })).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });

  it('lets only the provider key sign, and replaces an attestation by the same key', () => {
    expect(() => signReceipt(freshReceipt(), coordinator.seed)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_PROVIDER_MISMATCH' }),
    );
    const twice = attestReceipt(signedAndAttested(), coordinator.seed);
    expect(twice.attestations).toHaveLength(1);
    expect(verifyReceipt(twice, trust).ok).toBe(true);
  });

  it('hashes the signed payload only', () => {
    const r = signedAndAttested();
    expect(receiptHash(r)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(receiptHash(r)).toBe(receiptHash({ ...r, signature: undefined, annotations: { seen: true } }));
  });
});

describe('verifyReceipt with pinned keys', () => {
  it('accepts a receipt signed by the miner and attested by the coordinator', () => {
    const result = verifyReceipt(signedAndAttested(), trust);
    expect(result.ok).toBe(true);
    expect(result.signatures.map((s) => [s.role, s.valid, s.reason])).toEqual([
      ['miner', true, undefined],
      ['coordinator', true, undefined],
    ]);
  });

  it('allows unsigned annotations after signing, and nothing else', () => {
    const r = signedAndAttested();
    expect(verifyReceipt({ ...r, annotations: { settled_tx: '0xabc' } }, trust).ok).toBe(true);
    const added = verifyReceipt({ ...r, extra: 'field' }, trust);
    expect(added.ok).toBe(false);
    expect(added.signatures.map((s) => s.reason)).toEqual([
      'miner_signature_invalid',
      'coordinator_attestation_invalid',
    ]);
  });

  it.each([
    ['job_id', { job_id: 'job_other' }],
    ['price', { price: '999' }],
    ['units', { units: 4 }],
    ['client', { client: addressFromPublicKey(generateKeyPair().publicKey) }],
    ['metadata', { metadata: { note: 'naïve cafe' } }],
    ['completed_at', { completed_at: 1_700_000_009 }],
    ['chain_id', { chain_id: 'aitbc-mainnet' }],
  ])('fails when %s is tampered with', (_field, change) => {
    const result = verifyReceipt({ ...signedAndAttested(), ...change }, trust);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]!.reason).toBe('miner_signature_invalid');
  });

  it('is independent of key order', () => {
    const r = signedAndAttested();
    const reordered = Object.fromEntries(Object.entries(r).reverse());
    expect(verifyReceipt(reordered, trust).ok).toBe(true);
  });

  it('does not trust a valid signature by a key the caller did not pin', () => {
    const stranger = generateKeyPair();
    const r = attestReceipt(
      signReceipt(freshReceipt({ provider: addressFromPublicKey(stranger.publicKey) }), stranger.seed),
      coordinator.seed,
    );
    const result = verifyReceipt(r, trust);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({ role: 'miner', valid: true, reason: 'untrusted_key' });
    const coordinatorOnly = verifyReceipt(signedAndAttested(), {
      minerKeys: [miner.publicKey],
      coordinatorKeys: [stranger.publicKey],
    });
    expect(coordinatorOnly.ok).toBe(false);
    expect(coordinatorOnly.signatures[1]).toMatchObject({ role: 'coordinator', valid: true, reason: 'untrusted_key' });
  });

  it('rejects a miner key that is trusted but is not the provider’s', () => {
    const other = generateKeyPair();
    const r = signedAndAttested();
    const swapped = {
      ...r,
      signature: { alg: 'Ed25519' as const, key_id: bytesToBase64url(other.publicKey), sig: r.signature!.sig },
    };
    expect(verifyReceipt(swapped, { ...trust, minerKeys: [other.publicKey] }).signatures[0]!.reason).toBe(
      'miner_signature_invalid',
    );
    // a receipt whose provider is someone else, signed by a trusted key
    const foreign = { ...freshReceipt(), provider: addressFromPublicKey(other.publicKey) };
    const bySigner = { ...foreign, signature: attestReceipt(foreign, miner.seed).attestations![0]! };
    expect(verifyReceipt(bySigner, { minerKeys: [miner.publicKey] }).signatures[0]!.reason).toBe('provider_mismatch');
  });

  it('names missing, truncated and wrong-algorithm signatures', () => {
    const r = signedAndAttested();
    const { signature: _, ...unsigned } = r;
    expect(verifyReceipt(unsigned, trust).signatures[0]).toEqual({
      role: 'miner',
      keyId: null,
      valid: false,
      reason: 'missing_signature',
    });
    const truncated = { ...r, signature: { ...r.signature!, sig: r.signature!.sig.slice(0, 40) } };
    expect(verifyReceipt(truncated, trust).signatures[0]!.reason).toBe('malformed');
    const wrongAlg = { ...r, signature: { ...r.signature!, alg: 'ES256' } };
    expect(verifyReceipt(wrongAlg, trust).signatures[0]!.reason).toBe('malformed');
    const { attestations: __, ...noAttestation } = r;
    const missing = verifyReceipt(noAttestation, trust);
    expect(missing.ok).toBe(false);
    expect(missing.signatures[1]).toEqual({
      role: 'coordinator',
      keyId: null,
      valid: false,
      reason: 'missing_signature',
    });
    expect(verifyReceipt(noAttestation, { minerKeys: [miner.publicKey] }).ok).toBe(true);
  });

  it('swapping the miner signature and the attestation fails', () => {
    const r = signedAndAttested();
    const swapped = { ...r, signature: r.attestations![0]!, attestations: [r.signature!] };
    const result = verifyReceipt(swapped, trust);
    expect(result.ok).toBe(false);
    expect(result.signatures.map((s) => s.reason)).toEqual(['untrusted_key', 'untrusted_key']);
  });

  it('reports malformed receipts without throwing', () => {
    for (const bad of [
      null,
      42,
      'x',
      [],
      { version: '1' },
      { ...signedAndAttested(), started_at: -1 },
      { ...signedAndAttested(), units: 'lots' },
    ]) {
      const result = verifyReceipt(bad, trust);
      expect(result.ok).toBe(false);
      expect(result.error).toBeTypeOf('string');
    }
    expect(() => verifyReceipt(signedAndAttested(), {} as never)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_BAD_OPTIONS' }),
    );
  });

  it('validateReceipt names the bad field', () => {
    expect(() => validateReceipt({ ...freshReceipt(), job_id: '' })).toThrow(
      expect.objectContaining({ details: { field: 'job_id' } }),
    );
    expect(() => validateReceipt({ ...freshReceipt(), price: '-5' })).toThrow(
      expect.objectContaining({ details: { field: 'price' } }),
    );
  });

  it('handles large integers and nested metadata end to end', () => {
    const r = signReceipt(
      freshReceipt({ units: 2n ** 70n, unitPrice: 3n, metadata: { deep: { er: { est: ['ok', { n: 2n ** 64n }] } } } }),
      miner.seed,
    );
    expect(verifyReceipt(r, { minerKeys: [miner.publicKey] }).ok).toBe(true);
    // serializeReceipt keeps the big integers as JSON numbers, so the parsed copy still verifies
    const parsed = parseReceiptJson(serializeReceipt(r));
    expect(verifyReceipt(parsed, { minerKeys: [miner.publicKey] }).ok).toBe(true);
    // JSON.stringify would turn them into strings and break the signature
    const lossy = JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(verifyReceipt(parseReceiptJson(lossy), { minerKeys: [miner.publicKey] }).ok).toBe(false);
    expect(receiptPrice(r)).toBe(3n * 2n ** 70n);
  });
});

describe('verifyReceiptAsync', () => {
  it('gives the same results as verifyReceipt for every case', async () => {
    const r = signedAndAttested();
    const stranger = generateKeyPair();
    const cases: unknown[] = [
      r,
      { ...r, price: '1' },
      { ...r, signature: undefined },
      { ...r, attestations: [] },
      { ...r, signature: { ...r.signature!, sig: 'short' } },
      attestReceipt(
        signReceipt(freshReceipt({ provider: addressFromPublicKey(stranger.publicKey) }), stranger.seed),
        coordinator.seed,
      ),
      null,
    ];
    for (const c of cases) expect(await verifyReceiptAsync(c, trust)).toEqual(verifyReceipt(c, trust));
  });
});
