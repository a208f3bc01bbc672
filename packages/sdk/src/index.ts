/**
 * The AITBC SDK: typed, browser-safe clients for the node, coordinator, pool hub and wallet daemon;
 * retries, timeouts and cancellation; cursor iterators; WebSocket subscriptions that resume;
 * receipt and account-state verification; and `jobs.run`, the paid job flow. The miner agent
 * (Node only) is on `@aitbc/sdk/miner`.
 * @packageDocumentation
 */

/** Receipt types of `@aitbc/receipts`, as the SDK returns them. */
export type { Receipt } from '@aitbc/receipts';
export { ApiError, isApiError, type ServiceName } from './apiError.js';
export {
  type CoordinatorApi,
  type CoordinatorJob,
  type CoordinatorJobsApi,
  type CoordinatorMarketApi,
  type CoordinatorMinersApi,
  createCoordinatorApi,
  type JobRequirements,
  type JobResult,
  type JobState,
  type JobSubmission,
  type LoginChallenge,
  type LoginSession,
  type MarketBid,
  type MarketBidPublic,
  type MarketMatch,
  type MarketOffer,
  type MarketStats,
  type MinerAssignment,
  type MinerHeartbeat,
  type MinerRegistrationJson,
  type OfferFilter,
  TERMINAL_JOB_STATES,
} from './coordinatorApi.js';
export {
  type AitbcClient,
  type ClientJobsApi,
  type ClientOptions,
  createClient,
  type ServiceEndpoint,
} from './createClient.js';
export {
  type CallOptions,
  createHttpTransport,
  type HttpTransport,
  type HttpTransportOptions,
  newIdempotencyKey,
  parseRetryAfter,
  type RetryPolicy,
  sleep,
  type TransportRequest,
} from './httpTransport.js';
export { createLocalSigner, type TxSigner } from './localSigner.js';
export {
  type BlockHeaderJson,
  type CommitJson,
  createNodeApi,
  type JsonRpcCall,
  type NodeAccount,
  type NodeApi,
  type NodeBlock,
  type NodeConsensusEvent,
  type NodeEscrow,
  type NodeHead,
  type NodePeer,
  type NodeSyncStatus,
  type NodeTx,
  type NodeValidator,
} from './nodeApi.js';
export {
  type NodeSubscription,
  type SubscribeNodeOptions,
  type SubscribeOptions,
  type SubscriptionStatus,
  subscribeNode,
  type WebSocketConstructor,
} from './nodeSubscription.js';
export { type CursorPage, type PageOptions, paginate } from './paginate.js';
export {
  createPoolApi,
  type MatchCandidate,
  type MatchRequestJson,
  type MatchResultJson,
  type PoolApi,
  type PoolMiner,
} from './poolApi.js';
export { assertReceiptTrusted, checkReceipt, type PinnedKey, type ReceiptTrust } from './receiptTrust.js';
export {
  type JobPayer,
  type JobProgress,
  type JobRun,
  type RunJobContext,
  type RunJobParams,
  runJob,
} from './runJob.js';
export {
  type TrustedValidator,
  trustedValidatorSet,
  type VerifiedAccount,
  type VerifyAccountOptions,
  verifyAccountProof,
  verifyAccountState,
  verifyFinalHeader,
} from './verifyAccountState.js';
export {
  createWalletApi,
  type WalletApi,
  type WalletCreate,
  type WalletInfo,
  type WalletMessageSignature,
  type WalletSendBody,
  type WalletSendResult,
  type WalletSession,
} from './walletApi.js';

/**
 * The SDK's protocol version (v1 of DESIGN.md §2).
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION } from '@aitbc/sdk';
 * console.log(`speaking /v${PROTOCOL_VERSION}`); // '/v1'
 * ```
 */
export const PROTOCOL_VERSION = 1;
