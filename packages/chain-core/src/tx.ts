import {
  AitbcError,
  addressFromPublicKey,
  bytesToHex,
  canonicalize,
  hexToBytes,
  isAddress,
  publicKeyFromSeed,
  sha256,
  sign,
  signingBytesOfCanonical,
  toHex0x,
  verify,
} from '@aitbc/crypto';

/** The transaction types of protocol v1. */
export type TxType = 'transfer' | 'escrow.lock' | 'escrow.settle' | 'escrow.refund';

/** Fields every transaction carries. */
export interface TxCommon {
  readonly chainId: string;
  /** Sender `ait1…` address; must be the address of the signing key. */
  readonly from: string;
  /** Sender's account nonce (strictly sequential; a bounded counter < 2^53). */
  readonly nonce: number;
  /** Fee in base units: at least the chain's `minFee`; all of it is burned (see README). */
  readonly fee: bigint;
}

/** Moves `amount` to `to`. */
export interface TransferTx extends TxCommon {
  readonly type: 'transfer';
  readonly to: string;
  readonly amount: bigint;
}

/** A client locks `amount` for `jobId`, to be settled by `coordinator` before `expiresAtHeight`. */
export interface EscrowLockTx extends TxCommon {
  readonly type: 'escrow.lock';
  readonly jobId: string;
  readonly amount: bigint;
  readonly coordinator: string;
  /** Height after which the client may refund (bounded counter). */
  readonly expiresAtHeight: number;
}

/**
 * The coordinator named in the lock settles it with the miner's signed, coordinator-attested receipt.
 * The receipt travels as its JSON text (`serializeReceipt`), so number lexemes survive.
 */
export interface EscrowSettleTx extends TxCommon {
  readonly type: 'escrow.settle';
  readonly jobId: string;
  readonly receipt: string;
}

/** The client (after expiry) or the coordinator (any time) returns the locked amount to the client. */
export interface EscrowRefundTx extends TxCommon {
  readonly type: 'escrow.refund';
  readonly jobId: string;
}

/** An unsigned transaction body. */
export type TxBody = TransferTx | EscrowLockTx | EscrowSettleTx | EscrowRefundTx;

/** A signed transaction with its derived id. */
export interface SignedTx {
  readonly body: TxBody;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256 of the signing bytes (excludes the signature: no malleability). */
  readonly id: Uint8Array;
  /** Size of the wire form in bytes (canonical JSON), for block and mempool limits. */
  readonly size: number;
}

/** The JSON wire form: amounts as decimal strings, key and signature as lowercase hex. */
export type TxJson = Record<string, string | number>;

/** Limits on transactions (protocol constants; the chain's params may lower `maxTxBytes`). */
export const TX_LIMITS = Object.freeze({ maxTxBytes: 96 * 1024, maxReceiptChars: 64 * 1024, maxAmountDigits: 78 });

const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const JOB_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;
const KEY_RE = /^[0-9a-f]{64}$/;
const SIG_RE = /^[0-9a-f]{128}$/;

const FIELDS: Readonly<Record<TxType, readonly string[]>> = {
  transfer: ['to', 'amount'],
  'escrow.lock': ['jobId', 'amount', 'coordinator', 'expiresAtHeight'],
  'escrow.settle': ['jobId', 'receipt'],
  'escrow.refund': ['jobId'],
};
const COMMON = ['chainId', 'type', 'from', 'nonce', 'fee'];
/** The fields each type may carry, built once. */
const ALLOWED: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(FIELDS).map(([t, f]) => [t, new Set([...COMMON, ...f])]),
);

function malformed(field: string, expected: string): AitbcError {
  return new AitbcError('CHAIN_TX_MALFORMED', `tx.${field} must be ${expected}`, { details: { field } });
}

/** The body as the JSON object that is signed (amounts as decimal strings). */
export function txBodyJson(body: TxBody): TxJson {
  const out: TxJson = {
    chainId: body.chainId,
    type: body.type,
    from: body.from,
    nonce: body.nonce,
    fee: body.fee.toString(),
  };
  switch (body.type) {
    case 'transfer':
      out.to = body.to;
      out.amount = body.amount.toString();
      break;
    case 'escrow.lock':
      out.jobId = body.jobId;
      out.amount = body.amount.toString();
      out.coordinator = body.coordinator;
      out.expiresAtHeight = body.expiresAtHeight;
      break;
    case 'escrow.settle':
      out.jobId = body.jobId;
      out.receipt = body.receipt;
      break;
    case 'escrow.refund':
      out.jobId = body.jobId;
      break;
  }
  return out;
}

/**
 * Addresses already found valid (bounded, oldest out): checking one decodes its bech32m checksum,
 * and the same senders and recipients recur in every block.
 */
const validAddresses = new Set<string>();
/** Sender addresses by public key (hex, as on the wire), bounded: deriving one hashes and encodes. */
const keyAddresses = new Map<string, string>();
const ADDRESS_CACHE_MAX = 1 << 16;

/** Makes room for one more entry in a bounded cache (drops the oldest). */
function makeRoom<K>(cache: Set<K> | Map<K, unknown>): void {
  if (cache.size >= ADDRESS_CACHE_MAX) cache.delete(cache.keys().next().value as K);
}

function readAddress(json: Record<string, unknown>, field: string): string {
  const v = json[field];
  if (typeof v !== 'string') throw malformed(field, 'a valid lowercase ait1… address');
  if (validAddresses.has(v)) return v;
  if (!isAddress(v)) throw malformed(field, 'a valid lowercase ait1… address');
  makeRoom(validAddresses);
  validAddresses.add(v);
  return v;
}

function addressOfKey(hex: string, key: Uint8Array): string {
  let address = keyAddresses.get(hex);
  if (address === undefined) {
    address = addressFromPublicKey(key);
    makeRoom(keyAddresses);
    keyAddresses.set(hex, address);
  }
  return address;
}

function readAmount(json: Record<string, unknown>, field: string): bigint {
  const v = json[field];
  if (typeof v !== 'string' || !DECIMAL_RE.test(v))
    throw malformed(field, 'a decimal string of base units (no sign, no leading zeros)');
  return BigInt(v);
}

function readCounter(json: Record<string, unknown>, field: string, min: number): number {
  const v = json[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw malformed(field, `an integer ≥ ${min}`);
  return v;
}

function readJobId(json: Record<string, unknown>): string {
  const v = json.jobId;
  if (typeof v !== 'string' || !JOB_ID_RE.test(v)) throw malformed('jobId', '1–128 characters of [A-Za-z0-9._:-]');
  return v;
}

/**
 * Validates an unsigned body in JSON form (every field's type, length and range; no unknown fields).
 * @throws AitbcError `CHAIN_TX_MALFORMED` with `details.field`.
 */
export function txBodyFromJson(json: unknown): TxBody {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new AitbcError('CHAIN_TX_MALFORMED', 'a transaction must be a JSON object');
  const o = json as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type))
    throw malformed('type', `one of ${Object.keys(FIELDS).join(', ')}`);
  const allowed = ALLOWED[type]!;
  for (const k of Object.keys(o))
    if (!allowed.has(k)) throw new AitbcError('CHAIN_TX_MALFORMED', `unknown field tx.${k}`, { details: { field: k } });
  if (typeof o.chainId !== 'string' || !CHAIN_ID_RE.test(o.chainId)) throw malformed('chainId', 'a chain id');
  const common = {
    chainId: o.chainId,
    from: readAddress(o, 'from'),
    nonce: readCounter(o, 'nonce', 0),
    fee: readAmount(o, 'fee'),
  };
  switch (type as TxType) {
    case 'transfer':
      return { ...common, type: 'transfer', to: readAddress(o, 'to'), amount: readAmount(o, 'amount') };
    case 'escrow.lock':
      return {
        ...common,
        type: 'escrow.lock',
        jobId: readJobId(o),
        amount: readAmount(o, 'amount'),
        coordinator: readAddress(o, 'coordinator'),
        expiresAtHeight: readCounter(o, 'expiresAtHeight', 1),
      };
    case 'escrow.settle': {
      const receipt = o.receipt;
      if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > TX_LIMITS.maxReceiptChars) {
        throw malformed('receipt', `the receipt's JSON text (at most ${TX_LIMITS.maxReceiptChars} characters)`);
      }
      return { ...common, type: 'escrow.settle', jobId: readJobId(o), receipt };
    }
    case 'escrow.refund':
      return { ...common, type: 'escrow.refund', jobId: readJobId(o) };
  }
}

/**
 * The signing bytes of every transaction this module built, so verification (mempool, block import)
 * never re-encodes. Sound because those transactions and their bodies are frozen.
 */
const signingBytesCache = new WeakMap<SignedTx, Uint8Array>();

/**
 * Transactions decoded from the wire, by signature (hex, as on the wire), bounded (oldest out): a
 * node receives each transaction twice or more — submitted or gossiped, then inside a proposal — and
 * the second decode (strict field checks, canonical encoding, hashing) is then a field-by-field
 * comparison that returns the same frozen transaction (whose signature the node already verified).
 */
const decoded = new Map<
  string,
  { readonly tx: SignedTx; readonly bodyJson: TxJson; readonly publicKey: string; readonly fields: number }
>();
const DECODED_MAX = 1 << 16;

/** Whether a wire object is exactly (same fields, same values) the one a cached transaction was decoded from. */
function sameWire(
  o: Record<string, unknown>,
  seen: { readonly bodyJson: TxJson; readonly publicKey: string; readonly fields: number },
): boolean {
  if (o.publicKey !== seen.publicKey) return false;
  let n = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) return false;
    n++;
  }
  if (n !== seen.fields) return false;
  const b = seen.bodyJson;
  for (const k in b) if (!Object.hasOwn(o, k) || o[k] !== b[k]) return false;
  return true;
}

function finish(body: TxBody, bodyJson: TxJson, publicKey: Uint8Array, signature: Uint8Array): SignedTx {
  const canonical = canonicalize(bodyJson);
  const signing = signingBytesOfCanonical('tx', body.chainId, canonical);
  const id = sha256(signing);
  // Canonical wire size: the body plus `"publicKey":"<64 hex>"` (78), `"signature":"<128 hex>"` (142)
  // and the two commas that join them in.
  const size = canonical.length + 222;
  if (size > TX_LIMITS.maxTxBytes) {
    throw new AitbcError('CHAIN_TX_TOO_LARGE', `transaction is ${size} bytes; the limit is ${TX_LIMITS.maxTxBytes}`, {
      details: { size },
    });
  }
  const tx: SignedTx = Object.freeze({ body: Object.freeze(body), publicKey, signature, id, size });
  signingBytesCache.set(tx, signing);
  return tx;
}

/** The signing bytes of `tx`, shared (callers in this package never mutate them). */
export function sharedSigningBytes(tx: SignedTx): Uint8Array {
  return signingBytesCache.get(tx) ?? signingBytesOfCanonical('tx', tx.body.chainId, canonicalize(txBodyJson(tx.body)));
}

/**
 * Signs a transaction body with the sender's seed. The sender must be the seed's address.
 *
 * @example
 * ```ts
 * const tx = signTx({ type: 'transfer', chainId: 'aitbc-devnet', from, nonce: 0, fee: 1000n, to, amount: 5n }, seed);
 * console.log(txIdHex(tx), txToJson(tx));
 * ```
 * @throws AitbcError `CHAIN_TX_MALFORMED` for an invalid body, `CHAIN_FROM_MISMATCH` when `from` is not the key's address.
 */
export function signTx(body: TxBody, seed: Uint8Array, publicKey: Uint8Array = publicKeyFromSeed(seed)): SignedTx {
  const bodyJson = txBodyJson(body);
  const checked = txBodyFromJson(bodyJson);
  if (addressFromPublicKey(publicKey) !== checked.from) {
    throw new AitbcError('CHAIN_FROM_MISMATCH', 'tx.from is not the address of the signing key');
  }
  const canonical = canonicalize(bodyJson);
  const signature = sign(signingBytesOfCanonical('tx', checked.chainId, canonical), seed);
  return finish(checked, bodyJson, publicKey, signature);
}

/**
 * Decodes a wire transaction: validates the body strictly, checks that `from` is the address of
 * `publicKey`, and derives the id. Does **not** verify the signature (see {@link verifyTxSignature}),
 * so callers can batch or cache verification.
 * @throws AitbcError `CHAIN_TX_MALFORMED`, `CHAIN_FROM_MISMATCH`, `CHAIN_TX_TOO_LARGE`.
 */
export function txFromJson(json: unknown): SignedTx {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new AitbcError('CHAIN_TX_MALFORMED', 'a transaction must be a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.signature === 'string') {
    const seen = decoded.get(o.signature);
    if (seen !== undefined && sameWire(o, seen)) return seen.tx;
  }
  const { publicKey, signature, ...rest } = o;
  if (typeof publicKey !== 'string' || !KEY_RE.test(publicKey)) throw malformed('publicKey', '64 lowercase hex digits');
  if (typeof signature !== 'string' || !SIG_RE.test(signature))
    throw malformed('signature', '128 lowercase hex digits');
  const body = txBodyFromJson(rest);
  const key = hexToBytes(publicKey);
  if (addressOfKey(publicKey, key) !== body.from)
    throw new AitbcError('CHAIN_FROM_MISMATCH', 'tx.from is not the address of tx.publicKey');
  const bodyJson = txBodyJson(body);
  const tx = finish(body, bodyJson, key, hexToBytes(signature));
  // The first decode under a signature stays: a tampered copy cannot evict the real transaction.
  if (!decoded.has(signature)) {
    if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value as string);
    decoded.set(signature, { tx, bodyJson, publicKey, fields: Object.keys(bodyJson).length + 2 });
  }
  return tx;
}

/** The wire JSON of a signed transaction. */
export function txToJson(tx: SignedTx): TxJson {
  return { ...txBodyJson(tx.body), publicKey: bytesToHex(tx.publicKey), signature: bytesToHex(tx.signature) };
}

/** The exact bytes the sender signed (a fresh copy). */
export function txSigningBytes(tx: SignedTx): Uint8Array {
  return sharedSigningBytes(tx).slice();
}

/** Strict Ed25519 check of a transaction's signature. */
export function verifyTxSignature(tx: SignedTx): boolean {
  return verify(tx.signature, sharedSigningBytes(tx), tx.publicKey);
}

/** The id in wire form (`0x` + 64 hex). */
export function txIdHex(tx: SignedTx): string {
  return toHex0x(tx.id);
}
