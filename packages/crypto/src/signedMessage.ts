import { assertLength, concatBytes, utf8ToBytes } from './bytes.js';
import { type CanonicalValue, canonicalize } from './canonicalize.js';
import { sign, verify } from './ed25519.js';
import { AitbcError } from './errors.js';
import { sha256 } from './sha256.js';

/**
 * The kinds of domain-separated messages AITBC signs (DESIGN.md §2).
 *
 * @example
 * ```ts
 * import { type MessageKind, signMessage } from '@aitbc/crypto';
 * const kind: MessageKind = 'vote';
 * const signature = signMessage(kind, 'aitbc-devnet', { height: 12, round: 0 }, seed);
 * ```
 */
export type MessageKind = 'tx' | 'block' | 'vote' | 'proposal' | 'handshake' | 'login' | (string & {});

const KIND_RE = /^[a-z][a-z0-9._-]{0,31}$/;
const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const prefixCache = new Map<string, Uint8Array>();
const prefixTextCache = new Map<string, string>();

/** The last prefix built: a node signs and verifies for one chain, mostly one kind at a time. */
let lastKind = '';
let lastChainId = '';
let lastPrefix = '';

/** The domain prefix as text (ASCII: the kind and chain id are checked). */
function domainPrefixText(kind: string, chainId: string): string {
  if (kind === lastKind && chainId === lastChainId && lastPrefix !== '') return lastPrefix;
  const key = `${kind}\n${chainId}`;
  let prefix = prefixTextCache.get(key);
  if (prefix === undefined) {
    if (!KIND_RE.test(kind)) throw new AitbcError('CRYPTO_BAD_DOMAIN', `invalid message kind "${kind}"`);
    if (!CHAIN_ID_RE.test(chainId)) throw new AitbcError('CRYPTO_BAD_DOMAIN', 'invalid chain id');
    prefix = `AITBC/v1/${kind}\n${chainId}\n`;
    if (prefixTextCache.size < 1024) prefixTextCache.set(key, prefix);
  }
  lastKind = kind;
  lastChainId = chainId;
  lastPrefix = prefix;
  return prefix;
}

function domainPrefix(kind: string, chainId: string): Uint8Array {
  const key = `${kind}\n${chainId}`;
  let prefix = prefixCache.get(key);
  if (prefix === undefined) {
    prefix = utf8ToBytes(domainPrefixText(kind, chainId));
    if (prefixCache.size < 1024) prefixCache.set(key, prefix);
  }
  return prefix;
}

/**
 * The exact bytes AITBC signs: `utf8("AITBC/v1/" + kind + "\n" + chainId + "\n") || JCS(body)`.
 * A signature over one kind or chain never verifies as another.
 * @throws AitbcError `CRYPTO_BAD_DOMAIN` for a malformed kind or chain id, `CRYPTO_CANONICAL_JSON` for a body JCS cannot encode.
 *
 * @example
 * ```ts
 * import { sign, signingBytes } from '@aitbc/crypto';
 * const bytes = signingBytes('tx', 'aitbc-devnet', { type: 'transfer', to, amount: 5n, nonce: 1 });
 * const signature = sign(bytes, seed); // same as signMessage('tx', 'aitbc-devnet', body, seed)
 * ```
 */
export function signingBytes(kind: MessageKind, chainId: string, body: CanonicalValue): Uint8Array {
  return concatBytes(domainPrefix(kind, chainId), canonicalize(body));
}

/**
 * Like {@link signingBytes}, for a body already in canonical bytes.
 *
 * @example
 * ```ts
 * import { canonicalize, sign, signingBytesOfCanonical } from '@aitbc/crypto';
 * const canonical = canonicalize(body); // computed once, reused for size checks and hashing
 * const signature = sign(signingBytesOfCanonical('tx', 'aitbc-devnet', canonical), seed);
 * ```
 */
export function signingBytesOfCanonical(kind: MessageKind, chainId: string, canonicalBody: Uint8Array): Uint8Array {
  return concatBytes(domainPrefix(kind, chainId), canonicalBody);
}

/**
 * Like {@link signingBytesOfCanonical}, for a body already in canonical JSON text: the prefix and the
 * text are UTF-8 encoded in one pass, into one array (no concatenation copy). The caller vouches that
 * `canonicalJson` is the JCS text of the body.
 * @throws AitbcError `CRYPTO_BAD_DOMAIN` for a malformed kind or chain id.
 *
 * @example
 * ```ts
 * import { canonicalizeToString, sign, signingBytesOfCanonicalString } from '@aitbc/crypto';
 * const json = canonicalizeToString(body);
 * const signature = sign(signingBytesOfCanonicalString('tx', 'aitbc-devnet', json), seed);
 * ```
 */
export function signingBytesOfCanonicalString(kind: MessageKind, chainId: string, canonicalJson: string): Uint8Array {
  return utf8ToBytes(signingTextOfCanonical(kind, chainId, canonicalJson));
}

/**
 * The text whose UTF-8 bytes {@link signingBytesOfCanonicalString} gives:
 * `"AITBC/v1/" + kind + "\n" + chainId + "\n" + canonicalJson`. The prefix is ASCII, so its byte
 * length is its length; callers that encode into a buffer of their own use this. The caller vouches
 * that `canonicalJson` is the JCS text of the body.
 * @throws AitbcError `CRYPTO_BAD_DOMAIN` for a malformed kind or chain id.
 *
 * @example
 * ```ts
 * import { canonicalizeToString, signingTextOfCanonical, utf8ToBytes } from '@aitbc/crypto';
 * const text = signingTextOfCanonical('tx', 'aitbc-devnet', canonicalizeToString(body));
 * const bytes = utf8ToBytes(text); // or TextEncoder#encodeInto a reused buffer
 * ```
 */
export function signingTextOfCanonical(kind: MessageKind, chainId: string, canonicalJson: string): string {
  if (typeof canonicalJson !== 'string') throw new AitbcError('CRYPTO_BAD_INPUT', 'canonical JSON must be a string');
  return domainPrefixText(kind, chainId) + canonicalJson;
}

/**
 * The id of a signed object: SHA-256 of its signing bytes (so it excludes the signature).
 *
 * @example
 * ```ts
 * import { messageId, toHex0x } from '@aitbc/crypto';
 * const txId = toHex0x(messageId('tx', 'aitbc-devnet', body)); // independent of the signature
 * ```
 */
export function messageId(kind: MessageKind, chainId: string, body: CanonicalValue): Uint8Array {
  return sha256(signingBytes(kind, chainId, body));
}

/**
 * Signs a domain-separated message; returns the 64-byte signature.
 *
 * @example
 * ```ts
 * import { generateKeyPair, signMessage, verifyMessage } from '@aitbc/crypto';
 * const { seed, publicKey } = generateKeyPair();
 * const sig = signMessage('login', 'aitbc-devnet', { nonce: 'n1' }, seed);
 * verifyMessage('login', 'aitbc-devnet', { nonce: 'n1' }, sig, publicKey); // true
 * ```
 */
export function signMessage(kind: MessageKind, chainId: string, body: CanonicalValue, seed: Uint8Array): Uint8Array {
  assertLength(seed, 32, 'seed');
  return sign(signingBytes(kind, chainId, body), seed);
}

/**
 * Verifies a domain-separated message signature (strict). Returns `false` on any mismatch.
 *
 * @example
 * ```ts
 * import { verifyMessage } from '@aitbc/crypto';
 * if (!verifyMessage('vote', chainId, vote.body, vote.signature, validatorKey)) throw new Error('bad vote signature');
 * ```
 */
export function verifyMessage(
  kind: MessageKind,
  chainId: string,
  body: CanonicalValue,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  let bytes: Uint8Array;
  try {
    bytes = signingBytes(kind, chainId, body);
  } catch {
    return false;
  }
  return verify(signature, bytes, publicKey);
}
