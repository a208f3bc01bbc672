import {
  type BlockHeader,
  type Commit,
  type Consensus,
  precommitSigningBody,
  type ValidatorSet,
} from '@aitbc/chain-core';
import { AitbcError, signingBytes, verify } from '@aitbc/crypto';
import type { SignatureVerifier } from './consensusMessage.js';
import { proposerFor } from './proposerSchedule.js';

/**
 * The chain-core `Consensus` of AITBC's PoA/PoS BFT, plus the proposer schedule.
 *
 * @example
 * ```ts
 * import { createPoaConsensus, type PoaConsensus } from '@aitbc/consensus-poa';
 * const consensus: PoaConsensus = createPoaConsensus();
 * const next = consensus.proposerFor(chain.validators, chain.head.height + 1, 0);
 * ```
 */
export interface PoaConsensus extends Consensus {
  /** The proposer of `(height, round)` under a validator set. */
  proposerFor(set: ValidatorSet, height: number, round: number): string;
}

/**
 * Creates the consensus rules the chain checks on import: the proposer of `(height, round)` follows
 * the stake-weighted schedule, and a commit holds valid precommits (kind `vote`, body
 * `precommitSigningBody`) from distinct validators with more than 2/3 of the total power.
 * `options.verify` replaces the strict Ed25519 check (simulators pass a memoized one).
 *
 * @example
 * ```ts
 * const chain = createChain({ store, genesis, consensus: createPoaConsensus() });
 * ```
 */
export function createPoaConsensus(options: { readonly verify?: SignatureVerifier } = {}): PoaConsensus {
  const check = options.verify ?? verify;
  return {
    proposerFor,
    verifyProposer(header: BlockHeader, set: ValidatorSet) {
      const expected = proposerFor(set, header.height, header.round);
      if (header.proposer !== expected) {
        throw new AitbcError(
          'CONSENSUS_WRONG_PROPOSER',
          `the proposer of height ${header.height} round ${header.round} is ${expected}`,
          {
            details: { expected, got: header.proposer },
          },
        );
      }
    },
    verifyCommit(chainId: string, commit: Commit, set: ValidatorSet) {
      const seen = new Set<string>();
      let power = 0;
      const bytes = signingBytes('vote', chainId, precommitSigningBody(commit.height, commit.round, commit.blockHash));
      for (const s of commit.signatures) {
        const v = set.byAddress(s.validator);
        if (v === undefined)
          throw new AitbcError('CONSENSUS_NOT_VALIDATOR', 'a commit signature is from a non-validator', {
            details: { validator: s.validator },
          });
        if (seen.has(s.validator))
          throw new AitbcError('CONSENSUS_DUPLICATE_SIGNATURE', 'a validator signed twice in one commit', {
            details: { validator: s.validator },
          });
        if (!check(s.signature, bytes, v.publicKey)) {
          throw new AitbcError('CONSENSUS_BAD_SIGNATURE', 'a precommit signature does not verify', {
            details: { validator: s.validator },
          });
        }
        seen.add(s.validator);
        power += v.power;
      }
      if (power * 3 <= set.totalPower * 2) {
        throw new AitbcError(
          'CONSENSUS_INSUFFICIENT_POWER',
          `the commit has ${power} of ${set.totalPower} voting power; more than 2/3 is needed`,
          {
            details: { power, total: set.totalPower },
          },
        );
      }
    },
  };
}
