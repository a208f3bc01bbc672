import { type Block, blockFromJson, blockHash, blockToJson, precommitSigningBody } from '@aitbc/chain-core';
import {
  AitbcError,
  bytesToHex,
  hexToBytes,
  isAddress,
  parseId,
  signMessage,
  toHex0x,
  verifyMessage,
} from '@aitbc/crypto';

/**
 * A JSON value as it travels over gossip.
 *
 * @example
 * ```ts
 * import type { JsonValue } from '@aitbc/consensus-poa';
 * const value: JsonValue = { height: 5, blockHash: null, tags: ['a', 'b'] };
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A plain JSON object (what {@link encodeConsensusMessage} returns).
 *
 * @example
 * ```ts
 * import { encodeConsensusMessage, type JsonObject } from '@aitbc/consensus-poa';
 * const wire: JsonObject = encodeConsensusMessage(vote);
 * socket.send(JSON.stringify(wire));
 * ```
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Largest round number accepted on the wire (rounds are bounded counters).
 *
 * @example
 * ```ts
 * import { MAX_ROUND } from '@aitbc/consensus-poa';
 * if (round > MAX_ROUND) throw new Error('round out of range'); // decodeConsensusMessage refuses it too
 * ```
 */
export const MAX_ROUND = 1_000_000;

/**
 * A proposal: the proposer of `(height, round)` offers a block. `polRound` is the round in which the
 * block got a polka (its valid round), or -1. The proposer is not carried: it is the scheduled
 * proposer of `(height, round)`, and `signature` (kind `proposal`) must verify with its key.
 *
 * @example
 * ```ts
 * import { signProposal } from '@aitbc/consensus-poa';
 * const proposal = signProposal(chainId, block, 0, -1, seed);
 * console.log(proposal.height, proposal.round, proposal.polRound, proposal.blockHash);
 * ```
 */
export interface Proposal {
  readonly type: 'proposal';
  /** Equals `block.header.height`. */
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly block: Block;
  /** The block hash (derived from the header, not sent separately). */
  readonly blockHash: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * A prevote or precommit for a block hash, or for nothing (`blockHash: null`).
 *
 * @example
 * ```ts
 * import { signVote } from '@aitbc/consensus-poa';
 * const nil = signVote(chainId, 'prevote', 5, 0, null, myAddress, seed); // a prevote for nothing
 * console.log(nil.type, nil.validator, nil.blockHash); // 'prevote' 'ait1…' null
 * ```
 */
export interface Vote {
  readonly type: 'prevote' | 'precommit';
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  /** The signer's `ait1…` address. */
  readonly validator: string;
  readonly signature: Uint8Array;
}

/**
 * Everything validators gossip to agree on a block.
 *
 * @example
 * ```ts
 * import { type ConsensusMessage, decodeConsensusMessage } from '@aitbc/consensus-poa';
 * const msg: ConsensusMessage = decodeConsensusMessage(JSON.parse(wire));
 * if (msg.type === 'proposal') console.log('block', msg.block.header.height);
 * else console.log(msg.type, 'from', msg.validator);
 * ```
 */
export type ConsensusMessage = Proposal | Vote;

function malformed(field: string, expected: string): AitbcError {
  return new AitbcError('CONSENSUS_MALFORMED_MESSAGE', `consensus message ${field} must be ${expected}`, {
    details: { field },
  });
}

/**
 * The body a proposer signs (kind `proposal`).
 *
 * @example
 * ```ts
 * import { proposalSigningBody } from '@aitbc/consensus-poa';
 * import { signMessage } from '@aitbc/crypto';
 * const signature = signMessage('proposal', chainId, proposalSigningBody(height, round, -1, hash), seed);
 * ```
 */
export function proposalSigningBody(
  height: number,
  round: number,
  polRound: number,
  hash: Uint8Array,
): { type: 'proposal'; height: number; round: number; polRound: number; blockHash: string } {
  return { type: 'proposal', height, round, polRound, blockHash: toHex0x(hash) };
}

/**
 * The body a validator signs (kind `vote`). A precommit for a block is exactly chain-core's
 * `precommitSigningBody`, so the precommits of a decision form a commit that `verifyCommit` accepts.
 *
 * @example
 * ```ts
 * import { voteSigningBody } from '@aitbc/consensus-poa';
 * import { verifyMessage } from '@aitbc/crypto';
 * const ok = verifyMessage('vote', chainId, voteSigningBody(v.type, v.height, v.round, v.blockHash), v.signature, key);
 * ```
 */
export function voteSigningBody(
  type: 'prevote' | 'precommit',
  height: number,
  round: number,
  hash: Uint8Array | null,
): { type: 'prevote' | 'precommit'; height: number; round: number; blockHash: string | null } {
  if (type === 'precommit' && hash !== null) return precommitSigningBody(height, round, hash);
  return { type, height, round, blockHash: hash === null ? null : toHex0x(hash) };
}

/**
 * A signature check, injectable so that simulators can memoize it (same contract as `verify`).
 *
 * @example
 * ```ts
 * import { createPoaConsensus, type SignatureVerifier } from '@aitbc/consensus-poa';
 * import { verify } from '@aitbc/crypto';
 * const countingVerify: SignatureVerifier = (sig, msg, key) => {
 *   checks++;
 *   return verify(sig, msg, key);
 * };
 * const consensus = createPoaConsensus({ verify: countingVerify });
 * ```
 */
export type SignatureVerifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Signs a vote (kind `vote`, domain-separated by chain id).
 *
 * @example
 * ```ts
 * import { blockHash } from '@aitbc/chain-core';
 * import { signVote } from '@aitbc/consensus-poa';
 * const precommit = signVote(chainId, 'precommit', header.height, 0, blockHash(header), myAddress, seed);
 * ```
 */
export function signVote(
  chainId: string,
  type: 'prevote' | 'precommit',
  height: number,
  round: number,
  hash: Uint8Array | null,
  validator: string,
  seed: Uint8Array,
): Vote {
  const signature = signMessage('vote', chainId, voteSigningBody(type, height, round, hash), seed);
  return { type, height, round, blockHash: hash, validator, signature };
}

/**
 * Signs a proposal of `block` for `round` (kind `proposal`).
 *
 * @example
 * ```ts
 * import { signProposal } from '@aitbc/consensus-poa';
 * const block = await chain.buildBlock({ round: 0, timestamp: Date.now(), proposerSeed: seed, lastCommit, txs });
 * broadcast(signProposal(chain.head.chainId, block, 0, -1, seed));
 * ```
 */
export function signProposal(
  chainId: string,
  block: Block,
  round: number,
  polRound: number,
  seed: Uint8Array,
): Proposal {
  const hash = blockHash(block.header);
  const height = block.header.height;
  const signature = signMessage('proposal', chainId, proposalSigningBody(height, round, polRound, hash), seed);
  return { type: 'proposal', height, round, polRound, block, blockHash: hash, signature };
}

/**
 * Checks a vote's signature with the validator's public key.
 *
 * @example
 * ```ts
 * import { verifyVoteSignature } from '@aitbc/consensus-poa';
 * const signer = validators.byAddress(vote.validator);
 * const ok = signer !== undefined && verifyVoteSignature(chainId, vote, signer.publicKey);
 * ```
 */
export function verifyVoteSignature(chainId: string, vote: Vote, publicKey: Uint8Array): boolean {
  return verifyMessage(
    'vote',
    chainId,
    voteSigningBody(vote.type, vote.height, vote.round, vote.blockHash),
    vote.signature,
    publicKey,
  );
}

/**
 * Checks a proposal's signature with the scheduled proposer's public key.
 *
 * @example
 * ```ts
 * import { proposerFor, verifyProposalSignature } from '@aitbc/consensus-poa';
 * const proposer = validators.byAddress(proposerFor(validators, p.height, p.round))!;
 * const ok = verifyProposalSignature(chainId, p, proposer.publicKey);
 * ```
 */
export function verifyProposalSignature(chainId: string, proposal: Proposal, publicKey: Uint8Array): boolean {
  return verifyMessage(
    'proposal',
    chainId,
    proposalSigningBody(proposal.height, proposal.round, proposal.polRound, proposal.blockHash),
    proposal.signature,
    publicKey,
  );
}

/**
 * The gossip JSON of a message. Proposal: `{type:"proposal", height, round, polRound, block
 * (chain-core wire JSON), signature}`; vote: `{type:"prevote"|"precommit", height, round,
 * blockHash ("0x…" or null), validator, signature}`. Signatures are 128 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { encodeConsensusMessage } from '@aitbc/consensus-poa';
 * socket.send(JSON.stringify(encodeConsensusMessage(vote)));
 * ```
 */
export function encodeConsensusMessage(msg: ConsensusMessage): JsonObject {
  if (msg.type === 'proposal') {
    return {
      type: 'proposal',
      height: msg.height,
      round: msg.round,
      polRound: msg.polRound,
      block: blockToJson(msg.block) as JsonObject,
      signature: bytesToHex(msg.signature),
    };
  }
  return {
    type: msg.type,
    height: msg.height,
    round: msg.round,
    blockHash: msg.blockHash === null ? null : toHex0x(msg.blockHash),
    validator: msg.validator,
    signature: bytesToHex(msg.signature),
  };
}

const PROPOSAL_KEYS = new Set(['type', 'height', 'round', 'polRound', 'block', 'signature']);
const VOTE_KEYS = new Set(['type', 'height', 'round', 'blockHash', 'validator', 'signature']);

function counter(v: unknown, field: string, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw malformed(field, `an integer in [${min}, ${max}]`);
  return v;
}

function signature(v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-f]{128}$/.test(v)) throw malformed('signature', '128 lowercase hex digits');
  return hexToBytes(v);
}

/**
 * Parses a gossip message strictly: unknown fields, wrong types, out-of-range counters, a block that
 * does not decode or whose height differs from the proposal's are refused. Signatures are checked
 * later, by the engine, against the validator set.
 *
 * @throws AitbcError `CONSENSUS_MALFORMED_MESSAGE` (`details.field`).
 *
 * @example
 * ```ts
 * import { decodeConsensusMessage } from '@aitbc/consensus-poa';
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   driver.receive(decodeConsensusMessage(JSON.parse(text)));
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'CONSENSUS_MALFORMED_MESSAGE') console.warn('bad gossip', e.details);
 * }
 * ```
 */
export function decodeConsensusMessage(json: unknown): ConsensusMessage {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformed('', 'an object');
  const o = json as Record<string, unknown>;
  const type = o.type;
  if (type !== 'proposal' && type !== 'prevote' && type !== 'precommit')
    throw malformed('type', '"proposal", "prevote" or "precommit"');
  const allowed = type === 'proposal' ? PROPOSAL_KEYS : VOTE_KEYS;
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw malformed(k, 'absent (unknown field)');
  const height = counter(o.height, 'height', Number.MAX_SAFE_INTEGER, 1);
  const round = counter(o.round, 'round', MAX_ROUND);
  const sig = signature(o.signature);
  if (type === 'proposal') {
    const polRound = counter(o.polRound, 'polRound', MAX_ROUND, -1);
    if (polRound >= round) throw malformed('polRound', 'below round (or -1)');
    let block: Block;
    try {
      block = blockFromJson(o.block);
    } catch (e) {
      throw new AitbcError('CONSENSUS_MALFORMED_MESSAGE', 'consensus message block does not decode', {
        cause: e,
        details: { field: 'block' },
      });
    }
    if (block.header.height !== height) throw malformed('block', `a block of height ${height}`);
    return { type, height, round, polRound, block, blockHash: blockHash(block.header), signature: sig };
  }
  let hash: Uint8Array | null = null;
  if (o.blockHash !== null) {
    try {
      hash = parseId(o.blockHash as string, 'blockHash');
    } catch {
      throw malformed('blockHash', 'null or 0x followed by 64 lowercase hex digits');
    }
  }
  if (typeof o.validator !== 'string' || !isAddress(o.validator)) throw malformed('validator', 'an ait1… address');
  return { type, height, round, blockHash: hash, validator: o.validator, signature: sig };
}
