export { SparseMerkleTree, type SparseMerkleTreeOptions } from './sparseMerkleTree.js';
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
