import { bytesToHex, canonicalize, sha256 } from '@aitbc/crypto';
import type { JsonValue } from './jobRunner.js';

/**
 * The receipt's `artifact_hash` of a job output: `0x` + SHA-256 of the output's RFC 8785 canonical
 * JSON. A client checks the result it fetched against the receipt with it; a verifier re-runs a
 * deterministic (`wasm`) job and compares.
 *
 * @example
 * ```ts
 * artifactHash({ digest: 'ab' }); // '0x…' (64 hex digits)
 * ```
 */
export function artifactHash(output: JsonValue): string {
  return `0x${bytesToHex(sha256(canonicalize(output)))}`;
}
