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

/** A JSON value as it travels over gossip. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A plain JSON object (what {@link encodeConsensusMessage} returns). */
export type JsonObject = { [key: string]: JsonValue };

/** Largest round number accepted on the wire (rounds are bounded counters). */
export const MAX_ROUND = 1_000_000;

/**
 * A proposal: the proposer of `(height, round)` offers a block. `polRound` is the round in which the
 * block got a polka (its valid round), or -1. The proposer is not carried: it is the scheduled
 * proposer of `(height, round)`, and `signature` (kind `proposal`) must verify with its key.
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

/** A prevote or precommit for a block hash, or for nothing (`blockHash: null`). */
export interface Vote {
  readonly type: 'prevote' | 'precommit';
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  /** The signer's `ait1…` address. */
  readonly validator: string;
  readonly signature: Uint8Array;
}

/** Everything validators gossip to agree on a block. */
export type ConsensusMessage = Proposal | Vote;

function malformed(field: string, expected: string): AitbcError {
  return new AitbcError('CONSENSUS_MALFORMED_MESSAGE', `consensus message ${field} must be ${expected}`, {
    details: { field },
  });
}

/** The body a proposer signs (kind `proposal`). */
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

/** A signature check, injectable so that simulators can memoize it (same contract as `verify`). */
export type SignatureVerifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** Signs a vote (kind `vote`, domain-separated by chain id). */
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

/** Signs a proposal of `block` for `round` (kind `proposal`). */
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

/** Checks a vote's signature with the validator's public key. */
export function verifyVoteSignature(chainId: string, vote: Vote, publicKey: Uint8Array): boolean {
  return verifyMessage(
    'vote',
    chainId,
    voteSigningBody(vote.type, vote.height, vote.round, vote.blockHash),
    vote.signature,
    publicKey,
  );
}

/** Checks a proposal's signature with the scheduled proposer's public key. */
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
