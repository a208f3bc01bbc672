import {
  type Block,
  blockHash,
  type Chain,
  type Commit,
  type Consensus,
  createChain,
  DEFAULT_PARAMS,
  type Genesis,
  type KVStore,
  precommitSigningBody,
  signTx,
} from '@aitbc/chain-core';
import {
  AitbcError,
  addressFromPublicKey,
  publicKeyFromSeed,
  sha256,
  signMessage,
  utf8ToBytes,
  verifyMessage,
} from '@aitbc/crypto';

/** A deterministic one-validator network for the crash test (same keys in the worker and the test). */
export function crashNetwork(seedText: string) {
  const seed = (label: string) => sha256(utf8ToBytes(`aitbc-crash-${seedText}-${label}`));
  const proposerSeed = seed('validator');
  const senderSeed = seed('sender');
  const validatorKey = publicKeyFromSeed(proposerSeed);
  const validator = addressFromPublicKey(validatorKey);
  const sender = addressFromPublicKey(publicKeyFromSeed(senderSeed));
  const recipients = Array.from({ length: 50 }, (_, i) => addressFromPublicKey(publicKeyFromSeed(seed(`r${i}`))));
  const genesis: Genesis = {
    chainId: 'aitbc-crash',
    genesisTime: 1_700_000_000_000,
    validators: [{ publicKey: validatorKey, power: 1, name: 'v0' }],
    allocations: [{ address: sender, amount: 10n ** 30n }],
    params: DEFAULT_PARAMS,
  };
  const consensus: Consensus = {
    verifyProposer(header) {
      if (header.proposer !== validator)
        throw new AitbcError('CONSENSUS_WRONG_PROPOSER', 'single-validator test network');
    },
    verifyCommit(chainId, commit) {
      const s = commit.signatures[0];
      if (commit.signatures.length !== 1 || s?.validator !== validator)
        throw new AitbcError('CONSENSUS_BAD_COMMIT', 'needs the validator');
      if (
        !verifyMessage(
          'vote',
          chainId,
          precommitSigningBody(commit.height, commit.round, commit.blockHash),
          s.signature,
          validatorKey,
        )
      ) {
        throw new AitbcError('CONSENSUS_BAD_COMMIT', 'bad signature');
      }
    },
  };
  return {
    genesis,
    sender,
    proposerSeed,
    chain: (store: KVStore): Chain => createChain({ store, genesis, consensus }),
    transfer: (nonce: number, n: number) =>
      signTx(
        {
          type: 'transfer',
          chainId: genesis.chainId,
          from: sender,
          nonce,
          fee: DEFAULT_PARAMS.minFee,
          to: recipients[n % recipients.length]!,
          amount: BigInt(n + 1),
        },
        senderSeed,
      ),
    commitFor: (block: Block): Commit => {
      const hash = blockHash(block.header);
      return {
        height: block.header.height,
        round: block.header.round,
        blockHash: hash,
        signatures: [
          {
            validator,
            signature: signMessage(
              'vote',
              genesis.chainId,
              precommitSigningBody(block.header.height, block.header.round, hash),
              proposerSeed,
            ),
          },
        ],
      };
    },
  };
}
