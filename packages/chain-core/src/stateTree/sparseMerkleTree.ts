import { AitbcError, bytesEqual, compareBytes } from '@aitbc/crypto';
import type { BatchOp, KVStore } from '../kvStore.js';
import { EMPTY_HASH, keyBit, leafHash, MAX_VALUE_BYTES, nodeHash, type StateProof } from './stateProof.js';

/** A decoded tree node. */
type Node =
  | { readonly kind: 'leaf'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'node'; readonly left: Uint8Array; readonly right: Uint8Array };

/** Latin-1 string of bytes: a cheap Map key. */
function bin(bytes: Uint8Array): string {
  // apply() with a typed array is several times faster than spreading it (measured on Node 20).
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function encodeNode(n: Node): Uint8Array {
  if (n.kind === 'leaf') {
    const out = new Uint8Array(33 + n.value.length);
    out[0] = 0;
    out.set(n.key, 1);
    out.set(n.value, 33);
    return out;
  }
  const out = new Uint8Array(65);
  out[0] = 1;
  out.set(n.left, 1);
  out.set(n.right, 33);
  return out;
}

function decodeNode(bytes: Uint8Array): Node {
  if (bytes[0] === 0 && bytes.length >= 33) return { kind: 'leaf', key: bytes.slice(1, 33), value: bytes.slice(33) };
  if (bytes[0] === 1 && bytes.length === 65)
    return { kind: 'node', left: bytes.slice(1, 33), right: bytes.slice(33, 65) };
  throw new AitbcError('CHAIN_STATE_CORRUPT', 'a stored state node does not decode');
}

/** A bounded map of decoded nodes shared by every view of one tree. */
class NodeCache {
  readonly #map = new Map<string, Node>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(k: string): Node | undefined {
    return this.#map.get(k);
  }
  set(k: string, n: Node): void {
    if (this.#map.size >= this.#max) {
      // Evict the oldest eighth at once: cheap, and upper levels are re-inserted on their next use.
      let drop = this.#max >> 3;
      for (const key of this.#map.keys()) {
        this.#map.delete(key);
        if (--drop <= 0) break;
      }
    }
    this.#map.set(k, n);
  }
}

/** Options of {@link SparseMerkleTree}. */
export interface SparseMerkleTreeOptions {
  /** Decoded nodes kept in memory (default 1,000,000 ≈ the top of a 1M-key tree plus hot paths). */
  readonly cacheNodes?: number;
  /** Key prefix of node records in the store (default `0x10`). */
  readonly prefix?: Uint8Array;
}

interface Shared {
  readonly store: KVStore;
  readonly cache: NodeCache;
  readonly prefix: Uint8Array;
}

/** One change for {@link SparseMerkleTree.update}: a key and its new value, or `null` to delete it. */
export type StateChange = readonly [key: Uint8Array, value: Uint8Array | null];

/**
 * An authenticated map from 32-byte keys to byte values: a binary sparse Merkle tree with path
 * compression (a subtree holding one key is that key's leaf), whose root commits to every entry.
 * Nodes are content-addressed in a {@link KVStore}, so every committed root stays readable.
 *
 * Updates are batched: {@link update} recomputes each touched node once (O(k log n) for k keys in a
 * tree of n), stages the new nodes in memory, and {@link commitOps} hands their writes to the caller,
 * who persists them in the same atomic batch as the block that produced them.
 *
 * @example
 * ```ts
 * const tree = new SparseMerkleTree(new MemoryKVStore());
 * await tree.update([[key, value]]);
 * await store.batch(tree.commitOps());
 * const proof = await tree.prove(key);
 * verifyStateProof(tree.root, key, value, proof); // true
 * ```
 */
export class SparseMerkleTree {
  /** Root of the empty tree (32 zero bytes). */
  static readonly EMPTY_ROOT: Uint8Array = EMPTY_HASH;

  #shared: Shared;
  #root: Uint8Array;
  #committed: Uint8Array;
  #staged = new Map<string, Node>();
  /** Nodes prefetched for the operation in progress (not subject to cache eviction). */
  #scratch = new Map<string, Node>();

  constructor(store: KVStore, root: Uint8Array = EMPTY_HASH, options: SparseMerkleTreeOptions = {}) {
    if (!(root instanceof Uint8Array) || root.length !== 32)
      throw new AitbcError('CHAIN_STATE_BAD_KEY', 'root must be 32 bytes');
    this.#shared = {
      store,
      cache: new NodeCache(options.cacheNodes ?? 1_000_000),
      prefix: options.prefix ?? Uint8Array.of(0x10),
    };
    this.#root = root.slice();
    this.#committed = root.slice();
  }

  /** The current root, including staged changes. */
  get root(): Uint8Array {
    return this.#root.slice();
  }

  /** A view of the same store at another (older) root, sharing the node cache. */
  checkout(root: Uint8Array): SparseMerkleTree {
    const view = new SparseMerkleTree(this.#shared.store, root, { prefix: this.#shared.prefix, cacheNodes: 1 });
    view.#shared = this.#shared;
    return view;
  }

  /** The value at `key` (staged changes included), or `undefined`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkKey(key);
    try {
      await this.#prefetch([key]);
      let h = this.#root;
      for (let depth = 0; ; depth++) {
        if (bytesEqual(h, EMPTY_HASH)) return undefined;
        const n = this.#node(h);
        if (n.kind === 'leaf') return bytesEqual(n.key, key) ? n.value.slice() : undefined;
        h = keyBit(key, depth) === 0 ? n.left : n.right;
      }
    } finally {
      this.#scratch.clear();
    }
  }

  /**
   * Stages a batch of changes (`null` deletes) and returns the new root. Later entries for the same
   * key win. Nothing is written until the caller persists {@link commitOps}.
   * @throws AitbcError `CHAIN_STATE_BAD_KEY`, `CHAIN_STATE_VALUE_TOO_LARGE`, `CHAIN_STATE_MISSING_NODE`.
   */
  async update(changes: Iterable<StateChange>): Promise<Uint8Array> {
    const byKey = new Map<string, StateChange>();
    for (const c of changes) {
      checkKey(c[0]);
      if (c[1] !== null) {
        if (!(c[1] instanceof Uint8Array))
          throw new AitbcError('CHAIN_STATE_BAD_VALUE', 'values must be Uint8Array or null');
        if (c[1].length > MAX_VALUE_BYTES)
          throw new AitbcError('CHAIN_STATE_VALUE_TOO_LARGE', `values are limited to ${MAX_VALUE_BYTES} bytes`);
      }
      byKey.set(bin(c[0]), c);
    }
    if (byKey.size === 0) return this.root;
    const sorted = [...byKey.values()].sort((a, b) => compareBytes(a[0], b[0]));
    try {
      await this.#prefetch(sorted.map((c) => c[0]));
      this.#root = this.#apply(this.#root, 0, sorted, 0, sorted.length);
    } finally {
      this.#scratch.clear();
    }
    return this.root;
  }

  /** The store writes that persist every staged node; clears the staging area (the root is now committed). */
  commitOps(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const [k, n] of this.#staged) {
      const key = new Uint8Array(this.#shared.prefix.length + 32);
      key.set(this.#shared.prefix);
      for (let i = 0; i < 32; i++) key[this.#shared.prefix.length + i] = k.charCodeAt(i);
      ops.push({ type: 'put', key, value: encodeNode(n) });
      this.#shared.cache.set(k, n);
    }
    this.#staged = new Map();
    this.#committed = this.#root.slice();
    return ops;
  }

  /** Drops staged changes, back to the last committed root. */
  rollback(): void {
    this.#staged = new Map();
    this.#root = this.#committed.slice();
  }

  /** An inclusion proof (the key is present) or an exclusion proof (absent) against {@link root}. */
  async prove(key: Uint8Array): Promise<StateProof> {
    checkKey(key);
    try {
      await this.#prefetch([key]);
      const siblings: Uint8Array[] = [];
      let h = this.#root;
      for (let depth = 0; ; depth++) {
        if (bytesEqual(h, EMPTY_HASH)) return { siblings };
        const n = this.#node(h);
        if (n.kind === 'leaf') return { siblings, leaf: { key: n.key.slice(), value: n.value.slice() } };
        const right = keyBit(key, depth) === 1;
        siblings.push((right ? n.left : n.right).slice());
        h = right ? n.right : n.left;
      }
    } finally {
      this.#scratch.clear();
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  #node(h: Uint8Array): Node {
    const k = bin(h);
    const n = this.#staged.get(k) ?? this.#scratch.get(k) ?? this.#shared.cache.get(k);
    if (n !== undefined) return n;
    const getSync = this.#shared.store.getSync;
    if (getSync !== undefined) {
      const bytes = getSync(this.#storeKey(h));
      if (bytes !== undefined) {
        const decoded = decodeNode(bytes);
        this.#shared.cache.set(k, decoded);
        return decoded;
      }
    }
    throw new AitbcError('CHAIN_STATE_MISSING_NODE', 'a state node is not in the store (unknown or pruned root)');
  }

  #storeKey(h: Uint8Array): Uint8Array {
    const key = new Uint8Array(this.#shared.prefix.length + 32);
    key.set(this.#shared.prefix);
    key.set(h, this.#shared.prefix.length);
    return key;
  }

  /** Loads, level by level with `getMany`, every stored node on the paths of `keys` not yet in memory. */
  async #prefetch(keys: readonly Uint8Array[]): Promise<void> {
    if (this.#shared.store.getSync !== undefined) return; // read on demand, synchronously
    const known = (h: Uint8Array): Node | undefined => {
      const key = bin(h);
      const n = this.#staged.get(key) ?? this.#scratch.get(key) ?? this.#shared.cache.get(key);
      if (n !== undefined) this.#scratch.set(key, n); // pin it for this operation
      return n;
    };
    let frontier: { h: Uint8Array; depth: number; keys: readonly Uint8Array[] }[] = [{ h: this.#root, depth: 0, keys }];
    while (frontier.length > 0) {
      const missing = frontier.filter((f) => !bytesEqual(f.h, EMPTY_HASH) && known(f.h) === undefined);
      if (missing.length > 0) {
        const values = await this.#shared.store.getMany(missing.map((f) => this.#storeKey(f.h)));
        values.forEach((v, i) => {
          if (v === undefined) return;
          const decoded = decodeNode(v);
          this.#scratch.set(bin(missing[i]!.h), decoded);
          this.#shared.cache.set(bin(missing[i]!.h), decoded);
        });
      }
      const next: typeof frontier = [];
      for (const f of frontier) {
        if (f.keys.length === 0 || bytesEqual(f.h, EMPTY_HASH)) continue;
        const n = this.#scratch.get(bin(f.h));
        if (n === undefined || n.kind === 'leaf') continue;
        // Both children are loaded (an update must know whether an untouched sibling is a leaf, to
        // compress the path); only those on a key's path are expanded further.
        next.push({ h: n.left, depth: f.depth + 1, keys: f.keys.filter((k) => keyBit(k, f.depth) === 0) });
        next.push({ h: n.right, depth: f.depth + 1, keys: f.keys.filter((k) => keyBit(k, f.depth) === 1) });
      }
      frontier = next;
    }
  }

  #stage(n: Node): Uint8Array {
    const h = n.kind === 'leaf' ? leafHash(n.key, n.value) : nodeHash(n.left, n.right);
    this.#staged.set(bin(h), n);
    return h;
  }

  /** Builds the subtree at `depth` for sorted leaves `[lo, hi)` (puts only). */
  #fromLeaves(
    depth: number,
    leaves: readonly (readonly [Uint8Array, Uint8Array])[],
    lo: number,
    hi: number,
  ): Uint8Array {
    const count = hi - lo;
    if (count === 0) return EMPTY_HASH;
    if (count === 1) return this.#stage({ kind: 'leaf', key: leaves[lo]![0], value: leaves[lo]![1] });
    let mid = lo;
    while (mid < hi && keyBit(leaves[mid]![0], depth) === 0) mid++;
    const left = this.#fromLeaves(depth + 1, leaves, lo, mid);
    const right = this.#fromLeaves(depth + 1, leaves, mid, hi);
    return this.#stage({ kind: 'node', left, right });
  }

  /** The new hash of the subtree `h` at `depth` after applying sorted changes `[lo, hi)`. */
  #apply(h: Uint8Array, depth: number, changes: readonly StateChange[], lo: number, hi: number): Uint8Array {
    if (lo === hi) return h;
    if (bytesEqual(h, EMPTY_HASH)) {
      const puts = changes.slice(lo, hi).filter((c): c is readonly [Uint8Array, Uint8Array] => c[1] !== null);
      return this.#fromLeaves(depth, puts, 0, puts.length);
    }
    const n = this.#node(h);
    if (n.kind === 'leaf') {
      // Merge the existing leaf into the change set unless a change replaces it.
      const merged: (readonly [Uint8Array, Uint8Array])[] = [];
      let placed = false;
      for (let i = lo; i < hi; i++) {
        const c = changes[i]!;
        const cmp = compareBytes(n.key, c[0]);
        if (!placed && cmp < 0) {
          merged.push([n.key, n.value]);
          placed = true;
        }
        if (cmp === 0) placed = true;
        if (c[1] !== null) merged.push([c[0], c[1]]);
      }
      if (!placed) merged.push([n.key, n.value]);
      return this.#fromLeaves(depth, merged, 0, merged.length);
    }
    let mid = lo;
    while (mid < hi && keyBit(changes[mid]![0], depth) === 0) mid++;
    const left = this.#apply(n.left, depth + 1, changes, lo, mid);
    const right = this.#apply(n.right, depth + 1, changes, mid, hi);
    // Path compression: a subtree holding a single leaf is that leaf.
    const leftEmpty = bytesEqual(left, EMPTY_HASH);
    const rightEmpty = bytesEqual(right, EMPTY_HASH);
    if (leftEmpty && rightEmpty) return EMPTY_HASH;
    if (leftEmpty && this.#node(right).kind === 'leaf') return right;
    if (rightEmpty && this.#node(left).kind === 'leaf') return left;
    return this.#stage({ kind: 'node', left, right });
  }
}

function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new AitbcError('CHAIN_STATE_BAD_KEY', 'state keys are 32 bytes');
}
