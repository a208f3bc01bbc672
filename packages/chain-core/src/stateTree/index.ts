export {
  SparseMerkleTree,
  type SparseMerkleTreeOptions,
  type StagedSnapshot,
  type StateChange,
} from './sparseMerkleTree.js';
export {
  EMPTY_HASH,
  leafHash,
  MAX_VALUE_BYTES,
  nodeHash,
  type StateProof,
  type StateProofJson,
  stateProofFromJson,
  stateProofToJson,
  verifyStateProof,
} from './stateProof.js';
