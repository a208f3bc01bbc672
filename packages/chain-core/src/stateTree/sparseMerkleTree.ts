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
 * `left`/`right` point at the resolved child nodes. Inside a storage page (below) they are always
 * set for a non-empty child, and so is a child leaf on the page's bottom edge; a child internal node
 * on the edge is the root of another page, linked only near the top of the tree (see
 * {@link SparseMerkleTreeOptions.cacheNodes}) and otherwise looked up by hash. So a `null` pointer
 * beside a non-empty hash always means "an internal node in another page". Content addressing makes
 * a pointer valid forever.
 */
class TreeNode {
  readonly h: string;
  readonly a: string;
  readonly b: string;
  readonly value: Uint8Array | null;
  left: TreeNode | null = null;
  right: TreeNode | null = null;
  /** A leaf's encoded page entry, made once (pages are rewritten whole, their leaves mostly unchanged). */
  enc: Uint8Array | null = null;
  constructor(h: string, a: string, b: string, value: Uint8Array | null) {
    this.h = h;
    this.a = a;
    this.b = b;
    this.value = value;
  }
}

/**
 * Storage pages. The tree hashes as a binary tree, but it is stored in pages of {@link PAGE_LEVELS}
 * levels: one record per internal node at a depth that is a multiple of 4 (and one for the root),
 * holding its whole subtree down to the next page boundary — internal nodes as structure only (their
 * hashes are recomputed when the page is read, which also checks the record against its key), leaves
 * inline, and the internal nodes on the bottom edge by hash. A block touching k keys writes about
 * k·(depth/4) records instead of k·depth, the proof of a key reads depth/4 records, and roots and
 * proofs are exactly those of the binary tree.
 *
 * Record encoding, recursive from the page root: `0x00 key(32) len(u16 BE) value` a leaf, `0x01 left
 * right` an internal node inside the page, `0x02 hash(32)` an internal node that roots another page,
 * `0x03` an empty subtree.
 */
const PAGE_LEVELS = 4;
const T_LEAF = 0;
const T_NODE = 1;
const T_REF = 2;
const T_EMPTY = 3;

/** Whether a node at `depth` roots a storage page. */
function isPageDepth(depth: number): boolean {
  return depth % PAGE_LEVELS === 0;
}

/** The largest encoded page: 15 internal nodes and 16 leaves of the largest value. */
const MAX_PAGE_BYTES = 15 + 16 * (35 + MAX_VALUE_BYTES);

/**
 * A growable byte buffer for encoding one batch of pages. Writes do not check the length: the
 * caller reserves room for a whole record first.
 */
class PageWriter {
  buf: Uint8Array;
  at = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(MAX_PAGE_BYTES, size));
  }
  reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
  byte(b: number): void {
    this.buf[this.at++] = b;
  }
  binary(s: string): void {
    const buf = this.buf;
    const at = this.at;
    for (let i = 0; i < 32; i++) buf[at + i] = s.charCodeAt(i);
    this.at = at + 32;
  }
  leaf(n: TreeNode): void {
    let enc = n.enc;
    if (enc === null) {
      const v = n.value!;
      enc = new Uint8Array(35 + v.length);
      enc[0] = T_LEAF;
      const k = n.a;
      for (let i = 0; i < 32; i++) enc[1 + i] = k.charCodeAt(i);
      enc[33] = v.length >> 8;
      enc[34] = v.length & 0xff;
      enc.set(v, 35);
      n.enc = enc;
    }
    this.buf.set(enc, this.at);
    this.at += enc.length;
  }
}

function corrupt(): never {
  throw new AitbcError('CHAIN_STATE_CORRUPT', 'a stored state page does not decode');
}

/** Writes the page rooted at `n` (relative depth 0). */
function encodePage(n: TreeNode, w: PageWriter): void {
  if (n.value !== null) w.leaf(n);
  else encodeInner(n, 0, w);
}

function encodeInner(n: TreeNode, rel: number, w: PageWriter): void {
  w.byte(T_NODE);
  encodeChild(n.a, n.left, rel + 1, w);
  encodeChild(n.b, n.right, rel + 1, w);
}

function encodeChild(h: string, c: TreeNode | null, rel: number, w: PageWriter): void {
  if (h === EMPTY_BINARY) {
    w.byte(T_EMPTY);
  } else if (c !== null && c.value !== null) {
    w.leaf(c);
  } else if (rel === PAGE_LEVELS) {
    w.byte(T_REF);
    w.binary(h);
  } else if (c === null) {
    // Only an internal node on the page's bottom edge may be unresolved (TreeNode's invariant).
    throw new AitbcError('CHAIN_STATE_CORRUPT', 'a state page is missing a node');
  } else {
    encodeInner(c, rel, w);
  }
}

/** Reads the page stored under hash `h`; its recomputed root hash must be `h`. */
function decodePage(h: string, bytes: Uint8Array): TreeNode {
  const at = { i: 0 };
  const n = decodeNode(bytes, at, 0);
  if (n === null || at.i !== bytes.length || n.h !== h) corrupt();
  return n;
}

/** One encoded subtree at relative depth `rel`: `null` for empty, a string for an unresolved reference. */
function decodeNode(bytes: Uint8Array, at: { i: number }, rel: number): TreeNode | null {
  const i = at.i;
  if (i >= bytes.length) corrupt();
  const tag = bytes[i]!;
  if (tag === T_EMPTY) {
    at.i = i + 1;
    return null;
  }
  if (tag === T_LEAF) {
    if (i + 35 > bytes.length) corrupt();
    const len = (bytes[i + 33]! << 8) | bytes[i + 34]!;
    const end = i + 35 + len;
    if (len > MAX_VALUE_BYTES || end > bytes.length) corrupt();
    const key = toBinary(bytes.subarray(i + 1, i + 33));
    const enc = bytes.slice(i, end);
    const value = enc.subarray(35);
    at.i = end;
    const n = new TreeNode(binaryLeafHash(key, value), key, '', value);
    n.enc = enc;
    return n;
  }
  if (tag === T_NODE) {
    if (rel >= PAGE_LEVELS) corrupt();
    at.i = i + 1;
    const [lh, l] = decodeChild(bytes, at, rel + 1);
    const [rh, r] = decodeChild(bytes, at, rel + 1);
    if (lh === EMPTY_BINARY && rh === EMPTY_BINARY) corrupt();
    const n = new TreeNode(binaryNodeHash(lh, rh), lh, rh, null);
    n.left = l;
    n.right = r;
    return n;
  }
  return corrupt();
}

function decodeChild(bytes: Uint8Array, at: { i: number }, rel: number): [string, TreeNode | null] {
  const i = at.i;
  if (bytes[i] === T_REF) {
    if (rel !== PAGE_LEVELS || i + 33 > bytes.length) corrupt();
    at.i = i + 33;
    const h = toBinary(bytes.subarray(i + 1, i + 33));
    if (h === EMPTY_BINARY) corrupt();
    return [h, null];
  }
  const n = decodeNode(bytes, at, rel);
  return n === null ? [EMPTY_BINARY, null] : [n.h, n];
}

/** A bounded map of decoded pages (by root hash) shared by every view of one tree. */
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

/**
 * Options of {@link SparseMerkleTree}.
 *
 * @example
 * ```ts
 * import { SparseMerkleTree } from '@aitbc/chain-core';
 * const tree = new SparseMerkleTree(store, stateRoot, { cacheNodes: 200_000 }); // a smaller cache
 * ```
 */
export interface SparseMerkleTreeOptions {
  /**
   * Decoded nodes kept in memory (default 1,000,000 ≈ a 500k-key tree). About half of the budget is
   * the top of the tree, linked by pointers (the levels above log2(cacheNodes) − 1); the rest is a
   * bounded map of deeper storage pages by hash (a page holds about four nodes on average).
   */
  readonly cacheNodes?: number;
  /** Key prefix of page records in the store (default `0x11`). */
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
 *
 * @example
 * ```ts
 * await tree.update(changes);
 * const snapshot = tree.stash(); // the tree is back at its committed root
 * if (tree.restore(snapshot)) await store.batch(tree.commitOps()); // staged again, then persisted
 * ```
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

/**
 * One change for {@link SparseMerkleTree.update}: a key and its new value, or `null` to delete it.
 *
 * @example
 * ```ts
 * import type { StateChange } from '@aitbc/chain-core';
 * const changes: StateChange[] = [[keyA, valueA], [keyB, null]]; // set A, delete B
 * await tree.update(changes);
 * ```
 */
export type StateChange = readonly [key: Uint8Array, value: Uint8Array | null];

function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new AitbcError('CHAIN_STATE_BAD_KEY', 'state keys are 32 bytes');
}

/**
 * An authenticated map from 32-byte keys to byte values: a binary sparse Merkle tree with path
 * compression (a subtree holding one key is that key's leaf), whose root commits to every entry.
 * It is stored in a {@link KVStore} in content-addressed pages of four levels (one record per page,
 * checked against its hash when read), so every committed root stays readable and a path of depth d
 * costs about d/4 records to write or read.
 *
 * Updates are batched: {@link update} sorts the keys and recomputes each touched node once (O(k log n)
 * for k keys in a tree of n), stages the new nodes in memory, and {@link commitOps} hands the writes of
 * the touched pages to the caller, who persists them in the same atomic batch as the block that
 * produced them. Reads go through a bounded cache of decoded pages, then the store's synchronous
 * `getSync` when it has one (no await per page), else a page-level-by-page-level `getMany` prefetch.
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
      cache: new NodeCache(Math.ceil(cacheNodes / 4)),
      prefix: options.prefix ?? Uint8Array.of(0x11),
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

  /** The store writes that persist every staged page; clears the staging area (the root is now committed). */
  commitOps(): BatchOp[] {
    const pages: TreeNode[] = [...this.#staged.values()];
    // A root that is a leaf moved up by a delete is not staged, but every root has its record.
    const top = this.#rootNode;
    if (this.#root !== this.#committed && top !== undefined && top !== null && !this.#staged.has(top.h))
      pages.push(top);
    const prefix = this.#shared.prefix;
    const p = prefix.length;
    // Every key and value of the batch in one slab: views of it cost no allocation of their own.
    const w = new PageWriter(pages.length * (p + 32 + 320));
    const ends: number[] = new Array(pages.length * 2);
    for (let i = 0; i < pages.length; i++) {
      const n = pages[i]!;
      w.reserve(p + 32 + MAX_PAGE_BYTES);
      w.buf.set(prefix, w.at);
      w.at += p;
      w.binary(n.h);
      ends[2 * i] = w.at;
      encodePage(n, w);
      ends[2 * i + 1] = w.at;
    }
    const slab = w.buf;
    const ops: BatchOp[] = new Array(pages.length);
    let at = 0;
    for (let i = 0; i < pages.length; i++) {
      const k = ends[2 * i]!;
      const e = ends[2 * i + 1]!;
      ops[i] = { type: 'put', key: slab.subarray(at, k), value: slab.subarray(k, e) };
      at = e;
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

  /**
   * A child of an internal node at `depth` (`null` when empty). Inside a page it is a pointer; the
   * root of the next page is looked up by hash and linked when near the top.
   */
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
        const decoded = decodePage(h, bytes);
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

  /** Loads, page level by page level with `getMany`, every stored page on the paths of `keys` not yet in memory. */
  async #prefetch(keys: readonly string[]): Promise<void> {
    type Entry = { h: string; node: TreeNode | null; depth: number; keys: readonly string[] };
    const known = (f: Entry): TreeNode | undefined => {
      const n = f.node ?? this.#staged.get(f.h) ?? this.#scratch.get(f.h) ?? this.#shared.cache.get(f.h);
      if (n !== undefined) this.#scratch.set(f.h, n); // pin it for this operation
      return n;
    };
    /** Follows `keys` through one page, collecting the next pages' roots on their paths. */
    const walk = (n: TreeNode, depth: number, ks: readonly string[], next: Entry[]): void => {
      if (n.value !== null || ks.length === 0) return;
      const left = ks.filter((k) => binaryBit(k, depth) === 0);
      const right = left.length === ks.length ? [] : ks.filter((k) => binaryBit(k, depth) === 1);
      const sides: [string, TreeNode | null, readonly string[]][] = [
        [n.a, n.left, left],
        [n.b, n.right, right],
      ];
      for (const [h, c, sub] of sides) {
        if (sub.length === 0 || h === EMPTY_BINARY) continue;
        if (isPageDepth(depth + 1)) next.push({ h, node: c, depth: depth + 1, keys: sub });
        else if (c !== null) walk(c, depth + 1, sub, next);
      }
    };
    let frontier: Entry[] = [{ h: this.#root, node: this.#rootNode ?? null, depth: 0, keys }];
    while (frontier.length > 0) {
      const missing = frontier.filter((f) => f.h !== EMPTY_BINARY && known(f) === undefined);
      if (missing.length > 0) {
        const values = await this.#shared.store.getMany(missing.map((f) => this.#storeKey(f.h)));
        values.forEach((v, i) => {
          if (v === undefined) return;
          const h = missing[i]!.h;
          const decoded = decodePage(h, v);
          this.#scratch.set(h, decoded);
          this.#shared.cache.set(h, decoded);
        });
      }
      const next: Entry[] = [];
      for (const f of frontier) {
        const n = f.h === EMPTY_BINARY ? undefined : this.#scratch.get(f.h);
        if (n !== undefined) walk(n, f.depth, f.keys, next);
      }
      frontier = next;
    }
  }

  #stageLeaf(key: string, value: Uint8Array): TreeNode {
    return new TreeNode(binaryLeafHash(key, value), key, '', value);
  }

  #stageNode(left: string, right: string, l: TreeNode | null, r: TreeNode | null, depth: number): TreeNode {
    const n = new TreeNode(binaryNodeHash(left, right), left, right, null);
    // Pointers inside the page and to edge leaves always; to the next page's root near the top only.
    if (!isPageDepth(depth + 1) || depth < this.#shared.pinDepth) {
      n.left = l;
      n.right = r;
    } else {
      n.left = l !== null && l.value !== null ? l : null;
      n.right = r !== null && r.value !== null ? r : null;
    }
    if (isPageDepth(depth)) {
      this.#staged.set(n.h, n);
      if (depth > this.#shared.pinDepth) this.#stagedDeep.push(n);
    }
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
    if (count === 1) return this.#stageLeaf(keys[lo]!, values[lo]!);
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
    // An unchanged side's pointer is set unless it is another page's (internal) root: no load needed.
    if (lh === EMPTY_BINARY && rh === EMPTY_BINARY) return null;
    if (lh === EMPTY_BINARY) {
      const only = r === undefined ? node.right : r;
      if (only !== null && only.value !== null) return only;
    }
    if (rh === EMPTY_BINARY) {
      const only = l === undefined ? node.left : l;
      if (only !== null && only.value !== null) return only;
    }
    return this.#stageNode(lh, rh, l === undefined ? node.left : l, r === undefined ? node.right : r, depth);
  }
}
