/**
 * The AITBC ledger: transactions, blocks, genesis, authenticated state, mempool, block builder and
 * chain import, plus the interfaces it needs from the layers below it (`KVStore`, `Consensus`).
 * @packageDocumentation
 */

export {
  type Block,
  type BlockHeader,
  blockFromJson,
  blockHash,
  blockJsonBytes,
  blockToJson,
  type Commit,
  type CommitSignature,
  commitFromJson,
  commitHash,
  commitToJson,
  createValidatorSet,
  headerFromJson,
  headerToJson,
  precommitSigningBody,
  signBlockHeader,
  txRoot,
  type Validator,
  type ValidatorSet,
  verifyBlockSignature,
  ZERO_HASH,
} from './block.js';
export { blockFromStoreBytes, blockStoreBytes } from './blockBytes.js';
export { type BlockListener, type Chain, type ChainOptions, createChain, type ImportResult } from './chain.js';
export type { Consensus } from './consensus.js';
export { applyGenesis, type ExecutionContext, executeTx, type TxOutcome } from './executeTx.js';
export {
  type ChainParams,
  DEFAULT_PARAMS,
  type Genesis,
  type GenesisAllocation,
  type GenesisValidator,
  genesisFromJson,
  genesisHash,
  genesisHashHex,
  genesisToJson,
  validatorAddresses,
} from './genesis.js';
export { assertBatchOps, type BatchOp, type BatchOptions, type IterateOptions, type KVStore } from './kvStore.js';
export {
  type Account,
  accountKey,
  decodeAccount,
  type Escrow,
  type EscrowStatus,
  encodeAccount,
  escrowKey,
  LedgerState,
} from './ledgerState.js';
export { MemoryKVStore } from './memoryKVStore.js';
export {
  type AddManyResult,
  type AddResult,
  createMempool,
  MAX_ADD_BATCH,
  Mempool,
  type MempoolOptions,
} from './mempool.js';
export { SignatureCache } from './signatureCache.js';
export {
  EMPTY_HASH,
  leafHash,
  MAX_VALUE_BYTES,
  nodeHash,
  SparseMerkleTree,
  type SparseMerkleTreeOptions,
  type StagedSnapshot,
  type StateChange,
  type StateProof,
  type StateProofJson,
  stateProofFromJson,
  stateProofToJson,
  verifyStateProof,
} from './stateTree/index.js';
export {
  type EscrowLockTx,
  type EscrowRefundTx,
  type EscrowSettleTx,
  type SignedTx,
  signTx,
  type TransferTx,
  TX_LIMITS,
  type TxBody,
  type TxCommon,
  type TxJson,
  type TxType,
  txBodyFromJson,
  txBodyJson,
  txFromJson,
  txIdHex,
  txSigningBytes,
  txToJson,
  verifyTxSignature,
} from './tx.js';
