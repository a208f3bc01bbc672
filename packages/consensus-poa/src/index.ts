/**
 * Stake-weighted Tendermint-style BFT for AITBC: the proposer schedule and commit rules that
 * chain-core checks on every import (`createPoaConsensus`), the BFT state machine
 * (`createBftEngine`), the validator driver that runs it against a chain (`createValidatorDriver`),
 * the gossip messages, evidence of double signing, and a deterministic simulator.
 * @packageDocumentation
 */
export {
  type BftEngine,
  type BftEngineConfig,
  type BftState,
  type BftStep,
  type BftTimeouts,
  createBftEngine,
  DEFAULT_TIMEOUTS,
  decodePersistedState,
  type EngineInput,
  type EngineOutput,
  type Evidence,
  encodePersistedState,
  MAX_VOTES_PER_STEP,
  type PersistedConsensusState,
  type RoundVotes,
  type TimeoutKind,
  type Transition,
} from './bftEngine.js';
export {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  type JsonObject,
  type JsonValue,
  MAX_ROUND,
  type Proposal,
  proposalSigningBody,
  type SignatureVerifier,
  signProposal,
  signVote,
  type Vote,
  verifyProposalSignature,
  verifyVoteSignature,
  voteSigningBody,
} from './consensusMessage.js';
export { createPoaConsensus, type PoaConsensus } from './poaConsensus.js';
export { MAX_SCHEDULE, proposerFor, proposerSchedule } from './proposerSchedule.js';
export {
  type Clock,
  type ConsensusTransport,
  createValidatorDriver,
  type ValidatorDriver,
  type ValidatorDriverEvents,
  type ValidatorDriverOptions,
} from './validatorDriver.js';
