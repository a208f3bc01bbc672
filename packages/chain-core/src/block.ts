import {
  AitbcError,
  addressFromPublicKey,
  bytesToHex,
  canonicalize,
  concatBytes,
  hexToBytes,
  isAddress,
  parseId,
  sha256,
  sign,
  signingBytes,
  toHex0x,
  utf8ToBytes,
  verify,
} from '@aitbc/crypto';
import type { GenesisValidator } from './genesis.js';
import { type SignedTx, txFromJson, txToJson } from './tx.js';

/**
 * A validator with its address. `power` is a positive integer (< 2^53).
 *
 * @example
 * ```ts
 * import { createValidatorSet } from '@aitbc/chain-core';
 * const v = createValidatorSet(genesis.validators).validators[0]!;
 * console.log(v.name, v.address, v.power);
 * ```
 */
export interface Validator {
  readonly publicKey: Uint8Array;
  readonly address: string;
  readonly power: number;
  readonly name: string;
}

/**
 * The validators in force, sorted by address, with their total power and hash.
 *
 * @example
 * ```ts
 * import { createValidatorSet } from '@aitbc/chain-core';
 * const set = createValidatorSet(genesis.validators);
 * const proposer = set.byAddress(header.proposer); // undefined if not a validator
 * const quorum = Math.floor((2 * set.totalPower) / 3) + 1;
 * ```
 */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  /** sha256 of the JCS of `[{address, publicKey, power, name}]` in address order. */
  readonly hash: Uint8Array;
  byAddress(address: string): Validator | undefined;
}

/**
 * Builds a {@link ValidatorSet} (sorted by address; duplicate keys rejected).
 *
 * @example
 * ```ts
 * import { createValidatorSet } from '@aitbc/chain-core';
 * import { generateKeyPair } from '@aitbc/crypto';
 * const set = createValidatorSet([{ publicKey: generateKeyPair().publicKey, power: 10, name: 'v0' }]);
 * console.log(set.totalPower, set.validators[0]!.address); // 10 'ait1…'
 * ```
 */
export function createValidatorSet(validators: readonly GenesisValidator[]): ValidatorSet {
  const list = validators
    .map((v) => ({ publicKey: v.publicKey, address: addressFromPublicKey(v.publicKey), power: v.power, name: v.name }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const byAddress = new Map(list.map((v) => [v.address, v]));
  if (byAddress.size !== list.length)
    throw new AitbcError('CHAIN_BAD_VALIDATORS', 'validators must have distinct keys');
  const totalPower = list.reduce((sum, v) => sum + v.power, 0);
  const hash = sha256(
    canonicalize(
      list.map((v) => ({ address: v.address, publicKey: bytesToHex(v.publicKey), power: v.power, name: v.name })),
    ),
  );
  return { validators: list, totalPower, hash, byAddress: (a) => byAddress.get(a) };
}

/**
 * A block header (DESIGN.md §2). Height, round and timestamp (ms) are bounded counters.
 *
 * @example
 * ```ts
 * import { blockHash, headerToJson } from '@aitbc/chain-core';
 * const header = chain.head; // a BlockHeader
 * console.log(header.height, header.proposer, headerToJson(header).stateRoot, blockHash(header));
 * ```
 */
export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly timestamp: number;
  readonly parentHash: Uint8Array;
  /** The proposer's `ait1…` address. */
  readonly proposer: string;
  readonly txRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly validatorsHash: Uint8Array;
  readonly lastCommitHash: Uint8Array;
}

/**
 * One validator's precommit signature in a commit.
 *
 * @example
 * ```ts
 * const commit = await chain.getCommit(5);
 * for (const { validator, signature } of commit?.signatures ?? []) console.log(validator, signature.length); // 64
 * ```
 */
export interface CommitSignature {
  readonly validator: string;
  readonly signature: Uint8Array;
}

/**
 * The precommits that finalized a block.
 *
 * @example
 * ```ts
 * import { commitToJson } from '@aitbc/chain-core';
 * const commit = await chain.getCommit(chain.head.height);
 * if (commit) console.log(commit.round, commit.signatures.length, commitToJson(commit));
 * ```
 */
export interface Commit {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];
}

/**
 * A block: header, transactions, the commit of its parent, and the proposer's signature.
 *
 * @example
 * ```ts
 * const block = await chain.getBlock(1);
 * if (block) console.log(block.header.height, block.txs.length, block.lastCommit?.height ?? 'genesis child');
 * ```
 */
export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly SignedTx[];
  readonly lastCommit: Commit | null;
  readonly signature: Uint8Array;
}

/**
 * 32 zero bytes: the hash of "nothing" (no commit, no transactions).
 *
 * @example
 * ```ts
 * import { ZERO_HASH } from '@aitbc/chain-core';
 * import { bytesEqual } from '@aitbc/crypto';
 * const isFirst = bytesEqual(block.header.lastCommitHash, ZERO_HASH); // no parent commit
 * ```
 */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);

/**
 * The header as the JSON object that is hashed and signed.
 *
 * @example
 * ```ts
 * import { headerToJson } from '@aitbc/chain-core';
 * const json = headerToJson(chain.head); // { chainId, height, round, …, parentHash: '0x…' }
 * ```
 */
export function headerToJson(h: BlockHeader): Record<string, string | number> {
  return {
    chainId: h.chainId,
    height: h.height,
    round: h.round,
    timestamp: h.timestamp,
    parentHash: toHex0x(h.parentHash),
    proposer: h.proposer,
    txRoot: toHex0x(h.txRoot),
    stateRoot: toHex0x(h.stateRoot),
    validatorsHash: toHex0x(h.validatorsHash),
    lastCommitHash: toHex0x(h.lastCommitHash),
  };
}

function bad(field: string, expected: string): AitbcError {
  return new AitbcError('CHAIN_BLOCK_MALFORMED', `block.${field} must be ${expected}`, { details: { field } });
}

function counter(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(field, 'a non-negative integer');
  return v;
}

function id(v: unknown, field: string): Uint8Array {
  try {
    return parseId(v as string, field);
  } catch {
    throw bad(field, '0x followed by 64 lowercase hex digits');
  }
}

/**
 * Parses a header strictly. @throws AitbcError `CHAIN_BLOCK_MALFORMED`.
 *
 * @example
 * ```ts
 * import { headerFromJson, headerToJson } from '@aitbc/chain-core';
 * const header = headerFromJson(JSON.parse(JSON.stringify(headerToJson(chain.head))));
 * ```
 */
export function headerFromJson(json: unknown): BlockHeader {
  if (typeof json !== 'object' || json === null) throw bad('header', 'an object');
  const o = json as Record<string, unknown>;
  if (typeof o.chainId !== 'string') throw bad('header.chainId', 'a string');
  if (typeof o.proposer !== 'string' || !isAddress(o.proposer)) throw bad('header.proposer', 'an ait1… address');
  return {
    chainId: o.chainId,
    height: counter(o.height, 'header.height'),
    round: counter(o.round, 'header.round'),
    timestamp: counter(o.timestamp, 'header.timestamp'),
    parentHash: id(o.parentHash, 'header.parentHash'),
    proposer: o.proposer,
    txRoot: id(o.txRoot, 'header.txRoot'),
    stateRoot: id(o.stateRoot, 'header.stateRoot'),
    validatorsHash: id(o.validatorsHash, 'header.validatorsHash'),
    lastCommitHash: id(o.lastCommitHash, 'header.lastCommitHash'),
  };
}

/**
 * The block hash: `sha256("AITBC/v1/block\n" + chainId + "\n" || JCS(header))`.
 *
 * @example
 * ```ts
 * import { blockHash } from '@aitbc/chain-core';
 * import { toHex0x } from '@aitbc/crypto';
 * console.log(toHex0x(blockHash(chain.head))); // equals toHex0x(chain.headHash)
 * ```
 */
export function blockHash(header: BlockHeader): Uint8Array {
  return sha256(signingBytes('block', header.chainId, headerToJson(header)));
}

/**
 * The proposer signs the same bytes the hash covers.
 *
 * @example
 * ```ts
 * import { signBlockHeader, verifyBlockSignature } from '@aitbc/chain-core';
 * const signature = signBlockHeader(header, proposer.seed);
 * verifyBlockSignature(header, signature, proposer.publicKey); // true
 * ```
 */
export function signBlockHeader(header: BlockHeader, proposerSeed: Uint8Array): Uint8Array {
  return sign(signingBytes('block', header.chainId, headerToJson(header)), proposerSeed);
}

/**
 * Checks the proposer's signature on a header.
 *
 * @example
 * ```ts
 * import { verifyBlockSignature } from '@aitbc/chain-core';
 * const proposer = chain.validators.byAddress(block.header.proposer)!;
 * if (!verifyBlockSignature(block.header, block.signature, proposer.publicKey)) throw new Error('bad signature');
 * ```
 */
export function verifyBlockSignature(header: BlockHeader, signature: Uint8Array, proposerKey: Uint8Array): boolean {
  return verify(signature, signingBytes('block', header.chainId, headerToJson(header)), proposerKey);
}

/**
 * JSON form of a commit.
 *
 * @example
 * ```ts
 * import { commitFromJson, commitToJson } from '@aitbc/chain-core';
 * const wire = JSON.stringify(commitToJson(commit));
 * const back = commitFromJson(JSON.parse(wire));
 * ```
 */
export function commitToJson(c: Commit): Record<string, unknown> {
  return {
    height: c.height,
    round: c.round,
    blockHash: toHex0x(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: s.validator, signature: bytesToHex(s.signature) })),
  };
}

/**
 * Parses a commit strictly (at most 1,000 signatures). @throws AitbcError `CHAIN_BLOCK_MALFORMED`.
 *
 * @example
 * ```ts
 * import { commitFromJson } from '@aitbc/chain-core';
 * const commit = commitFromJson(JSON.parse(commitText)); // throws CHAIN_BLOCK_MALFORMED on bad input
 * ```
 */
export function commitFromJson(json: unknown): Commit {
  if (typeof json !== 'object' || json === null) throw bad('commit', 'an object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.signatures) || o.signatures.length > 1000)
    throw bad('commit.signatures', 'an array of at most 1,000 signatures');
  return {
    height: counter(o.height, 'commit.height'),
    round: counter(o.round, 'commit.round'),
    blockHash: id(o.blockHash, 'commit.blockHash'),
    signatures: o.signatures.map((s: unknown, i) => {
      const r = s as Record<string, unknown>;
      if (typeof r?.validator !== 'string' || !isAddress(r.validator))
        throw bad(`commit.signatures[${i}].validator`, 'an ait1… address');
      if (typeof r.signature !== 'string' || !/^[0-9a-f]{128}$/.test(r.signature))
        throw bad(`commit.signatures[${i}].signature`, '128 lowercase hex digits');
      return { validator: r.validator, signature: hexToBytes(r.signature) };
    }),
  };
}

/**
 * Hash of a commit (`ZERO_HASH` for none): `sha256(JCS(commit))`.
 *
 * @example
 * ```ts
 * import { commitHash } from '@aitbc/chain-core';
 * import { bytesEqual } from '@aitbc/crypto';
 * const linked = bytesEqual(block.header.lastCommitHash, commitHash(block.lastCommit));
 * ```
 */
export function commitHash(commit: Commit | null): Uint8Array {
  return commit === null ? ZERO_HASH : sha256(canonicalize(commitToJson(commit) as never));
}

/**
 * The body a validator signs (kind `vote`) to precommit a block. Consensus engines and commit
 * verification use exactly this shape.
 *
 * @example
 * ```ts
 * import { blockHash, precommitSigningBody } from '@aitbc/chain-core';
 * import { signMessage } from '@aitbc/crypto';
 * const body = precommitSigningBody(header.height, header.round, blockHash(header));
 * const signature = signMessage('vote', header.chainId, body, seed);
 * ```
 */
export function precommitSigningBody(
  height: number,
  round: number,
  hash: Uint8Array,
): { type: 'precommit'; height: number; round: number; blockHash: string } {
  return { type: 'precommit', height, round, blockHash: toHex0x(hash) };
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/**
 * Binary Merkle root of transaction ids (RFC 6962 shape: leaves `sha256(0x00‖id)`, nodes `sha256(0x01‖l‖r)`); `ZERO_HASH` for none.
 *
 * @example
 * ```ts
 * import { txRoot } from '@aitbc/chain-core';
 * import { bytesEqual } from '@aitbc/crypto';
 * const ok = bytesEqual(block.header.txRoot, txRoot(block.txs.map((tx) => tx.id)));
 * ```
 */
export function txRoot(ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length === 0) return ZERO_HASH;
  const mth = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return sha256(concatBytes(LEAF, ids[lo]!));
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    return sha256(concatBytes(NODE, mth(lo, lo + k), mth(lo + k, hi)));
  };
  return mth(0, ids.length);
}

/**
 * The wire JSON of a block.
 *
 * @example
 * ```ts
 * import { blockToJson } from '@aitbc/chain-core';
 * const wire = JSON.stringify(blockToJson(block));
 * ```
 */
export function blockToJson(b: Block): Record<string, unknown> {
  return {
    header: headerToJson(b.header),
    txs: b.txs.map(txToJson),
    lastCommit: b.lastCommit === null ? null : commitToJson(b.lastCommit),
    signature: bytesToHex(b.signature),
  };
}

/**
 * Parses a wire block strictly (transactions decoded, signatures not yet verified).
 *
 * @example
 * ```ts
 * import { blockFromJson, commitFromJson } from '@aitbc/chain-core';
 * const { block, commit } = JSON.parse(message) as { block: unknown; commit: unknown };
 * await chain.importBlock(blockFromJson(block), commitFromJson(commit));
 * ```
 */
export function blockFromJson(json: unknown): Block {
  if (typeof json !== 'object' || json === null) throw bad('', 'an object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.txs) || o.txs.length > 100_000) throw bad('txs', 'an array');
  if (typeof o.signature !== 'string' || !/^[0-9a-f]{128}$/.test(o.signature))
    throw bad('signature', '128 lowercase hex digits');
  return frozenBlock({
    header: headerFromJson(o.header),
    txs: o.txs.map(txFromJson),
    lastCommit: o.lastCommit === null ? null : commitFromJson(o.lastCommit),
    signature: hexToBytes(o.signature),
  });
}

/**
 * A frozen block of these parts: header, transaction list and the parent's commit frozen, the commit
 * copied first (the caller's own objects are left as they are; byte arrays cannot be frozen). Such a
 * block cannot change, so its encoding and its checks can be kept (see {@link isFrozenBlock}).
 * Internal to chain-core.
 */
export function frozenBlock(parts: Block): Block {
  const lc = parts.lastCommit;
  return Object.freeze({
    header: Object.freeze({ ...parts.header }),
    txs: Object.freeze([...parts.txs]),
    lastCommit:
      lc === null
        ? null
        : Object.freeze({ ...lc, signatures: Object.freeze(lc.signatures.map((s) => Object.freeze({ ...s }))) }),
    signature: parts.signature,
  });
}

/** Whether a block is one {@link frozenBlock} made (or frozen the same way). Internal to chain-core. */
export function isFrozenBlock(b: Block): boolean {
  return (
    Object.isFrozen(b) &&
    Object.isFrozen(b.header) &&
    Object.isFrozen(b.txs) &&
    (b.lastCommit === null || Object.isFrozen(b.lastCommit.signatures))
  );
}

/** Encodings made by {@link blockJsonBytes}, of frozen blocks only (an unfrozen one could change). */
const encodedBlocks = new WeakMap<Block, Uint8Array>();

/**
 * The UTF-8 bytes of `JSON.stringify(blockToJson(block))`: the block's wire JSON, as earlier versions
 * also stored it (blocks are now stored in the smaller binary form of `blockStoreBytes`, whose
 * decoder still reads these bytes). A frozen block (as {@link blockFromJson} and `Chain.buildBlock`
 * return) is encoded once and the bytes are shared: encoding 2,000 transactions costs milliseconds
 * each time. Do not modify the returned bytes.
 *
 * @example
 * ```ts
 * import { blockFromJson, blockJsonBytes } from '@aitbc/chain-core';
 * const bytes = blockJsonBytes(block);
 * const again = blockFromJson(JSON.parse(new TextDecoder().decode(bytes)));
 * ```
 */
export function blockJsonBytes(block: Block): Uint8Array {
  let bytes = encodedBlocks.get(block);
  if (bytes === undefined) {
    bytes = utf8ToBytes(JSON.stringify(blockToJson(block)));
    if (isFrozenBlock(block)) encodedBlocks.set(block, bytes);
  }
  return bytes;
}
