import {
  AitbcError,
  bytesEqual,
  bytesToUtf8,
  concatBytes,
  isAitbcError,
  publicKeyFromSeed,
  toHex0x,
  utf8ToBytes,
  verifyMany,
} from '@aitbc/crypto';
import { parseReceiptJson } from '@aitbc/receipts';
import {
  type Block,
  type BlockHeader,
  blockHash,
  type Commit,
  commitFromJson,
  commitHash,
  commitToJson,
  createValidatorSet,
  frozenBlock,
  isFrozenBlock,
  signBlockHeader,
  txRoot,
  type ValidatorSet,
  verifyBlockSignature,
  ZERO_HASH,
} from './block.js';
import { blockFromStoreBytes, blockStoreBytes } from './blockBytes.js';
import type { Consensus } from './consensus.js';
import { applyGenesis, executeTx } from './executeTx.js';
import { type Genesis, genesisHash } from './genesis.js';
import type { BatchOp, KVStore } from './kvStore.js';
import { type Account, accountKey, type Escrow, escrowKey, LedgerState } from './ledgerState.js';
import type { SignatureCache } from './signatureCache.js';
import { SparseMerkleTree, type StagedSnapshot } from './stateTree/sparseMerkleTree.js';
import type { StateProof } from './stateTree/stateProof.js';
import { type SignedTx, sharedSigningBytes } from './tx.js';

/**
 * Options of {@link createChain}.
 *
 * @example
 * ```ts
 * import { type ChainOptions, createChain, MemoryKVStore } from '@aitbc/chain-core';
 * import { createPoaConsensus } from '@aitbc/consensus-poa';
 * const options: ChainOptions = { store: new MemoryKVStore(), genesis, consensus: createPoaConsensus() };
 * const chain = createChain(options);
 * ```
 */
export interface ChainOptions {
  readonly store: KVStore;
  readonly genesis: Genesis;
  readonly consensus: Consensus;
  /** Signatures verified elsewhere on this node (the mempool): import skips them, and records the ones it verifies. */
  readonly signatureCache?: SignatureCache;
}

/**
 * What {@link Chain.importBlock} reports.
 *
 * @example
 * ```ts
 * const { height, hash, burned } = await chain.importBlock(block, commit);
 * console.log(`imported ${height}, burned ${burned} base units`);
 * ```
 */
export interface ImportResult {
  readonly height: number;
  readonly hash: Uint8Array;
  /** Fees burned by the block's transactions. */
  readonly burned: bigint;
}

/**
 * Listener of imported blocks.
 *
 * @example
 * ```ts
 * import type { BlockListener } from '@aitbc/chain-core';
 * const log: BlockListener = (block, commit) => console.log(block.header.height, commit.signatures.length);
 * const unsubscribe = chain.onBlock(log);
 * ```
 */
export type BlockListener = (block: Block, commit: Commit) => void;

/**
 * A ledger over a store: head tracking, block validation and import, lookups.
 *
 * @example
 * ```ts
 * import { createChain, MemoryKVStore } from '@aitbc/chain-core';
 * import { createPoaConsensus } from '@aitbc/consensus-poa';
 * const chain = createChain({ store: new MemoryKVStore(), genesis, consensus: createPoaConsensus() });
 * await chain.open();
 * console.log(chain.head.height, (await chain.account(address)).balance);
 * ```
 */
export interface Chain {
  /** Loads the head, or writes the genesis state on first use. */
  open(): Promise<void>;
  close(): Promise<void>;
  readonly head: BlockHeader;
  readonly headHash: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly validators: ValidatorSet;
  /** Executes candidate transactions on top of the head (skipping those that fail), fills the roots and signs. */
  buildBlock(opts: {
    round: number;
    timestamp: number;
    proposerSeed: Uint8Array;
    lastCommit: Commit | null;
    txs: readonly SignedTx[];
  }): Promise<Block>;
  /** Every check except the block's own commit; writes nothing. */
  validateBlock(block: Block): Promise<void>;
  /**
   * Validates the block and its commit, then persists block, commit, state and indexes in one fsync'd batch.
   *
   * Rejects with a `CHAIN_*` code for an invalid block or commit, and with `CHAIN_STORE_FAILED` when
   * this node's store failed to write it (a full disk, an I/O error: `details.storeCode` is the store's
   * code, `cause` its error); a store that fails a read rejects with its own `STORAGE_*`/`STORE_*` code.
   * A store failure says nothing about the block: the chain stays at its head, consistent, and the
   * same block imports once the store writes again.
   */
  importBlock(block: Block, commit: Commit): Promise<ImportResult>;
  /**
   * A committed block by height or hash. The last few imported or read are kept decoded and the same
   * object is returned to every caller: treat it as read-only (its byte arrays cannot be frozen).
   */
  getBlock(heightOrHash: number | Uint8Array): Promise<Block | undefined>;
  getCommit(height: number): Promise<Commit | undefined>;
  getTx(id: Uint8Array): Promise<{ tx: SignedTx; height: number; index: number } | undefined>;
  /**
   * Transactions that involve an address (as sender, recipient, escrow coordinator, or the settled
   * miner), newest first, `limit` ≤ 500 per page; pass `nextCursor` back for the next page.
   */
  txsByAddress(
    address: string,
    options?: { cursor?: string; limit?: number },
  ): Promise<{ items: { tx: SignedTx; height: number; index: number }[]; nextCursor: string | null }>;
  /** An account at the head (frozen; read once per head and address, then served from memory). */
  account(address: string): Promise<Account>;
  escrow(jobId: string): Promise<Escrow | undefined>;
  /** Inclusion/exclusion proof of an account against the head's state root. */
  accountProof(address: string): Promise<StateProof>;
  /** Inclusion/exclusion proof of an escrow against the head's state root. */
  escrowProof(jobId: string): Promise<StateProof>;
  onBlock(listener: BlockListener): () => void;
}

/**
 * Layout version of everything this module writes (2: state tree in storage pages). A store written
 * with another layout is refused at open, never misread.
 */
const STORE_FORMAT = 2;

const K = {
  format: utf8ToBytes('chain/format'),
  head: utf8ToBytes('chain/head'),
  block: (h: number) => concatBytes(utf8ToBytes('chain/block/'), u64(h)),
  commit: (h: number) => concatBytes(utf8ToBytes('chain/commit/'), u64(h)),
  hash: (hash: Uint8Array) => concatBytes(utf8ToBytes('chain/hash/'), hash),
  tx: (id: Uint8Array) => concatBytes(TX_PREFIX, id),
  /** `chain/addr/<address>/` + height (u64) + index (u32): one entry per transaction touching the address. */
  addr: (address: string) => utf8ToBytes(`chain/addr/${address}/`),
};

const TX_PREFIX = utf8ToBytes('chain/tx/');

/** Bytes of an ASCII string (addresses, numbers, the keys above) without a text encoder. */
function asciiInto(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Whether every character of `text` is printable ASCII (validated addresses are: bech32m). */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** The index records of one imported block (a key, and a value, per record); see {@link indexRecords}. */
interface IndexRecords {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
}

/** An empty value: a by-address entry is all key (its height and index locate the transaction). */
const EMPTY = new Uint8Array(0);

/**
 * The index records of a block's transactions — `chain/tx/<id>` → `{"height":h,"index":i}` and one
 * `chain/addr/<address>/<height><index>` per address a transaction touches — written into a single
 * buffer, each record a view of it. ~7,500 records per 2,500-transfer block, each its own small array,
 * took 10–30 ms per block to build (against 3–13 ms so) and slowed the batch write that follows.
 */
function indexRecords(height: number, txs: readonly SignedTx[]): IndexRecords {
  const touched = txs.map(involved);
  const heightText = String(height);
  let size = 0;
  for (let i = 0; i < txs.length; i++) {
    size += TX_PREFIX.length + txs[i]!.id.length + LOCATION_OVERHEAD + heightText.length + String(i).length;
    for (const a of touched[i]!) size += ADDR_OVERHEAD + a.length;
  }
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  let at = 0;
  const take = (from: number) => buf.subarray(from, at);
  for (let i = 0; i < txs.length; i++) {
    const id = txs[i]!.id;
    let from = at;
    buf.set(TX_PREFIX, at);
    buf.set(id, at + TX_PREFIX.length);
    at += TX_PREFIX.length + id.length;
    keys.push(take(from));
    from = at;
    at = asciiInto(buf, at, `{"height":${heightText},"index":${i}}`);
    values.push(take(from));
    for (const a of touched[i]!) {
      if (!PRINTABLE_ASCII.test(a)) {
        keys.push(concatBytes(K.addr(a), u64(height), u32(i)));
        values.push(EMPTY);
        continue;
      }
      from = at;
      at = asciiInto(buf, at, 'chain/addr/');
      at = asciiInto(buf, at, a);
      buf[at++] = 0x2f; // '/'
      view.setUint32(at, Math.floor(height / 2 ** 32));
      view.setUint32(at + 4, height >>> 0);
      view.setUint32(at + 8, i);
      at += 12;
      keys.push(take(from));
      values.push(EMPTY);
    }
  }
  return { keys, values };
}

/** Bytes of a location record besides its two numbers: `{"height":,"index":}`. */
const LOCATION_OVERHEAD = '{"height":,"index":}'.length;
/** Bytes of a by-address key besides the address: `chain/addr/`, `/`, height u64, index u32. */
const ADDR_OVERHEAD = 'chain/addr/'.length + 1 + 12;

/** The addresses a transaction touches (for the by-address index). */
function involved(tx: SignedTx): string[] {
  const b = tx.body;
  const out = new Set<string>([b.from]);
  if (b.type === 'transfer') out.add(b.to);
  if (b.type === 'escrow.lock') out.add(b.coordinator);
  if (b.type === 'escrow.settle') {
    // The miner paid by a settlement (the block was valid, so the receipt parses).
    const provider = (parseReceiptJson(b.receipt) as { provider?: unknown }).provider;
    if (typeof provider === 'string') out.add(provider);
  }
  return [...out];
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** Bound of the accounts kept per head (see `Chain.account`); the map starts over when full. */
const HEAD_ACCOUNTS_MAX = 1 << 16;

/** How many executed, not yet imported blocks keep their staged state (see `prepared`). */
const PREPARED_BLOCKS = 4;
/**
 * Committed blocks kept decoded (the last imported or read, by height): the block just committed is
 * read at once by API clients, subscribers and syncing peers, and decoding a 2,000-transaction block
 * from the store costs milliseconds each time.
 */
const RECENT_BLOCKS = 4;

/** Sets `key` as the newest entry of an insertion-ordered map holding at most `max`, dropping the oldest. */
function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  while (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

const json = (v: unknown) => utf8ToBytes(JSON.stringify(v));
const parse = (b: Uint8Array) => JSON.parse(bytesToUtf8(b)) as unknown;

function reject(code: string, message: string, details?: Record<string, unknown>): never {
  throw new AitbcError(code, message, details === undefined ? {} : { details });
}

/** `CHAIN_STORE_FAILED` for a failed write of the block at `height`; the store's error is the cause. */
function storeFailed(err: unknown, height: number): AitbcError {
  const code = isAitbcError(err) ? err.code : 'STORAGE_IO';
  return new AitbcError('CHAIN_STORE_FAILED', `could not store block ${height}: ${(err as Error)?.message ?? err}`, {
    cause: err,
    details: { height, storeCode: code },
  });
}

/**
 * Creates a chain over a store. The genesis header (height 0) is derived from the genesis file:
 * `parentHash` = genesis hash, `stateRoot` = the root after the allocations, proposer = the first
 * validator by address.
 *
 * @example
 * ```ts
 * const chain = createChain({ store: new MemoryKVStore(), genesis, consensus });
 * await chain.open();
 * const block = await chain.buildBlock({ round: 0, timestamp: Date.now(), proposerSeed, lastCommit: null, txs });
 * await chain.importBlock(block, commit);
 * ```
 */
export function createChain(options: ChainOptions): Chain {
  const { store, genesis, consensus } = options;
  const validators = createValidatorSet(genesis.validators);
  const gHash = genesisHash(genesis);
  let tree = new SparseMerkleTree(store);
  const listeners = new Set<BlockListener>();
  let head: BlockHeader | undefined;
  let headHash: Uint8Array = ZERO_HASH;
  let opened = false;
  // One import or build at a time: they share the tree's staging area.
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const requireOpen = (): BlockHeader => {
    if (!opened || head === undefined) reject('CHAIN_NOT_OPEN', 'call open() first');
    return head;
  };

  const genesisHeader = (stateRoot: Uint8Array): BlockHeader => ({
    chainId: genesis.chainId,
    height: 0,
    round: 0,
    timestamp: genesis.genesisTime,
    parentHash: gHash,
    proposer: validators.validators[0]!.address,
    txRoot: ZERO_HASH,
    stateRoot,
    validatorsHash: validators.hash,
    lastCommitHash: ZERO_HASH,
  });

  /** Runs a block's transactions on the staged tree; returns the root and the burned fees. */
  const execute = async (
    header: BlockHeader,
    txs: readonly SignedTx[],
    skipFailures: boolean,
  ): Promise<{ root: Uint8Array; applied: SignedTx[]; burned: bigint }> => {
    const state = new LedgerState(tree);
    const ctx = { chainId: genesis.chainId, height: header.height, params: genesis.params };
    const applied: SignedTx[] = [];
    let burned = 0n;
    for (const [i, tx] of txs.entries()) {
      try {
        burned += (await executeTx(state, tx, ctx)).burned;
        applied.push(tx);
      } catch (e) {
        if (!skipFailures) {
          state.discard();
          throw new AitbcError('CHAIN_BAD_TX_IN_BLOCK', `transaction ${i} of the block is invalid`, {
            cause: e,
            details: { index: i, txId: toHex0x(tx.id) },
          });
        }
      }
    }
    return { root: await state.flush(), applied, burned };
  };

  const checkStructure = async (block: Block, parent: BlockHeader, parentHash: Uint8Array): Promise<void> => {
    const h = block.header;
    if (h.chainId !== genesis.chainId) reject('CHAIN_WRONG_CHAIN', `block is for chain "${h.chainId}"`);
    if (h.height !== parent.height + 1)
      reject('CHAIN_BAD_HEIGHT', `expected height ${parent.height + 1}, got ${h.height}`, {
        expected: parent.height + 1,
      });
    if (!bytesEqual(h.parentHash, parentHash)) reject('CHAIN_BAD_PARENT', 'parentHash is not the head');
    if (h.timestamp <= parent.timestamp) reject('CHAIN_BAD_TIMESTAMP', 'timestamp must be after the parent’s');
    if (!bytesEqual(h.validatorsHash, validators.hash))
      reject('CHAIN_BAD_VALIDATORS', 'validatorsHash does not match the validator set');
    consensus.verifyProposer(h, validators);
    const proposer = validators.byAddress(h.proposer);
    if (proposer === undefined || !verifyBlockSignature(h, block.signature, proposer.publicKey))
      reject('CHAIN_BAD_BLOCK_SIGNATURE', 'the proposer’s signature does not verify');
    if (h.height === 1) {
      if (block.lastCommit !== null) reject('CHAIN_BAD_COMMIT', 'block 1 has no parent commit');
    } else {
      const lc = block.lastCommit;
      if (lc === null) reject('CHAIN_BAD_COMMIT', 'the commit of the parent is missing');
      if (lc.height !== parent.height || !bytesEqual(lc.blockHash, parentHash))
        reject('CHAIN_BAD_COMMIT', 'lastCommit is not for the parent');
      consensus.verifyCommit(genesis.chainId, lc, validators);
    }
    if (!bytesEqual(h.lastCommitHash, commitHash(block.lastCommit)))
      reject('CHAIN_BAD_COMMIT', 'lastCommitHash does not match lastCommit');
    if (block.txs.length > genesis.params.maxBlockTxs)
      reject('CHAIN_BLOCK_TOO_LARGE', `more than ${genesis.params.maxBlockTxs} transactions`);
    const bytes = block.txs.reduce((n, t) => n + t.size, 0);
    if (bytes > genesis.params.maxBlockBytes)
      reject('CHAIN_BLOCK_TOO_LARGE', `transactions take ${bytes} bytes; the limit is ${genesis.params.maxBlockBytes}`);
    const ids = new Set<string>();
    for (const t of block.txs) {
      const k = toHex0x(t.id);
      if (ids.has(k)) reject('CHAIN_DUPLICATE_TX', 'a transaction appears twice', { txId: k });
      ids.add(k);
    }
    if (!bytesEqual(h.txRoot, txRoot(block.txs.map((t) => t.id))))
      reject('CHAIN_BAD_TX_ROOT', 'txRoot does not match the transactions');
    // Each signature is verified once per node: those the mempool (or an earlier import attempt)
    // verified are in the shared cache; the rest are checked together on the thread pool.
    const cache = options.signatureCache;
    const pending = cache === undefined ? block.txs : block.txs.filter((t) => !cache.has(t.id, t.signature));
    const ok = await verifyMany(
      pending.map((t) => ({ signature: t.signature, message: sharedSigningBytes(t), publicKey: t.publicKey })),
    );
    const bad = ok.indexOf(false);
    if (bad >= 0) {
      const badIndex = block.txs.indexOf(pending[bad]!);
      reject('CHAIN_BAD_SIGNATURE', `transaction ${badIndex} has an invalid signature`, { index: badIndex });
    }
    if (cache !== undefined) for (const t of pending) cache.add(t.id, t.signature);
  };

  /**
   * Blocks this chain executed on the current head and did not import yet (validated proposals,
   * built blocks), by block hash: their staged state, so that importing one of them does not execute
   * it a second time. Bounded; a snapshot is only restored on the committed root it was taken on.
   */
  const prepared = new Map<string, { readonly snapshot: StagedSnapshot; readonly burned: bigint }>();
  const remember = (hash: Uint8Array, snapshot: StagedSnapshot, burned: bigint): void => {
    const key = toHex0x(hash);
    setNewest(prepared, key, { snapshot, burned }, PREPARED_BLOCKS);
  };

  /**
   * Frozen blocks that passed every structural check on a head (validated proposals), by that
   * head's hash: a decided proposal is imported as the same object it was validated as, and its
   * checks (transaction root, ids, signatures, the parent's commit) need not run twice.
   */
  const checked = new WeakMap<Block, Uint8Array>();

  /** See {@link RECENT_BLOCKS}: frozen blocks only (an unfrozen one could change), oldest first. */
  const recent = new Map<number, Block>();
  const keepRecent = (height: number, block: Block): void => {
    if (isFrozenBlock(block)) setNewest(recent, height, block, RECENT_BLOCKS);
  };

  /** Accounts read at the head (see `account`), for the head whose state root is `headAccountsRoot`. */
  let headAccounts = new Map<string, Promise<Account>>();
  let headAccountsRoot: Uint8Array | undefined;

  /** Validates on the staged tree; leaves the block's state staged (the caller commits or rolls back). */
  const validateStaged = async (block: Block, hash: Uint8Array): Promise<bigint> => {
    const parent = requireOpen();
    const onHead = checked.get(block);
    if (onHead === undefined || !bytesEqual(onHead, headHash)) {
      await checkStructure(block, parent, headHash);
      if (isFrozenBlock(block)) checked.set(block, headHash);
    }
    // Same hash ⇒ same header (so the same parent, height and stateRoot) and, with the txRoot just
    // checked, the same transaction bodies: its execution on this committed root is already staged.
    const ready = prepared.get(toHex0x(hash));
    if (ready !== undefined && tree.restore(ready.snapshot)) {
      if (bytesEqual(ready.snapshot.root, block.header.stateRoot)) return ready.burned;
      tree.rollback();
    }
    try {
      const { root, burned } = await execute(block.header, block.txs, false);
      if (!bytesEqual(root, block.header.stateRoot))
        reject('CHAIN_BAD_STATE_ROOT', 'stateRoot does not match the re-executed state');
      return burned;
    } catch (e) {
      tree.rollback();
      throw e;
    }
  };

  return {
    async open() {
      const stored = await store.get(K.head);
      if (stored === undefined) {
        const state = new LedgerState(tree);
        await applyGenesis(state, genesis);
        const root = await state.flush();
        head = genesisHeader(root);
        headHash = blockHash(head);
        await store.batch(
          [
            ...tree.commitOps(),
            { type: 'put', key: utf8ToBytes('chain/genesis'), value: gHash },
            { type: 'put', key: K.format, value: u32(STORE_FORMAT) },
            { type: 'put', key: K.head, value: u64(0) },
          ],
          { sync: true },
        );
      } else {
        const height = Number(new DataView(stored.buffer, stored.byteOffset, 8).getBigUint64(0));
        const storedGenesis = await store.get(utf8ToBytes('chain/genesis'));
        if (storedGenesis === undefined || !bytesEqual(storedGenesis, gHash))
          reject('CHAIN_GENESIS_MISMATCH', 'the store holds another chain');
        const format = await store.get(K.format);
        const found = format?.length === 4 ? new DataView(format.buffer, format.byteOffset, 4).getUint32(0) : 1;
        if (found !== STORE_FORMAT)
          reject(
            'CHAIN_STORE_FORMAT',
            `the store was written in layout ${found} by another version; this version reads layout ${STORE_FORMAT} — remove the data directory and sync again`,
          );
        if (height === 0) {
          const state = new LedgerState(new SparseMerkleTree(store));
          await applyGenesis(state, genesis);
          head = genesisHeader(await state.flush());
        } else {
          head = blockFromStoreBytes((await store.get(K.block(height)))!).header;
        }
        headHash = blockHash(head);
        tree = new SparseMerkleTree(store, head.stateRoot);
      }
      opened = true;
    },
    async close() {
      opened = false;
      recent.clear();
      await store.close();
    },
    get head() {
      return requireOpen();
    },
    get headHash() {
      requireOpen();
      return headHash.slice();
    },
    genesisHash: gHash,
    validators,
    buildBlock(opts) {
      return exclusive(async () => {
        const parent = requireOpen();
        const height = parent.height + 1;
        const draft: BlockHeader = {
          ...parent,
          height,
          round: opts.round,
          timestamp: Math.max(opts.timestamp, parent.timestamp + 1),
          parentHash: headHash,
        };
        const { root, applied, burned } = await execute(draft, opts.txs.slice(0, genesis.params.maxBlockTxs), true);
        const snapshot = tree.stash();
        const proposer = validators.validators.find((v) =>
          bytesEqual(v.publicKey, publicKeyFromSeed(opts.proposerSeed)),
        );
        if (proposer === undefined) reject('CHAIN_NOT_VALIDATOR', 'the proposer seed is not a validator’s');
        const header: BlockHeader = {
          ...draft,
          proposer: proposer.address,
          txRoot: txRoot(applied.map((t) => t.id)),
          stateRoot: root,
          lastCommitHash: commitHash(opts.lastCommit),
        };
        // The proposer imports what it built (once decided): keep the execution for that.
        remember(blockHash(header), snapshot, burned);
        // Frozen, so that its encoding is made once (blockStoreBytes). Not entered in `checked`:
        // building runs none of the checks (proposer schedule, commit).
        return frozenBlock({
          header,
          txs: applied,
          lastCommit: opts.lastCommit,
          signature: signBlockHeader(header, opts.proposerSeed),
        });
      });
    },
    validateBlock(block) {
      return exclusive(async () => {
        const hash = blockHash(block.header);
        const burned = await validateStaged(block, hash);
        remember(hash, tree.stash(), burned);
      });
    },
    importBlock(block, commit) {
      return exclusive(async () => {
        const hash = blockHash(block.header);
        if (commit.height !== block.header.height || !bytesEqual(commit.blockHash, hash))
          reject('CHAIN_BAD_COMMIT', 'the commit is not for this block');
        consensus.verifyCommit(genesis.chainId, commit, validators);
        const burned = await validateStaged(block, hash);
        const h = block.header.height;
        const ops: BatchOp[] = [
          ...tree.commitOps(),
          { type: 'put', key: K.block(h), value: blockStoreBytes(block) },
          { type: 'put', key: K.commit(h), value: json(commitToJson(commit)) },
          { type: 'put', key: K.hash(hash), value: u64(h) },
        ];
        const index = indexRecords(h, block.txs);
        for (let i = 0; i < index.keys.length; i++)
          ops.push({ type: 'put', key: index.keys[i]!, value: index.values[i]! });
        ops.push({ type: 'put', key: K.head, value: u64(h) });
        try {
          await store.batch(ops, { sync: true });
        } catch (err) {
          // commitOps() took the block's state as committed: back to the root the store holds, or
          // the next import would execute on state that was never stored.
          tree = new SparseMerkleTree(store, requireOpen().stateRoot);
          prepared.clear();
          throw storeFailed(err, h);
        }
        // Included transactions cannot be valid again (their nonces are used): the mempool refuses
        // a late copy by its nonce before its signature, so their cache entries are dead weight.
        const cache = options.signatureCache;
        if (cache !== undefined) for (const t of block.txs) cache.delete(t.id);
        // Other snapshots were taken on the old root: they can no longer be restored.
        prepared.clear();
        keepRecent(h, block);
        head = block.header;
        headHash = hash;
        for (const l of listeners) {
          try {
            l(block, commit);
          } catch {
            // listeners never break import
          }
        }
        return { height: h, hash, burned };
      });
    },
    async getBlock(heightOrHash) {
      let height: number | undefined;
      if (typeof heightOrHash === 'number') height = heightOrHash;
      else {
        const h = await store.get(K.hash(heightOrHash));
        if (h !== undefined) height = Number(new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0));
      }
      if (height === undefined || height < 1) return undefined;
      const kept = recent.get(height);
      if (kept !== undefined) return kept;
      const b = await store.get(K.block(height));
      if (b === undefined) return undefined;
      const block = blockFromStoreBytes(b);
      keepRecent(height, block);
      return block;
    },
    async getCommit(height) {
      const c = await store.get(K.commit(height));
      return c === undefined ? undefined : commitFromJson(parse(c));
    },
    async getTx(id) {
      const loc = await store.get(K.tx(id));
      if (loc === undefined) return undefined;
      const { height, index } = parse(loc) as { height: number; index: number };
      const block = await this.getBlock(height);
      const tx = block?.txs[index];
      return tx === undefined ? undefined : { tx, height, index };
    },
    async txsByAddress(address, opts = {}) {
      const limit = opts.limit ?? 50;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
        reject('CHAIN_BAD_QUERY', 'limit must be an integer in [1, 500]');
      const prefix = K.addr(address);
      let lt = concatBytes(prefix, new Uint8Array(12).fill(0xff));
      if (opts.cursor !== undefined) {
        if (!/^[0-9]{1,15}:[0-9]{1,9}$/.test(opts.cursor))
          reject('CHAIN_BAD_QUERY', 'cursor is not one this chain issued');
        const [h, i] = opts.cursor.split(':').map(Number) as [number, number];
        lt = concatBytes(prefix, u64(h), u32(i));
      }
      const items: { tx: SignedTx; height: number; index: number }[] = [];
      // An address's transactions cluster in few blocks: each block is read once per page.
      const blocks = new Map<number, Promise<Block | undefined>>();
      let last: { height: number; index: number } | undefined;
      let more = false;
      for await (const [key] of store.iterate({ gte: prefix, lt, reverse: true, limit: limit + 1 })) {
        if (items.length === limit) {
          more = true;
          break;
        }
        const view = new DataView(key.buffer, key.byteOffset + prefix.length, 12);
        const height = Number(view.getBigUint64(0));
        const index = view.getUint32(8);
        let block = blocks.get(height);
        if (block === undefined) {
          block = this.getBlock(height);
          blocks.set(height, block);
        }
        const tx = (await block)?.txs[index];
        if (tx !== undefined) items.push({ tx, height, index });
        last = { height, index };
      }
      return { items, nextCursor: more && last !== undefined ? `${last.height}:${last.index}` : null };
    },
    account(address) {
      // Read at the head, once per head and address: the mempool reads the sender's account for every
      // transaction it admits (and each held sender's after every block), and decoding one (tree walk,
      // a bigint parse) cost more than the rest of admission bar the signature.
      const root = requireOpen().stateRoot;
      if (headAccountsRoot !== root) {
        headAccounts = new Map();
        headAccountsRoot = root;
      }
      const known = headAccounts.get(address);
      if (known !== undefined) return known;
      if (headAccounts.size >= HEAD_ACCOUNTS_MAX) headAccounts.clear();
      const read = new LedgerState(headTree()).account(address).then((a): Account => Object.freeze(a));
      headAccounts.set(address, read);
      read.catch(() => {
        if (headAccounts.get(address) === read) headAccounts.delete(address);
      });
      return read;
    },
    escrow(jobId) {
      return new LedgerState(headTree()).escrow(jobId);
    },
    accountProof(address) {
      return headTree().prove(accountKey(address));
    },
    escrowProof(jobId) {
      return headTree().prove(escrowKey(jobId));
    },
    onBlock(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  function headTree(): SparseMerkleTree {
    return tree.checkout(requireOpen().stateRoot);
  }
}
