import { assertLength, concatBytes, utf8ToBytes } from './bytes.js';
import { type CanonicalValue, canonicalize } from './canonicalize.js';
import { sign, verify } from './ed25519.js';
import { AitbcError } from './errors.js';
import { sha256 } from './sha256.js';

/** The kinds of domain-separated messages AITBC signs (DESIGN.md §2). */
export type MessageKind = 'tx' | 'block' | 'vote' | 'proposal' | 'handshake' | 'login' | (string & {});

const KIND_RE = /^[a-z][a-z0-9._-]{0,31}$/;
const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const prefixCache = new Map<string, Uint8Array>();

function domainPrefix(kind: string, chainId: string): Uint8Array {
  const key = `${kind}\n${chainId}`;
  let prefix = prefixCache.get(key);
  if (prefix === undefined) {
    if (!KIND_RE.test(kind)) throw new AitbcError('CRYPTO_BAD_DOMAIN', `invalid message kind "${kind}"`);
    if (!CHAIN_ID_RE.test(chainId)) throw new AitbcError('CRYPTO_BAD_DOMAIN', 'invalid chain id');
    prefix = utf8ToBytes(`AITBC/v1/${kind}\n${chainId}\n`);
    if (prefixCache.size < 1024) prefixCache.set(key, prefix);
  }
  return prefix;
}

/**
 * The exact bytes AITBC signs: `utf8("AITBC/v1/" + kind + "\n" + chainId + "\n") || JCS(body)`.
 * A signature over one kind or chain never verifies as another.
 * @throws AitbcError `CRYPTO_BAD_DOMAIN` for a malformed kind or chain id, `CRYPTO_CANONICAL_JSON` for a body JCS cannot encode.
 */
export function signingBytes(kind: MessageKind, chainId: string, body: CanonicalValue): Uint8Array {
  return concatBytes(domainPrefix(kind, chainId), canonicalize(body));
}

/** Like {@link signingBytes}, for a body already in canonical bytes. */
export function signingBytesOfCanonical(kind: MessageKind, chainId: string, canonicalBody: Uint8Array): Uint8Array {
  return concatBytes(domainPrefix(kind, chainId), canonicalBody);
}

/** The id of a signed object: SHA-256 of its signing bytes (so it excludes the signature). */
export function messageId(kind: MessageKind, chainId: string, body: CanonicalValue): Uint8Array {
  return sha256(signingBytes(kind, chainId, body));
}

/** Signs a domain-separated message; returns the 64-byte signature. */
export function signMessage(kind: MessageKind, chainId: string, body: CanonicalValue, seed: Uint8Array): Uint8Array {
  assertLength(seed, 32, 'seed');
  return sign(signingBytes(kind, chainId, body), seed);
}

/** Verifies a domain-separated message signature (strict). Returns `false` on any mismatch. */
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
