import { sha256 } from '@aitbc/crypto';

/** SHA-256 of `data` as a 32-character binary string (browsers and other non-Node runtimes). */
export function sha256Binary(data: Uint8Array): string {
  return String.fromCharCode.apply(null, sha256(data) as unknown as number[]);
}
