import { AitbcError, bytesEqual, hexToBytes, sha256, toHex0x } from '@aitbc/crypto';
import { sha256Binary } from '#hasher';
import { binaryLeafHash, EMPTY_BINARY, MAX_VALUE_BYTES, toBinary } from './binaryHash.js';

export { MAX_VALUE_BYTES } from './binaryHash.js';

/**
 * Root (and node hash) of the empty tree: 32 zero bytes.
 *
 * @example
 * ```ts
 * import { EMPTY_HASH, MemoryKVStore, SparseMerkleTree } from '@aitbc/chain-core';
 * new SparseMerkleTree(new MemoryKVStore()).root; // equals EMPTY_HASH
 * ```
 */
export const EMPTY_HASH: Uint8Array = new Uint8Array(32);

/** Reused input buffers: hashing is synchronous, so one buffer per shape avoids an allocation per node. */
const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;
const leafInput = new Uint8Array(33 + MAX_VALUE_BYTES);

/**
 * Hash of a leaf: `sha256(0x00 || key || value)`.
 *
 * @example
 * ```ts
 * import { leafHash } from '@aitbc/chain-core';
 * await tree.update([[key, value]]); // in an empty tree, the root is then leafHash(key, value)
 * ```
 */
export function leafHash(key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length > MAX_VALUE_BYTES || key.length !== 32) {
    const big = new Uint8Array(1 + key.length + value.length);
    big.set(key, 1);
    big.set(value, 1 + key.length);
    return sha256(big);
  }
  leafInput[0] = 0x00;
  leafInput.set(key, 1);
  leafInput.set(value, 33);
  return sha256(leafInput.subarray(0, 33 + value.length));
}

/**
 * Hash of an internal node: `sha256(0x01 || left || right)`.
 *
 * @example
 * ```ts
 * import { EMPTY_HASH, leafHash, nodeHash } from '@aitbc/chain-core';
 * const root = nodeHash(leafHash(leftKey, leftValue), EMPTY_HASH); // the empty subtree hashes to zeros
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32)
    throw new AitbcError('CHAIN_STATE_BAD_KEY', 'node children are 32-byte hashes');
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return sha256(nodeInput);
}

const verifyInput = new Uint8Array(65);
verifyInput[0] = 0x01;

/** Bit `i` (0 = most significant bit of byte 0) of a 32-byte key: 0 goes left, 1 goes right. */
export function keyBit(key: Uint8Array, i: number): number {
  return (key[i >> 3]! >> (7 - (i & 7))) & 1;
}

/**
 * A proof that a key is present with a value, or absent, under a state root.
 *
 * `siblings[i]` is the hash of the sibling at depth `i` on the key's path (root first). The path ends
 * at an empty subtree (`leaf` absent) or at a leaf: the key's own (inclusion) or another key's with
 * the same first `siblings.length` bits (exclusion).
 *
 * @example
 * ```ts
 * import { verifyStateProof } from '@aitbc/chain-core';
 * const proof = await tree.prove(key);
 * if (proof.leaf === undefined) console.log('absent: the path ends in an empty subtree');
 * verifyStateProof(tree.root, key, value, proof); // true for the value the tree holds
 * ```
 */
export interface StateProof {
  readonly siblings: readonly Uint8Array[];
  readonly leaf?: { readonly key: Uint8Array; readonly value: Uint8Array };
}

/**
 * Checks a proof: that under `root`, `key` maps to `value` (or is absent, when `value` is `undefined`).
 * Pure and browser-safe; returns `false` (never throws) on any malformed or mismatching input.
 *
 * @example
 * ```ts
 * const proof = await tree.prove(key);
 * verifyStateProof(tree.root, key, value, proof); // true
 * ```
 */
export function verifyStateProof(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: StateProof,
): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.length !== 32 || !(key instanceof Uint8Array) || key.length !== 32)
      return false;
    const siblings = proof?.siblings;
    if (!Array.isArray(siblings) || siblings.length > 256) return false;
    for (const s of siblings) if (!(s instanceof Uint8Array) || s.length !== 32) return false;
    let h: string;
    const leaf = proof.leaf;
    if (leaf === undefined) {
      if (value !== undefined) return false;
      h = EMPTY_BINARY;
    } else {
      if (!(leaf.key instanceof Uint8Array) || leaf.key.length !== 32 || !(leaf.value instanceof Uint8Array))
        return false;
      if (leaf.value.length > MAX_VALUE_BYTES) return false;
      const same = bytesEqual(leaf.key, key);
      if (value === undefined) {
        if (same) return false; // the key is present: no exclusion
        for (let i = 0; i < siblings.length; i++) if (keyBit(leaf.key, i) !== keyBit(key, i)) return false;
      } else if (!same || !bytesEqual(leaf.value, value)) {
        return false;
      }
      h = binaryLeafHash(toBinary(leaf.key), leaf.value);
    }
    // Fold the path bottom-up: the running hash stays a binary string, siblings are copied in as bytes.
    const buf = verifyInput;
    for (let i = siblings.length - 1; i >= 0; i--) {
      const s = siblings[i]!;
      const hashAt = keyBit(key, i) === 0 ? 1 : 33;
      const siblingAt = 34 - hashAt;
      for (let j = 0; j < 32; j++) buf[hashAt + j] = h.charCodeAt(j);
      buf.set(s, siblingAt);
      h = sha256Binary(buf);
    }
    if (h.length !== 32) return false;
    for (let j = 0; j < 32; j++) if (h.charCodeAt(j) !== root[j]) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * JSON form of a proof: hex strings.
 *
 * @example
 * ```ts
 * import { stateProofToJson } from '@aitbc/chain-core';
 * const json = stateProofToJson(await tree.prove(key)); // { siblings: ['0x…'], leaf?: { key, value } }
 * ```
 */
export interface StateProofJson {
  readonly siblings: readonly string[];
  readonly leaf?: { readonly key: string; readonly value: string };
}

/**
 * Encodes a proof for the wire.
 *
 * @example
 * ```ts
 * import { stateProofToJson } from '@aitbc/chain-core';
 * const body = JSON.stringify({ proof: stateProofToJson(await tree.prove(key)) });
 * ```
 */
export function stateProofToJson(proof: StateProof): StateProofJson {
  const siblings = proof.siblings.map(toHex0x);
  return proof.leaf === undefined
    ? { siblings }
    : { siblings, leaf: { key: toHex0x(proof.leaf.key), value: toHex0x(proof.leaf.value) } };
}

/**
 * Decodes a proof from the wire, strictly.
 * @throws AitbcError `CHAIN_BAD_PROOF`.
 *
 * @example
 * ```ts
 * import { stateProofFromJson, verifyStateProof } from '@aitbc/chain-core';
 * const proof = stateProofFromJson(JSON.parse(text).proof);
 * verifyStateProof(stateRoot, key, value, proof);
 * ```
 */
export function stateProofFromJson(json: unknown): StateProof {
  const bad = (why: string) => new AitbcError('CHAIN_BAD_PROOF', `state proof: ${why}`);
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const o = json as { siblings?: unknown; leaf?: unknown };
  if (!Array.isArray(o.siblings) || o.siblings.length > 256)
    throw bad('siblings must be an array of at most 256 hashes');
  const hex = (v: unknown, len?: number): Uint8Array => {
    if (typeof v !== 'string' || !/^0x([0-9a-f]{2})*$/.test(v)) throw bad('expected 0x-prefixed lowercase hex');
    return hexToBytes(v, len);
  };
  const siblings = o.siblings.map((s) => hex(s, 32));
  if (o.leaf === undefined) return { siblings };
  const l = o.leaf as { key?: unknown; value?: unknown };
  const value = hex(l?.value);
  if (value.length > MAX_VALUE_BYTES) throw bad('leaf value too large');
  return { siblings, leaf: { key: hex(l?.key, 32), value } };
}
