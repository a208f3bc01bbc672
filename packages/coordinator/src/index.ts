/**
 * The AITBC coordinator: job lifecycle with leases and retries, dispatch through the pool hub's
 * scoring, long-poll for miners, idempotent submission, durable state, the HTTP API, settlement, and
 * the marketplace of offers and bids.
 * @packageDocumentation
 */

export { type CoordinatorServer, type CoordinatorServerOptions, createCoordinatorServer } from './coordinatorServer.js';
export {
  type Assignment,
  JOB_STATES,
  type Job,
  type JobEvent,
  type JobMarketTerms,
  type JobState,
  type JobSubmission,
  type JsonValue,
  TERMINAL_STATES,
} from './job.js';
export { JobEngine, type JobEngineOptions, type JobListener, type ReceiptHandler } from './jobEngine.js';
export {
  type Bid,
  type BidInput,
  type BidRequirements,
  type BidState,
  type MarketMatch,
  Marketplace,
  type MarketplaceOptions,
  type MarketStats,
  type MatchListener,
  type Offer,
  type OfferFilter,
  type OfferInput,
  type OfferState,
  type PageOf,
} from './marketplace.js';
export {
  bidInputFromJson,
  bidToJson,
  bidToPublicJson,
  marketStatsToJson,
  matchToJson,
  offerFilterFromQuery,
  offerInputFromJson,
  offerToJson,
} from './marketWire.js';
export { createReceiptHandler, type ReceiptHandlerOptions } from './receiptHandler.js';
export {
  type Settlement,
  type SettlementGateway,
  type SettlementOperation,
  type SettlementState,
  Settler,
  type SettlerOptions,
  type SettlerStatus,
  type SettleTxSigner,
} from './settler.js';
export { jobSubmissionFromJson, jobToJson } from './wire.js';
