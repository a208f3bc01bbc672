import type { BlockHeader, Commit, ValidatorSet } from './block.js';

/**
 * What a block needs from consensus to be accepted, declared here by its consumer and implemented
 * by `@aitbc/consensus-poa`. Both methods throw an `AitbcError` when the check fails.
 *
 * @example
 * ```ts
 * import { type Consensus, createChain, MemoryKVStore } from '@aitbc/chain-core';
 * import { createPoaConsensus } from '@aitbc/consensus-poa';
 * const consensus: Consensus = createPoaConsensus();
 * const chain = createChain({ store: new MemoryKVStore(), genesis, consensus });
 * ```
 */
export interface Consensus {
  /** `header.proposer` may propose at `(header.height, header.round)` under this validator set. */
  verifyProposer(header: BlockHeader, validators: ValidatorSet): void;
  /**
   * `commit` holds valid precommit signatures (`precommitSigningBody`, kind `vote`) for
   * `(chainId, commit.height, commit.round, commit.blockHash)` from distinct validators holding more
   * than 2/3 of the total power.
   */
  verifyCommit(chainId: string, commit: Commit, validators: ValidatorSet): void;
}
