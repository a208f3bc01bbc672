/**
 * The AITBC pool hub: a registry of miners with live status from heartbeats, a documented scoring
 * engine (capability fit, price, latency, success rate, load, trust), and the `/v1/match` API.
 * Use it as a library inside a coordinator ({@link createPoolHub}) or as its own HTTP service
 * ({@link createPoolHubServer}).
 * @packageDocumentation
 */
export { type ApiKeyEntry, hashApiKey } from '@aitbc/service-kit';
export {
  type CandidateSource,
  explainRanking,
  matchMiners,
  type RankedMiner,
  type RankOptions,
  type RankResult,
  rankMiners,
} from './matchMiners.js';
export { MinerRegistry, type MinerRegistryOptions } from './minerRegistry.js';
export { createPoolHub, type PoolHub, type PoolHubOptions } from './poolHub.js';
export { createPoolHubServer, type PoolHubServer, type PoolHubServerOptions, type PoolRole } from './poolHubServer.js';
export {
  DEFAULT_WEIGHTS,
  isEligible,
  isEligibleWith,
  type MinerFeatures,
  minerFeatures,
  normalizeWeights,
  REFERENCE_LATENCY_MS,
  type ScoreWeights,
  type ScoringContext,
  scoreMiner,
  scoreWith,
  TERM_ORDER,
  type TermValues,
  termValues,
  weightedScore,
} from './scoring.js';
export type {
  GpuInfo,
  Heartbeat,
  MatchCandidate,
  MatchHints,
  MatchRequest,
  MatchRequirements,
  MatchResult,
  MinerCapabilities,
  MinerRecord,
  MinerRegistration,
  MinerStats,
  MinerStatus,
  ScoreTerm,
  ScoreTermName,
} from './types.js';
export {
  heartbeatFromJson,
  matchRequestFromJson,
  matchResultToJson,
  minerRecordToJson,
  minerRegistrationFromJson,
  WIRE_LIMITS,
} from './wire.js';
