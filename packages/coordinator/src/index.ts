/**
 * The AITBC coordinator: job lifecycle with leases and retries, dispatch through the pool hub's
 * scoring, long-poll for miners, idempotent submission and durable state.
 * @packageDocumentation
 */

export { type CoordinatorServer, type CoordinatorServerOptions, createCoordinatorServer } from './coordinatorServer.js';
export {
  type Assignment,
  type Job,
  type JobEvent,
  type JobState,
  type JobSubmission,
  type JsonValue,
  TERMINAL_STATES,
} from './job.js';
export { JobEngine, type JobEngineOptions, type JobListener, type ReceiptHandler } from './jobEngine.js';
export { createReceiptHandler, type ReceiptHandlerOptions } from './receiptHandler.js';
export {
  type Settlement,
  type SettlementGateway,
  type SettlementState,
  Settler,
  type SettlerOptions,
  type SettleTxSigner,
} from './settler.js';
export { jobSubmissionFromJson, jobToJson } from './wire.js';
