/**
 * @aitbc/crypto against raw node:crypto and the noble (browser) path.
 * Targets: verify ≥ 0.9× raw node:crypto (cached key); verifyMany ≥ 1.5× single-thread verify;
 * sign ≥ 0.9× raw; canonicalize of a 1,000-tx block body ≤ 3× JSON.stringify's cost.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { type BenchResult, emit, measure, measureAsync } from '../../../bench/harness.ts';
import { nobleBackend } from '../src/backend/node.js';
import {
  addressFromPublicKey,
  bytesToBase64url,
  bytesToHex,
  canonicalize,
  canonicalizeToString,
  generateKeyPair,
  sha256,
  sign,
  toHex0x,
  verify,
  verifyMany,
} from '../src/index.js';

const rows: BenchResult[] = [];
const kp = generateKeyPair();
const msg = new Uint8Array(200).fill(7);
const sig = sign(msg, kp.seed);
const x = bytesToBase64url(kp.publicKey);
const rawPub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
const rawPriv = createPrivateKey({
  key: { kty: 'OKP', crv: 'Ed25519', x, d: bytesToBase64url(kp.seed) },
  format: 'jwk',
});

const raw = measure(() => nodeVerify(null, msg, rawPub, sig));
rows.push({ group: 'crypto', name: 'verify: raw node:crypto, cached KeyObject', opsPerSec: raw, note: 'baseline' });
const ours = measure(() => verify(sig, msg, kp.publicKey));
rows.push({
  group: 'crypto',
  name: 'verify: @aitbc/crypto (node backend)',
  opsPerSec: ours,
  note: `${(ours / raw).toFixed(2)}× raw (target ≥ 0.9×)`,
});

const N = 1000;
const many = Array.from({ length: N }, (_, i) => {
  const k = generateKeyPair();
  const m = new Uint8Array(200).fill(i & 255);
  return { signature: sign(m, k.seed), message: m, publicKey: k.publicKey };
});
let j = 0;
const distinct = measure(() => {
  const it = many[j++ % N]!;
  verify(it.signature, it.message, it.publicKey);
});
rows.push({
  group: 'crypto',
  name: 'verify: 1,000 distinct keys, one thread',
  opsPerSec: distinct,
  note: `${(distinct / raw).toFixed(2)}× raw`,
});
const batch = await measureAsync(() => verifyMany(many), { opsPerCall: N, samples: 5 });
rows.push({
  group: 'crypto',
  name: 'verifyMany: batches of 1,000 (worker threads)',
  opsPerSec: batch,
  note: `${(batch / distinct).toFixed(2)}× single-thread (target ≥ 1.5×)`,
});
const noble = measure(() => nobleBackend.verify(sig, msg, kp.publicKey), { sampleMs: 200, samples: 3 });
rows.push({
  group: 'crypto',
  name: 'verify: noble (browser path)',
  opsPerSec: noble,
  note: `${(noble / ours).toFixed(2)}× node backend`,
});

const rawSign = measure(() => nodeSign(null, msg, rawPriv));
rows.push({ group: 'crypto', name: 'sign: raw node:crypto, cached KeyObject', opsPerSec: rawSign, note: 'baseline' });
const oursSign = measure(() => sign(msg, kp.seed));
rows.push({
  group: 'crypto',
  name: 'sign: @aitbc/crypto (node backend)',
  opsPerSec: oursSign,
  note: `${(oursSign / rawSign).toFixed(2)}× raw (target ≥ 0.9×)`,
});
const nobleSign = measure(() => nobleBackend.sign(msg, kp.seed), { sampleMs: 200, samples: 3 });
rows.push({
  group: 'crypto',
  name: 'sign: noble (browser path)',
  opsPerSec: nobleSign,
  note: `${(nobleSign / oursSign).toFixed(2)}× node backend`,
});

rows.push({ group: 'crypto', name: 'sha256 200 B (node backend)', opsPerSec: measure(() => sha256(msg)) });
rows.push({ group: 'crypto', name: 'sha256 200 B (noble)', opsPerSec: measure(() => nobleBackend.sha256(msg)) });
rows.push({
  group: 'crypto',
  name: 'addressFromPublicKey',
  opsPerSec: measure(() => addressFromPublicKey(kp.publicKey)),
});

// A realistic 1,000-transaction block body: wire-form transfers.
const addr = addressFromPublicKey(kp.publicKey);
const body = {
  txs: Array.from({ length: 1000 }, (_, i) => ({
    chainId: 'aitbc-devnet',
    type: 'transfer',
    from: addr,
    to: addr,
    nonce: i,
    fee: '1000000000000000',
    amount: `${(10n ** 18n * BigInt(i + 1)).toString()}`,
    publicKey: bytesToHex(kp.publicKey),
    signature: bytesToHex(sig),
    id: toHex0x(sha256(new Uint8Array([i & 255, i >> 8]))),
  })),
};
const stringify = measure(() => JSON.stringify(body), { sampleMs: 500 });
rows.push({ group: 'crypto', name: 'JSON.stringify 1,000-tx block body', opsPerSec: stringify, note: 'baseline' });
const jcsString = measure(() => canonicalizeToString(body), { sampleMs: 500 });
rows.push({
  group: 'crypto',
  name: 'canonicalizeToString 1,000-tx block body',
  opsPerSec: jcsString,
  note: `${(stringify / jcsString).toFixed(2)}× JSON.stringify cost (target ≤ 3×)`,
});
const jcs = measure(() => canonicalize(body), { sampleMs: 500 });
rows.push({
  group: 'crypto',
  name: 'canonicalize 1,000-tx block body (UTF-8 bytes)',
  opsPerSec: jcs,
  note: `${(stringify / jcs).toFixed(2)}× JSON.stringify cost (incl. UTF-8 encoding)`,
});

emit(rows);
