import { hash } from 'node:crypto';

/**
 * SHA-256 of `data` as a 32-character binary string (one char per byte, `binary` = latin1). In Node the
 * one-shot `crypto.hash` with a string digest skips allocating a Buffer and runs ~6× faster than
 * asking it for bytes (measured on Node 20: 4.0M/s vs 0.69M/s for a 65-byte node).
 */
export function sha256Binary(data: Uint8Array): string {
  return hash('sha256', data, 'binary');
}
