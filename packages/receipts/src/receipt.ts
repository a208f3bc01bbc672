import {
  AitbcError,
  addressFromPublicKey,
  base64urlToBytes,
  bytesEqual,
  bytesToBase64url,
  bytesToHex,
  publicKeyFromSeed,
  randomBytes,
  sign,
  verify,
  verifyMany,
} from '@aitbc/crypto';
import { receiptSigningBytes } from './canonicalizeReceipt.js';
import { JsonNumber, type ReceiptJsonValue } from './jsonNumber.js';

/**
 * A signature object as the original AITBC receipts carry it.
 *
 * @example
 * ```ts
 * import type { ReceiptSignature } from '@aitbc/receipts';
 * import { bytesToBase64url } from '@aitbc/crypto';
 * const sig: ReceiptSignature = { alg: 'Ed25519', key_id: bytesToBase64url(publicKey), sig: bytesToBase64url(signature) };
 * ```
 */
export interface ReceiptSignature {
  readonly alg: 'Ed25519';
  /** base64url (no padding) of the signer's 32-byte public key. */
  readonly key_id: string;
  /** base64url (no padding) of the 64-byte signature. */
  readonly sig: string;
}

/**
 * A compute receipt (DESIGN.md §2), in its wire form (snake_case, as the original Python receipts).
 *
 * @example
 * ```ts
 * import { parseReceiptJson, type Receipt, validateReceipt } from '@aitbc/receipts';
 * const receipt: Receipt = validateReceipt(parseReceiptJson(body));
 * console.log(receipt.job_id, receipt.provider, receipt.price);
 * ```
 */
export interface Receipt {
  readonly version: string;
  readonly receipt_id: string;
  readonly job_id: string;
  /** The miner's `ait1…` address; the miner signature must come from the key of this address. */
  readonly provider: string;
  /** The client's `ait1…` address. */
  readonly client: string;
  /** `completed` for a successful job. */
  readonly status?: string;
  /** Units of work (an integer, a decimal string, or a number lexeme received from elsewhere). */
  readonly units: number | string | JsonNumber;
  readonly unit_type: string;
  /** Price per unit, decimal string of base units. */
  readonly unit_price?: string | number | JsonNumber;
  /** Total price, decimal string of base units: what the escrow pays the miner. */
  readonly price?: string | number | JsonNumber;
  /** Start and finish, Unix seconds. */
  readonly started_at: number;
  readonly completed_at: number;
  readonly metadata?: { readonly [key: string]: ReceiptJsonValue | undefined };
  readonly model?: string;
  readonly prompt_hash?: string;
  readonly duration_ms?: number;
  readonly artifact_hash?: string;
  readonly coordinator_id?: string;
  readonly nonce?: string;
  readonly chain_id?: string | number;
  /** The miner's signature. */
  readonly signature?: ReceiptSignature;
  /** Coordinator attestations over the same payload. */
  readonly attestations?: readonly ReceiptSignature[];
  /** Unsigned data; the only place anything may be added after signing. */
  readonly annotations?: { readonly [key: string]: ReceiptJsonValue | undefined };
  readonly [extra: string]: ReceiptJsonValue | ReceiptSignature | readonly ReceiptSignature[] | undefined;
}

const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;
const ID_RE = /^[\x21-\x7e]{1,128}$/;

function malformed(field: string, expected: string): AitbcError {
  return new AitbcError('RECEIPT_MALFORMED', `receipt.${field} must be ${expected}`, { details: { field } });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

function checkSignatureObject(v: unknown, field: string): void {
  if (!isPlainObject(v) || typeof v.alg !== 'string' || typeof v.key_id !== 'string' || typeof v.sig !== 'string') {
    throw malformed(field, 'an object {alg, key_id, sig} of strings');
  }
}

/**
 * Checks a receipt's shape: required fields present with the right types, optional ones typed when
 * present. Signatures are not checked here (see {@link verifyReceipt}).
 * @throws AitbcError `RECEIPT_MALFORMED` with `details.field`.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import { parseReceiptJson, validateReceipt } from '@aitbc/receipts';
 * try {
 *   const receipt = validateReceipt(parseReceiptJson(body));
 * } catch (e) {
 *   if (isAitbcError(e, 'RECEIPT_MALFORMED')) console.error('bad field', e.details?.field);
 * }
 * ```
 */
export function validateReceipt(value: unknown): Receipt {
  if (!isPlainObject(value)) throw new AitbcError('RECEIPT_MALFORMED', 'a receipt must be a JSON object');
  for (const f of ['version', 'receipt_id', 'job_id', 'unit_type']) {
    if (typeof value[f] !== 'string' || !ID_RE.test(value[f] as string))
      throw malformed(f, '1–128 printable ASCII characters');
  }
  for (const f of ['provider', 'client']) {
    if (typeof value[f] !== 'string' || (value[f] as string).length === 0 || (value[f] as string).length > 128) {
      throw malformed(f, 'an address string');
    }
  }
  for (const f of ['started_at', 'completed_at']) {
    if (typeof value[f] !== 'number' || !Number.isSafeInteger(value[f]) || (value[f] as number) < 0)
      throw malformed(f, 'Unix seconds (integer)');
  }
  if ((value.completed_at as number) < (value.started_at as number))
    throw malformed('completed_at', 'at or after started_at');
  const units = value.units;
  if (
    !(typeof units === 'number' || units instanceof JsonNumber || (typeof units === 'string' && DECIMAL_RE.test(units)))
  ) {
    throw malformed('units', 'a number or a decimal string');
  }
  for (const f of ['unit_price', 'price']) {
    const v = value[f];
    if (
      v !== undefined &&
      v !== null &&
      !(typeof v === 'number' || v instanceof JsonNumber || (typeof v === 'string' && DECIMAL_RE.test(v)))
    ) {
      throw malformed(f, 'a decimal string of base units');
    }
  }
  for (const f of ['status', 'model', 'prompt_hash', 'artifact_hash', 'coordinator_id', 'nonce']) {
    const v = value[f];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > 1024)) throw malformed(f, 'a string');
  }
  if (
    value.chain_id !== undefined &&
    value.chain_id !== null &&
    typeof value.chain_id !== 'string' &&
    typeof value.chain_id !== 'number'
  ) {
    throw malformed('chain_id', 'a string or an integer');
  }
  if (
    value.duration_ms !== undefined &&
    value.duration_ms !== null &&
    (typeof value.duration_ms !== 'number' || !Number.isSafeInteger(value.duration_ms))
  ) {
    throw malformed('duration_ms', 'an integer');
  }
  for (const f of ['metadata', 'annotations']) {
    if (value[f] !== undefined && value[f] !== null && !isPlainObject(value[f])) throw malformed(f, 'an object');
  }
  if (value.signature !== undefined && value.signature !== null) checkSignatureObject(value.signature, 'signature');
  if (value.attestations !== undefined && value.attestations !== null) {
    if (!Array.isArray(value.attestations) || value.attestations.length > 16)
      throw malformed('attestations', 'an array of at most 16 signature objects');
    for (const [i, a] of value.attestations.entries()) checkSignatureObject(a, `attestations[${i}]`);
  }
  return value as Receipt;
}

/**
 * A receipt's total price as a bigint (what escrow settlement pays).
 * @throws AitbcError `RECEIPT_MALFORMED` when `price` is absent or not a decimal string of base units.
 *
 * @example
 * ```ts
 * import { receiptPrice } from '@aitbc/receipts';
 * const payout: bigint = receiptPrice(receipt); // BigInt(receipt.price)
 * ```
 */
export function receiptPrice(receipt: Receipt): bigint {
  if (typeof receipt.price !== 'string' || !DECIMAL_RE.test(receipt.price))
    throw malformed('price', 'a decimal string of base units');
  return BigInt(receipt.price);
}

/**
 * What {@link createReceipt} needs.
 *
 * @example
 * ```ts
 * import { type CreateReceiptParams, createReceipt } from '@aitbc/receipts';
 * const params: CreateReceiptParams = { jobId: 'job-1', provider: minerAddress, client: clientAddress,
 *   units: 3, unitType: 'gpu_seconds', unitPrice: 10n, startedAt: started, completedAt: Date.now() };
 * const receipt = createReceipt(params); // price '30'
 * ```
 */
export interface CreateReceiptParams {
  readonly jobId: string;
  /** The miner's `ait1…` address. */
  readonly provider: string;
  /** The client's `ait1…` address. */
  readonly client: string;
  /** Units of work done (non-negative integer). */
  readonly units: bigint | number;
  readonly unitType: string;
  /** Price per unit, base units. */
  readonly unitPrice: bigint;
  /** Total price; default `units × unitPrice`. */
  readonly price?: bigint;
  /** When the work started and finished (Date or ms since epoch). */
  readonly startedAt: Date | number;
  readonly completedAt: Date | number;
  readonly status?: string;
  readonly chainId?: string;
  readonly coordinatorId?: string;
  readonly model?: string;
  readonly promptHash?: string;
  readonly artifactHash?: string;
  readonly metadata?: { readonly [key: string]: ReceiptJsonValue | undefined };
}

/**
 * The receipt format version this package writes.
 *
 * @example
 * ```ts
 * import { RECEIPT_VERSION } from '@aitbc/receipts';
 * if (receipt.version !== RECEIPT_VERSION) console.warn(`receipt format ${receipt.version}`);
 * ```
 */
export const RECEIPT_VERSION = '1';

const toMs = (t: Date | number): number => (t instanceof Date ? t.getTime() : t);

/**
 * Creates an unsigned receipt with a fresh `receipt_id` and nonce, amounts as decimal strings and
 * integer Unix-second times (`duration_ms` keeps the millisecond duration).
 *
 * @example
 * ```ts
 * const receipt = createReceipt({ jobId, provider: minerAddress, client, units: 1n, unitType: 'job',
 *   unitPrice: 10n ** 17n, startedAt, completedAt: new Date(), chainId: 'aitbc-devnet' });
 * const signed = signReceipt(receipt, minerSeed);
 * ```
 * @throws AitbcError `RECEIPT_MALFORMED` for negative or non-integer amounts and reversed times.
 */
export function createReceipt(params: CreateReceiptParams): Receipt {
  const units = BigInt(params.units);
  if (units < 0n || params.unitPrice < 0n || (params.price !== undefined && params.price < 0n)) {
    throw malformed('units', 'non-negative (units, unit price and price)');
  }
  const started = toMs(params.startedAt);
  const completed = toMs(params.completedAt);
  if (!Number.isFinite(started) || !Number.isFinite(completed) || completed < started) {
    throw malformed('completed_at', 'a time at or after started_at');
  }
  const receipt: Record<string, ReceiptJsonValue> = {
    version: RECEIPT_VERSION,
    receipt_id: `rcpt_${bytesToHex(randomBytes(16))}`,
    job_id: params.jobId,
    provider: params.provider,
    client: params.client,
    status: params.status ?? 'completed',
    units: units <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(units) : units.toString(),
    unit_type: params.unitType,
    unit_price: params.unitPrice.toString(),
    price: (params.price ?? units * params.unitPrice).toString(),
    started_at: Math.floor(started / 1000),
    completed_at: Math.floor(completed / 1000),
    duration_ms: Math.round(completed - started),
    nonce: bytesToHex(randomBytes(12)),
    metadata: (params.metadata ?? {}) as Record<string, ReceiptJsonValue>,
  };
  if (params.chainId !== undefined) receipt.chain_id = params.chainId;
  if (params.coordinatorId !== undefined) receipt.coordinator_id = params.coordinatorId;
  if (params.model !== undefined) receipt.model = params.model;
  if (params.promptHash !== undefined) receipt.prompt_hash = params.promptHash;
  if (params.artifactHash !== undefined) receipt.artifact_hash = params.artifactHash;
  return validateReceipt(receipt);
}

function signatureObject(receipt: Receipt, seed: Uint8Array, publicKey: Uint8Array): ReceiptSignature {
  return {
    alg: 'Ed25519',
    key_id: bytesToBase64url(publicKey),
    sig: bytesToBase64url(sign(receiptSigningBytes(receipt), seed)),
  };
}

/**
 * The miner signs the receipt: returns a copy with `signature` set (any previous one replaced).
 * @throws AitbcError `RECEIPT_MALFORMED` when the receipt does not validate, `RECEIPT_PROVIDER_MISMATCH`
 * when the key's address is not the receipt's `provider`.
 *
 * @example
 * ```ts
 * import { signReceipt } from '@aitbc/receipts';
 * const signed = signReceipt(receipt, minerSeed); // receipt.provider must be the seed's address
 * ```
 */
export function signReceipt(receipt: Receipt, minerSeed: Uint8Array, minerPublicKey?: Uint8Array): Receipt {
  validateReceipt(receipt);
  const publicKey = minerPublicKey ?? publicKeyFromSeed(minerSeed);
  if (addressFromPublicKey(publicKey) !== receipt.provider) {
    throw new AitbcError('RECEIPT_PROVIDER_MISMATCH', 'the signing key is not the key of receipt.provider');
  }
  return { ...receipt, signature: signatureObject(receipt, minerSeed, publicKey) };
}

/**
 * A coordinator attests the receipt: returns a copy with its signature appended to `attestations`
 * (replacing an earlier attestation by the same key).
 * @throws AitbcError `RECEIPT_MALFORMED` when the receipt does not validate.
 *
 * @example
 * ```ts
 * import { attestReceipt, verifyReceipt } from '@aitbc/receipts';
 * const attested = attestReceipt(signed, coordinatorSeed);
 * verifyReceipt(attested, { minerKeys: [minerKey], coordinatorKeys: [coordinatorKey] }).ok; // true
 * ```
 */
export function attestReceipt(
  receipt: Receipt,
  coordinatorSeed: Uint8Array,
  coordinatorPublicKey?: Uint8Array,
): Receipt {
  validateReceipt(receipt);
  const publicKey = coordinatorPublicKey ?? publicKeyFromSeed(coordinatorSeed);
  const att = signatureObject(receipt, coordinatorSeed, publicKey);
  const others = (receipt.attestations ?? []).filter((a) => a.key_id !== att.key_id);
  return { ...receipt, attestations: [...others, att] };
}

/**
 * Why a signature entry failed.
 *
 * @example
 * ```ts
 * import { type ReceiptFailureReason, verifyReceipt } from '@aitbc/receipts';
 * const reasons: ReceiptFailureReason[] = verifyReceipt(receipt, keys).signatures.flatMap((s) => (s.reason ? [s.reason] : []));
 * if (reasons.includes('untrusted_key')) console.warn('signed by a key we do not trust');
 * ```
 */
export type ReceiptFailureReason =
  | 'miner_signature_invalid'
  | 'coordinator_attestation_invalid'
  | 'untrusted_key'
  | 'missing_signature'
  | 'provider_mismatch'
  | 'malformed';

/**
 * One checked signature.
 *
 * @example
 * ```ts
 * import { type SignatureCheck, verifyReceipt } from '@aitbc/receipts';
 * const miner: SignatureCheck | undefined = verifyReceipt(receipt, keys).signatures.find((s) => s.role === 'miner');
 * console.log(miner?.keyId, miner?.valid, miner?.reason);
 * ```
 */
export interface SignatureCheck {
  readonly role: 'miner' | 'coordinator';
  /** The key the signature names (base64url), or `null` when there is none. */
  readonly keyId: string | null;
  /** Whether the signature verifies over the payload (true even for an untrusted key). */
  readonly valid: boolean;
  /** Why this entry does not count, if it does not. */
  readonly reason?: ReceiptFailureReason;
}

/**
 * The result of {@link verifyReceipt}.
 *
 * @example
 * ```ts
 * import { type ReceiptVerification, verifyReceipt } from '@aitbc/receipts';
 * const result: ReceiptVerification = verifyReceipt(receipt, { minerKeys: [minerKey] });
 * if (!result.ok) console.error(result.error ?? result.signatures.map((s) => s.reason));
 * ```
 */
export interface ReceiptVerification {
  /** The miner signature verifies under a trusted key of `provider`, the required attestations are present, and nothing failed. */
  readonly ok: boolean;
  readonly signatures: readonly SignatureCheck[];
  /** Set when the receipt itself is malformed (then `signatures` may be empty). */
  readonly error?: string;
}

/**
 * The keys a verifier trusts.
 *
 * @example
 * ```ts
 * import { type TrustedKeys, verifyReceipt } from '@aitbc/receipts';
 * const keys: TrustedKeys = { minerKeys: [minerKey], coordinatorKeys: [coordinatorKey], requireAttestation: true };
 * verifyReceipt(receipt, keys).ok;
 * ```
 */
export interface TrustedKeys {
  /** Miner public keys (32 bytes): typically the one key the chain or registry holds for `provider`. */
  readonly minerKeys: readonly Uint8Array[];
  /** Coordinator public keys whose attestations count. */
  readonly coordinatorKeys?: readonly Uint8Array[];
  /** Require at least one trusted attestation (default: true when `coordinatorKeys` is non-empty). */
  readonly requireAttestation?: boolean;
}

function decodeKey(keyId: string): Uint8Array | undefined {
  try {
    return base64urlToBytes(keyId, 32);
  } catch {
    return undefined;
  }
}

interface PlannedCheck {
  readonly role: 'miner' | 'coordinator';
  readonly keyId: string | null;
  /** The decoded key and signature when the object is well formed. */
  readonly key?: Uint8Array;
  readonly sig?: Uint8Array;
  readonly failure?: ReceiptFailureReason;
}

function plan(role: 'miner' | 'coordinator', sigObj: unknown): PlannedCheck {
  const o = sigObj as Partial<ReceiptSignature> | undefined;
  const keyId = typeof o?.key_id === 'string' ? o.key_id : null;
  if (
    o === undefined ||
    o === null ||
    typeof o !== 'object' ||
    o.alg !== 'Ed25519' ||
    typeof o.sig !== 'string' ||
    keyId === null
  ) {
    return { role, keyId, failure: 'malformed' };
  }
  const key = decodeKey(keyId);
  let sig: Uint8Array | undefined;
  try {
    sig = base64urlToBytes(o.sig, 64);
  } catch {
    sig = undefined;
  }
  if (key === undefined || sig === undefined) return { role, keyId, failure: 'malformed' };
  return { role, keyId, key, sig };
}

interface VerificationPlan {
  readonly message: Uint8Array;
  readonly provider: string;
  readonly checks: readonly PlannedCheck[];
  readonly minerKeys: readonly Uint8Array[];
  readonly coordinatorKeys: readonly Uint8Array[];
  readonly requireAttestation: boolean;
}

function planVerification(receipt: unknown, keys: TrustedKeys): VerificationPlan | { error: string } {
  if (!Array.isArray(keys?.minerKeys))
    throw new AitbcError('RECEIPT_BAD_OPTIONS', 'minerKeys must be an array of public keys');
  let r: Receipt;
  let message: Uint8Array;
  try {
    r = validateReceipt(receipt);
    message = receiptSigningBytes(r);
  } catch (e) {
    return { error: e instanceof Error ? e.message : 'malformed receipt' };
  }
  const coordinatorKeys = keys.coordinatorKeys ?? [];
  const checks: PlannedCheck[] = [];
  checks.push(
    r.signature === undefined || r.signature === null
      ? { role: 'miner', keyId: null, failure: 'missing_signature' }
      : plan('miner', r.signature),
  );
  for (const a of r.attestations ?? []) checks.push(plan('coordinator', a));
  return {
    message,
    provider: r.provider,
    checks,
    minerKeys: keys.minerKeys,
    coordinatorKeys,
    requireAttestation: keys.requireAttestation ?? coordinatorKeys.length > 0,
  };
}

function conclude(p: VerificationPlan, verified: readonly boolean[]): ReceiptVerification {
  const checks: SignatureCheck[] = p.checks.map((c, i) => {
    if (c.failure !== undefined) return { role: c.role, keyId: c.keyId, valid: false, reason: c.failure };
    const valid = verified[i]!;
    const trusted = (c.role === 'miner' ? p.minerKeys : p.coordinatorKeys).some((t) => bytesEqual(t, c.key!));
    if (!trusted) return { role: c.role, keyId: c.keyId, valid, reason: 'untrusted_key' };
    if (!valid)
      return {
        role: c.role,
        keyId: c.keyId,
        valid,
        reason: c.role === 'miner' ? 'miner_signature_invalid' : 'coordinator_attestation_invalid',
      };
    if (c.role === 'miner' && addressFromPublicKey(c.key!) !== p.provider)
      return { role: c.role, keyId: c.keyId, valid, reason: 'provider_mismatch' };
    return { role: c.role, keyId: c.keyId, valid };
  });
  const attested = checks.some((c) => c.role === 'coordinator' && c.reason === undefined);
  if (p.requireAttestation && !checks.some((c) => c.role === 'coordinator')) {
    checks.push({ role: 'coordinator', keyId: null, valid: false, reason: 'missing_signature' });
  }
  const minerOk = checks.some((c) => c.role === 'miner' && c.reason === undefined);
  const anyInvalid = checks.some((c) => !c.valid);
  return { ok: minerOk && (!p.requireAttestation || attested) && !anyInvalid, signatures: checks };
}

/**
 * Verifies a receipt against pinned keys. The miner signature must verify under one of `minerKeys`
 * whose address is `provider`; attestations count only under `coordinatorKeys`. A receipt validly
 * signed by a key the caller did not trust is **not** ok. Adding or changing any field outside
 * `annotations` after signing breaks every signature. Never throws for bad receipts or signatures.
 *
 * @example
 * ```ts
 * const result = verifyReceipt(receipt, { minerKeys: [minerKey], coordinatorKeys: [coordinatorKey] });
 * if (!result.ok) console.log(result.signatures.map((s) => s.reason));
 * ```
 * @throws AitbcError `RECEIPT_BAD_OPTIONS` when `minerKeys` is not an array (a programming error).
 */
export function verifyReceipt(receipt: unknown, keys: TrustedKeys): ReceiptVerification {
  const p = planVerification(receipt, keys);
  if ('error' in p) return { ok: false, signatures: [], error: p.error };
  return conclude(
    p,
    p.checks.map((c) => (c.key !== undefined && c.sig !== undefined ? verify(c.sig, p.message, c.key) : false)),
  );
}

/**
 * {@link verifyReceipt} with the signature checks run through `verifyMany` (the libuv thread pool in
 * Node), so many receipts verified concurrently use every core. Same result, same rules.
 *
 * @example
 * ```ts
 * import { verifyReceiptAsync } from '@aitbc/receipts';
 * const results = await Promise.all(receipts.map((r) => verifyReceiptAsync(r, { minerKeys: [minerKey] })));
 * ```
 */
export async function verifyReceiptAsync(receipt: unknown, keys: TrustedKeys): Promise<ReceiptVerification> {
  const p = planVerification(receipt, keys);
  if ('error' in p) return { ok: false, signatures: [], error: p.error };
  const empty = new Uint8Array(0);
  const results = await verifyMany(
    p.checks.map((c) => ({ signature: c.sig ?? empty, message: p.message, publicKey: c.key ?? empty })),
  );
  return conclude(p, results);
}
