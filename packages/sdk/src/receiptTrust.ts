import { AitbcError, addressFromPublicKey, base64urlToBytes, hexToBytes } from '@aitbc/crypto';
import { type ReceiptVerification, verifyReceipt } from '@aitbc/receipts';

/**
 * A pinned public key: 32 bytes, or hex.
 *
 * @example
 * ```ts
 * import type { PinnedKey } from '@aitbc/sdk';
 * const coordinatorKey: PinnedKey = 'c0ffee…'; // 64 hex digits, or the 32 bytes
 * const v = client.receipts.check(receipt, { coordinatorKeys: [coordinatorKey] });
 * ```
 */
export type PinnedKey = Uint8Array | string;

/**
 * Which keys a receipt must be signed with.
 *
 * @example
 * ```ts
 * import { createClient, type ReceiptTrust } from '@aitbc/sdk';
 * const trust: ReceiptTrust = { coordinatorKeys: [coordinatorPublicKeyHex], minerKeys: 'attested' };
 * const client = createClient({ node: 'http://127.0.0.1:8006', coordinator: 'http://127.0.0.1:8000', trust });
 * ```
 */
export interface ReceiptTrust {
  /** Coordinator keys whose attestation counts; at least one valid attestation is required. */
  readonly coordinatorKeys: readonly PinnedKey[];
  /**
   * Miner keys the receipt's signature must verify under. `'attested'` (the default) trusts the
   * miner key the receipt names only when it is the key of `provider` and a pinned coordinator
   * attested the receipt (the coordinator checked it against the miner's registered key).
   */
  readonly minerKeys?: readonly PinnedKey[] | 'attested';
}

function keyBytes(k: PinnedKey): Uint8Array {
  if (k instanceof Uint8Array) {
    if (k.length !== 32) throw new AitbcError('SDK_BAD_INPUT', 'a pinned key is 32 bytes');
    return k;
  }
  return hexToBytes(k, 32);
}

/**
 * Verifies a receipt (object or JSON text) against pinned keys with `@aitbc/receipts`, returning
 * the per-signature result; see {@link assertReceiptTrusted} for the throwing form.
 *
 * @example
 * ```ts
 * import { checkReceipt } from '@aitbc/sdk';
 * const v = checkReceipt(receipt, { coordinatorKeys: [coordinatorKey] });
 * if (!v.ok) console.log(v.error, v.signatures.map((s) => `${s.role}: ${s.reason}`));
 * ```
 */
export function checkReceipt(receipt: unknown, trust: ReceiptTrust): ReceiptVerification {
  const coordinatorKeys = trust.coordinatorKeys.map(keyBytes);
  if (coordinatorKeys.length === 0) throw new AitbcError('SDK_BAD_INPUT', 'pin at least one coordinator key');
  let minerKeys: Uint8Array[];
  if (trust.minerKeys === undefined || trust.minerKeys === 'attested') {
    const r = receipt as { signature?: { key_id?: unknown }; provider?: unknown } | null;
    let named: Uint8Array | undefined;
    try {
      named = typeof r?.signature?.key_id === 'string' ? base64urlToBytes(r.signature.key_id, 32) : undefined;
    } catch {
      named = undefined;
    }
    minerKeys = named !== undefined && addressFromPublicKey(named) === r?.provider ? [named] : [];
  } else minerKeys = trust.minerKeys.map(keyBytes);
  return verifyReceipt(receipt, { minerKeys, coordinatorKeys, requireAttestation: true });
}

/**
 * {@link checkReceipt}, throwing `SDK_RECEIPT_UNTRUSTED` (with every signature's reason in
 * `details.signatures`) unless the receipt verifies.
 *
 * @example
 * ```ts
 * import { assertReceiptTrusted } from '@aitbc/sdk';
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   assertReceiptTrusted(receipt, { coordinatorKeys: [coordinatorKey] });
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'SDK_RECEIPT_UNTRUSTED') console.log(e.details?.signatures);
 * }
 * ```
 */
export function assertReceiptTrusted(receipt: unknown, trust: ReceiptTrust): ReceiptVerification {
  const v = checkReceipt(receipt, trust);
  if (!v.ok)
    throw new AitbcError('SDK_RECEIPT_UNTRUSTED', v.error ?? 'the receipt does not verify under the pinned keys', {
      details: {
        signatures: v.signatures.map((s) => ({
          role: s.role,
          keyId: s.keyId,
          valid: s.valid,
          reason: s.reason ?? null,
        })),
      },
    });
  return v;
}
