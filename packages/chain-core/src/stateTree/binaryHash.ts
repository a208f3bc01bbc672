/**
 * The state tree's hashing on binary strings (32 chars, one per byte): internal to the tree and the
 * proof checker (the mempool and the signature cache key transaction ids by `toBinary` too). Strings
 * are cheap Map keys, compare with `===`, cost one small allocation each, and Node's `crypto.hash`
 * returns them directly — so the hot path never allocates a Uint8Array per node.
 */
import { sha256Binary } from '#hasher';

/**
 * Largest value a tree leaf holds, in bytes.
 *
 * @example
 * ```ts
 * import { MAX_VALUE_BYTES } from '@aitbc/chain-core';
 * if (value.length > MAX_VALUE_BYTES) throw new Error('too large for one state entry');
 * ```
 */
export const MAX_VALUE_BYTES = 1024;

/** The empty subtree's hash (32 zero bytes) as a binary string. */
export const EMPTY_BINARY = '\0'.repeat(32);

const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;
const leafInput = new Uint8Array(33 + MAX_VALUE_BYTES);
/** Views of `leafInput` by total length, made once each. */
const leafViews: Uint8Array[] = [];

/** Binary string of bytes. */
export function toBinary(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Bytes of a binary string. */
export function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `sha256(0x01 || left || right)` over 32-char binary strings. */
export function binaryNodeHash(left: string, right: string): string {
  const buf = nodeInput;
  for (let i = 0; i < 32; i++) {
    buf[1 + i] = left.charCodeAt(i);
    buf[33 + i] = right.charCodeAt(i);
  }
  return sha256Binary(buf);
}

/** `sha256(0x00 || key || value)`; `key` a 32-char binary string, `value` at most {@link MAX_VALUE_BYTES}. */
export function binaryLeafHash(key: string, value: Uint8Array): string {
  const buf = leafInput;
  buf[0] = 0x00;
  for (let i = 0; i < 32; i++) buf[1 + i] = key.charCodeAt(i);
  buf.set(value, 33);
  const n = 33 + value.length;
  let view = leafViews[n];
  if (view === undefined) {
    view = buf.subarray(0, n);
    leafViews[n] = view;
  }
  return sha256Binary(view);
}

/** Bit `i` (0 = most significant bit of char 0) of a binary-string key: 0 goes left, 1 goes right. */
export function binaryBit(key: string, i: number): number {
  return (key.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
}
