/**
 * Stake-weighted Tendermint-style BFT for AITBC. Today: the proposer schedule and the commit rules
 * that chain-core checks on every import (`createPoaConsensus`). The BFT engine and its simulator
 * come next.
 * @packageDocumentation
 */
export { createPoaConsensus, type PoaConsensus } from './poaConsensus.js';
export { MAX_SCHEDULE, proposerFor, proposerSchedule } from './proposerSchedule.js';
