import { AitbcError } from '@aitbc/crypto';
import type { BatchOp, KVStore } from '../kvStore.js';
import {
  binaryBit,
  binaryLeafHash,
  binaryNodeHash,
  EMPTY_BINARY,
  fromBinary,
  MAX_VALUE_BYTES,
  toBinary,
} from './binaryHash.js';
import { EMPTY_HASH, type StateProof } from './stateProof.js';

/**
 * A decoded tree node; hashes and keys are 32-char binary strings (see binaryHash.ts). One shape for
 * both kinds keeps property access monomorphic: an internal node has `value === null` and children
 * `a` (left) and `b` (right); a leaf has its key in `a`, `b === ''` and its value.
 *
 * `left`/`right` are the resolved child nodes, filled in as they are first used, for nodes near the
 * top (see {@link SparseMerkleTreeOptions.cacheNodes}): walking a path then follows pointers instead
 * of looking every level up by hash. Content addressing makes a pointer valid forever.
 */
class TreeNode {
  readonly h: string;
  readonly a: string;
  readonly b: string;
  readonly value: Uint8Array | null;
  left: TreeNode | null = null;
  right: TreeNode | null = null;
  constructor(h: string, a: string, b: string, value: Uint8Array | null) {
    this.h = h;
    this.a = a;
    this.b = b;
    this.value = value;
  }
}

function encodeNode(n: TreeNode, out: Uint8Array): void {
  const v = n.value;
  const a = n.a;
  if (v === null) {
    const b = n.b;
    out[0] = 1;
    for (let i = 0; i < 32; i++) {
      out[1 + i] = a.charCodeAt(i);
      out[33 + i] = b.charCodeAt(i);
    }
  } else {
    for (let i = 0; i < 32; i++) out[1 + i] = a.charCodeAt(i);
    out[0] = 0;
    out.set(v, 33);
  }
}

function decodeNode(h: string, bytes: Uint8Array): TreeNode {
  if (bytes[0] === 0 && bytes.length >= 33)
    return new TreeNode(h, toBinary(bytes.subarray(1, 33)), '', bytes.slice(33));
  if (bytes[0] === 1 && bytes.length === 65)
    return new TreeNode(h, toBinary(bytes.subarray(1, 33)), toBinary(bytes.subarray(33, 65)), null);
  throw new AitbcError('CHAIN_STATE_CORRUPT', 'a stored state node does not decode');
}

/** A bounded map of decoded nodes shared by every view of one tree. */
class NodeCache {
  readonly #map = new Map<string, TreeNode>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = Math.max(1, max);
  }
  get(k: string): TreeNode | undefined {
    return this.#map.get(k);
  }
  set(k: string, n: TreeNode): void {
    if (this.#map.size >= this.#max) {
      // Evict the oldest eighth at once: cheap, and upper levels are re-inserted on their next use.
      let drop = Math.max(1, this.#max >> 3);
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
  /**
   * Decoded nodes kept in memory (default 1,000,000 ≈ a 500k-key tree). About half of the budget is
   * the top of the tree, linked by pointers (the levels above log2(cacheNodes) − 1); the rest is a
   * bounded map of deeper nodes by hash.
   */
  readonly cacheNodes?: number;
  /** Key prefix of node records in the store (default `0x10`). */
  readonly prefix?: Uint8Array;
}

interface Shared {
  readonly store: KVStore;
  readonly cache: NodeCache;
  readonly prefix: Uint8Array;
  /** Nodes at depths below this keep pointers to their children. */
  readonly pinDepth: number;
  /** The last committed root and its node, so views at the head start from the linked top. */
  head: { readonly h: string; readonly node: TreeNode | null } | undefined;
}

/**
 * Staged changes taken out of a {@link SparseMerkleTree} by {@link SparseMerkleTree.stash}, to be
 * staged again by {@link SparseMerkleTree.restore}. Opaque apart from its root.
 */
export interface StagedSnapshot {
  /** The root the snapshot's changes lead to. */
  readonly root: Uint8Array;
}

class Snapshot implements StagedSnapshot {
  constructor(
    readonly owner: SparseMerkleTree,
    readonly base: string,
    readonly rootHash: string,
    readonly rootNode: TreeNode | null | undefined,
    readonly staged: Map<string, TreeNode>,
    readonly stagedDeep: TreeNode[],
  ) {}
  get root(): Uint8Array {
    return fromBinary(this.rootHash);
  }
}

/** One change for {@link SparseMerkleTree.update}: a key and its new value, or `null` to delete it. */
export type StateChange = readonly [key: Uint8Array, value: Uint8Array | null];

function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new AitbcError('CHAIN_STATE_BAD_KEY', 'state keys are 32 bytes');
}

/**
 * An authenticated map from 32-byte keys to byte values: a binary sparse Merkle tree with path
 * compression (a subtree holding one key is that key's leaf), whose root commits to every entry.
 * Nodes are content-addressed in a {@link KVStore}, so every committed root stays readable.
 *
 * Updates are batched: {@link update} sorts the keys and recomputes each touched node once (O(k log n)
 * for k keys in a tree of n), stages the new nodes in memory, and {@link commitOps} hands their writes
 * to the caller, who persists them in the same atomic batch as the block that produced them. Reads go
 * through a bounded cache of decoded nodes, then the store's synchronous `getSync` when it has one
 * (no await per node), else a level-by-level `getMany` prefetch.
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
  #root: string;
  /** The root's node: `null` for the empty tree, `undefined` until first resolved. */
  #rootNode: TreeNode | null | undefined;
  #committed: string;
  #committedNode: TreeNode | null | undefined;
  /** New nodes of the pending update, by hash. */
  #staged = new Map<string, TreeNode>();
  /** Staged nodes too deep for a parent pointer: they go into the hash-keyed cache on commit. */
  #stagedDeep: TreeNode[] = [];
  /** Nodes prefetched for the operation in progress (not subject to cache eviction). */
  readonly #scratch = new Map<string, TreeNode>();

  constructor(store: KVStore, root: Uint8Array = EMPTY_HASH, options: SparseMerkleTreeOptions = {}) {
    if (!(root instanceof Uint8Array) || root.length !== 32)
      throw new AitbcError('CHAIN_STATE_BAD_KEY', 'root must be 32 bytes');
    const cacheNodes = Math.max(1, options.cacheNodes ?? 1_000_000);
    this.#shared = {
      store,
      cache: new NodeCache(cacheNodes),
      prefix: options.prefix ?? Uint8Array.of(0x10),
      pinDepth: Math.max(0, Math.floor(Math.log2(cacheNodes)) - 1),
      head: undefined,
    };
    this.#root = toBinary(root);
    this.#rootNode = this.#root === EMPTY_BINARY ? null : undefined;
    this.#committed = this.#root;
    this.#committedNode = this.#rootNode;
  }

  /** The current root, including staged changes. */
  get root(): Uint8Array {
    return fromBinary(this.#root);
  }

  /** A view of the same store at another (older) root, sharing the node cache. */
  checkout(root: Uint8Array): SparseMerkleTree {
    const view = new SparseMerkleTree(this.#shared.store, root, { prefix: this.#shared.prefix, cacheNodes: 1 });
    view.#shared = this.#shared;
    const head = this.#shared.head;
    if (head !== undefined && head.h === view.#root) {
      view.#rootNode = head.node;
      view.#committedNode = head.node;
    }
    return view;
  }

  /** The value at `key` (staged changes included), or `undefined`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkKey(key);
    const k = toBinary(key);
    if (this.#shared.store.getSync !== undefined) return this.#get(k);
    try {
      await this.#prefetch([k]);
      return this.#get(k);
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
    const byKey = new Map<string, Uint8Array | null>();
    for (const c of changes) {
      checkKey(c[0]);
      const v = c[1];
      if (v !== null) {
        if (!(v instanceof Uint8Array))
          throw new AitbcError('CHAIN_STATE_BAD_VALUE', 'values must be Uint8Array or null');
        if (v.length > MAX_VALUE_BYTES)
          throw new AitbcError('CHAIN_STATE_VALUE_TOO_LARGE', `values are limited to ${MAX_VALUE_BYTES} bytes`);
      }
      byKey.set(toBinary(c[0]), v === null ? null : v.slice());
    }
    if (byKey.size === 0) return this.root;
    // Binary strings compare by char code: the same order as unsigned bytes.
    const keys = [...byKey.keys()].sort();
    const values = keys.map((k) => byKey.get(k)!);
    const sync = this.#shared.store.getSync !== undefined;
    try {
      if (!sync) await this.#prefetch(keys);
      const node = this.#apply(this.#top(), 0, keys, values, 0, keys.length);
      this.#rootNode = node;
      this.#root = node === null ? EMPTY_BINARY : node.h;
    } finally {
      if (!sync) this.#scratch.clear();
    }
    return this.root;
  }

  /** The store writes that persist every staged node; clears the staging area (the root is now committed). */
  commitOps(): BatchOp[] {
    const ops: BatchOp[] = new Array(this.#staged.size);
    const prefix = this.#shared.prefix;
    const p = prefix.length;
    // One slab for every key and value of the batch: views of it cost no allocation of their own.
    let bytes = 0;
    for (const n of this.#staged.values()) bytes += p + 32 + (n.value === null ? 65 : 33 + n.value.length);
    const slab = new Uint8Array(bytes);
    let at = 0;
    let i = 0;
    for (const [h, n] of this.#staged) {
      const key = slab.subarray(at, at + p + 32);
      key.set(prefix);
      for (let j = 0; j < 32; j++) key[p + j] = h.charCodeAt(j);
      at += p + 32;
      const size = n.value === null ? 65 : 33 + n.value.length;
      const value = slab.subarray(at, at + size);
      encodeNode(n, value);
      at += size;
      ops[i++] = { type: 'put', key, value };
    }
    const cache = this.#shared.cache;
    for (const n of this.#stagedDeep) cache.set(n.h, n);
    this.#staged = new Map();
    this.#stagedDeep = [];
    this.#committed = this.#root;
    this.#committedNode = this.#rootNode;
    this.#shared.head = { h: this.#root, node: this.#rootNode ?? null };
    if (this.#rootNode === undefined) this.#shared.head = undefined;
    return ops;
  }

  /** Drops staged changes, back to the last committed root. */
  rollback(): void {
    this.#staged = new Map();
    this.#stagedDeep = [];
    this.#root = this.#committed;
    this.#rootNode = this.#committedNode;
  }

  /**
   * Takes the staged changes out of the tree (as {@link rollback} does) and returns them, so that
   * {@link restore} can stage them again later without recomputing them — e.g. a block validated
   * now and imported once it is decided. The snapshot is only valid on the same committed root.
   */
  stash(): StagedSnapshot {
    const snapshot = new Snapshot(this, this.#committed, this.#root, this.#rootNode, this.#staged, this.#stagedDeep);
    this.rollback();
    return snapshot;
  }

  /**
   * Stages a {@link stash}ed snapshot again, in place of any staged changes. Returns false (and
   * changes nothing) if the snapshot was taken from another tree or on another committed root.
   */
  restore(snapshot: StagedSnapshot): boolean {
    if (!(snapshot instanceof Snapshot) || snapshot.owner !== this || snapshot.base !== this.#committed) return false;
    this.#staged = snapshot.staged;
    this.#stagedDeep = snapshot.stagedDeep;
    this.#root = snapshot.rootHash;
    this.#rootNode = snapshot.rootNode;
    return true;
  }

  /** An inclusion proof (the key is present) or an exclusion proof (absent) against {@link root}. */
  async prove(key: Uint8Array): Promise<StateProof> {
    checkKey(key);
    const k = toBinary(key);
    if (this.#shared.store.getSync !== undefined) return this.#prove(k);
    try {
      await this.#prefetch([k]);
      return this.#prove(k);
    } finally {
      this.#scratch.clear();
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  /** The root's node, resolved. */
  #top(): TreeNode | null {
    if (this.#rootNode === undefined) this.#rootNode = this.#node(this.#root);
    return this.#rootNode;
  }

  /** A child of an internal node at `depth` (`null` when empty), linking it when near the top. */
  #child(n: TreeNode, bit: number, depth: number): TreeNode | null {
    if (bit === 0) {
      let c = n.left;
      if (c !== null) return c;
      if (n.a === EMPTY_BINARY) return null;
      c = this.#node(n.a);
      if (depth < this.#shared.pinDepth) n.left = c;
      return c;
    }
    let c = n.right;
    if (c !== null) return c;
    if (n.b === EMPTY_BINARY) return null;
    c = this.#node(n.b);
    if (depth < this.#shared.pinDepth) n.right = c;
    return c;
  }

  #get(key: string): Uint8Array | undefined {
    let n = this.#top();
    for (let depth = 0; n !== null; depth++) {
      if (n.value !== null) return n.a === key ? n.value.slice() : undefined;
      n = this.#child(n, binaryBit(key, depth), depth);
    }
    return undefined;
  }

  #prove(key: string): StateProof {
    const siblings: Uint8Array[] = [];
    let n = this.#top();
    for (let depth = 0; n !== null; depth++) {
      if (n.value !== null) return { siblings, leaf: { key: fromBinary(n.a), value: n.value.slice() } };
      const bit = binaryBit(key, depth);
      siblings.push(fromBinary(bit === 1 ? n.a : n.b));
      n = this.#child(n, bit, depth);
    }
    return { siblings };
  }

  #node(h: string): TreeNode {
    const n = this.#staged.get(h) ?? this.#shared.cache.get(h) ?? this.#scratch.get(h);
    if (n !== undefined) return n;
    const getSync = this.#shared.store.getSync;
    if (getSync !== undefined) {
      const bytes = getSync(this.#storeKey(h));
      if (bytes !== undefined) {
        const decoded = decodeNode(h, bytes);
        this.#shared.cache.set(h, decoded);
        return decoded;
      }
    }
    throw new AitbcError('CHAIN_STATE_MISSING_NODE', 'a state node is not in the store (unknown or pruned root)');
  }

  #storeKey(h: string): Uint8Array {
    const p = this.#shared.prefix.length;
    const key = new Uint8Array(p + 32);
    key.set(this.#shared.prefix);
    for (let i = 0; i < 32; i++) key[p + i] = h.charCodeAt(i);
    return key;
  }

  /** Loads, level by level with `getMany`, every stored node on the paths of `keys` not yet in memory. */
  async #prefetch(keys: readonly string[]): Promise<void> {
    type Entry = { h: string; node: TreeNode | null; depth: number; keys: readonly string[] };
    const known = (f: Entry): TreeNode | undefined => {
      const n = f.node ?? this.#staged.get(f.h) ?? this.#scratch.get(f.h) ?? this.#shared.cache.get(f.h);
      if (n !== undefined) this.#scratch.set(f.h, n); // pin it for this operation
      return n;
    };
    let frontier: Entry[] = [{ h: this.#root, node: this.#rootNode ?? null, depth: 0, keys }];
    while (frontier.length > 0) {
      const missing = frontier.filter((f) => f.h !== EMPTY_BINARY && known(f) === undefined);
      if (missing.length > 0) {
        const values = await this.#shared.store.getMany(missing.map((f) => this.#storeKey(f.h)));
        values.forEach((v, i) => {
          if (v === undefined) return;
          const h = missing[i]!.h;
          const decoded = decodeNode(h, v);
          this.#scratch.set(h, decoded);
          this.#shared.cache.set(h, decoded);
        });
      }
      const next: Entry[] = [];
      for (const f of frontier) {
        if (f.keys.length === 0 || f.h === EMPTY_BINARY) continue;
        const n = this.#scratch.get(f.h);
        if (n === undefined || n.value !== null) continue;
        // Both children are loaded (an update must know whether an untouched sibling is a leaf, to
        // compress the path); only those on a key's path are expanded further.
        const d = f.depth;
        next.push({ h: n.a, node: n.left, depth: d + 1, keys: f.keys.filter((k) => binaryBit(k, d) === 0) });
        next.push({ h: n.b, node: n.right, depth: d + 1, keys: f.keys.filter((k) => binaryBit(k, d) === 1) });
      }
      frontier = next;
    }
  }

  #stageLeaf(key: string, value: Uint8Array, depth: number): TreeNode {
    const n = new TreeNode(binaryLeafHash(key, value), key, '', value);
    this.#staged.set(n.h, n);
    if (depth > this.#shared.pinDepth) this.#stagedDeep.push(n);
    return n;
  }

  #stageNode(left: string, right: string, l: TreeNode | null, r: TreeNode | null, depth: number): TreeNode {
    const n = new TreeNode(binaryNodeHash(left, right), left, right, null);
    if (depth < this.#shared.pinDepth) {
      n.left = l;
      n.right = r;
    }
    this.#staged.set(n.h, n);
    if (depth > this.#shared.pinDepth) this.#stagedDeep.push(n);
    return n;
  }

  /** Builds the subtree at `depth` for sorted leaves `[lo, hi)` (puts only). */
  #fromLeaves(
    depth: number,
    keys: readonly string[],
    values: readonly Uint8Array[],
    lo: number,
    hi: number,
  ): TreeNode | null {
    const count = hi - lo;
    if (count === 0) return null;
    if (count === 1) return this.#stageLeaf(keys[lo]!, values[lo]!, depth);
    let mid = lo;
    while (mid < hi && binaryBit(keys[mid]!, depth) === 0) mid++;
    const l = this.#fromLeaves(depth + 1, keys, values, lo, mid);
    const r = this.#fromLeaves(depth + 1, keys, values, mid, hi);
    return this.#stageNode(l === null ? EMPTY_BINARY : l.h, r === null ? EMPTY_BINARY : r.h, l, r, depth);
  }

  /** The new subtree (`null` = empty) replacing `node` at `depth` after applying sorted changes `[lo, hi)`. */
  #apply(
    node: TreeNode | null,
    depth: number,
    keys: readonly string[],
    values: readonly (Uint8Array | null)[],
    lo: number,
    hi: number,
  ): TreeNode | null {
    if (lo === hi) return node;
    if (node === null) {
      const k: string[] = [];
      const v: Uint8Array[] = [];
      for (let i = lo; i < hi; i++) {
        const value = values[i]!;
        if (value !== null) {
          k.push(keys[i]!);
          v.push(value);
        }
      }
      return this.#fromLeaves(depth, k, v, 0, k.length);
    }
    if (node.value !== null) {
      // Merge the existing leaf into the change set unless a change replaces it.
      const k: string[] = [];
      const v: Uint8Array[] = [];
      let placed = false;
      for (let i = lo; i < hi; i++) {
        const key = keys[i]!;
        if (!placed && node.a < key) {
          k.push(node.a);
          v.push(node.value);
          placed = true;
        }
        if (node.a === key) placed = true;
        const value = values[i]!;
        if (value !== null) {
          k.push(key);
          v.push(value);
        }
      }
      if (!placed) {
        k.push(node.a);
        v.push(node.value);
      }
      return this.#fromLeaves(depth, k, v, 0, k.length);
    }
    let mid = lo;
    while (mid < hi && binaryBit(keys[mid]!, depth) === 0) mid++;
    // A side without changes is left unresolved (`undefined`): only its hash is needed, unless the
    // other side empties and path compression must know whether it is a leaf.
    let l: TreeNode | null | undefined;
    let lh = node.a;
    if (mid > lo) {
      l = this.#apply(this.#child(node, 0, depth), depth + 1, keys, values, lo, mid);
      lh = l === null ? EMPTY_BINARY : l.h;
    }
    let r: TreeNode | null | undefined;
    let rh = node.b;
    if (hi > mid) {
      r = this.#apply(this.#child(node, 1, depth), depth + 1, keys, values, mid, hi);
      rh = r === null ? EMPTY_BINARY : r.h;
    }
    if (lh === node.a && rh === node.b) return node;
    // Path compression: a subtree holding a single leaf is that leaf.
    if (lh === EMPTY_BINARY && rh === EMPTY_BINARY) return null;
    if (lh === EMPTY_BINARY) {
      const only = r === undefined ? this.#child(node, 1, depth)! : r!;
      if (only.value !== null) return only;
    }
    if (rh === EMPTY_BINARY) {
      const only = l === undefined ? this.#child(node, 0, depth)! : l!;
      if (only.value !== null) return only;
    }
    return this.#stageNode(lh, rh, l === undefined ? node.left : l, r === undefined ? node.right : r, depth);
  }
}
