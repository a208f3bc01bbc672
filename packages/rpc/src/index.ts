/**
 * The AITBC node's networking and API layer: the node API server (REST, JSON-RPC 2.0, WebSocket
 * subscriptions, Prometheus metrics, OpenAPI), the WebSocket peer network (handshake, gossip, block
 * sync) and the typed node client. The ledger is reached through the `NodeBackend` interface declared
 * here, so this package does not depend on chain-core.
 * @packageDocumentation
 */

export { overrideBackend, submitThenRelease } from './backendOverrides.js';
export {
  type ClientJson,
  type ClientJsonObject,
  createNodeClient,
  type JsonRpcCall,
  type NodeClient,
  type NodeClientOptions,
} from './client/createNodeClient.js';
export {
  handleJsonRpc,
  JSON_RPC_CODES,
  type JsonRpcError,
  type JsonRpcOptions,
  type JsonRpcResponse,
} from './jsonRpc/handleJsonRpc.js';
export { createNodeMetrics, type NodeMetrics, type NodeMetricsOptions } from './metrics.js';
export type {
  BlockWire,
  ConsensusEventWire,
  HeadWire,
  JsonObject,
  JsonValue,
  NodeBackend,
  NodeBackendEvents,
  Page,
  PeerWire,
  SyncStatusWire,
} from './nodeBackend.js';
export {
  MAX_MEMPOOL_LIMIT,
  MAX_PAGE_LIMIT,
  NODE_OPERATIONS,
  type NodeOperation,
  type OperationParams,
  parseHeight,
} from './nodeOperations.js';
export {
  createPeerNetwork,
  type GossipEvent,
  type PeerNetwork,
  type PeerNetworkEvents,
  type PeerNetworkLimits,
  type PeerNetworkOptions,
  type PeerNetworkStats,
  type SyncOptions,
} from './p2p/createPeerNetwork.js';
export type { GossipValidator, GossipVerdict } from './p2p/gossipVerdict.js';
export {
  type GossipKind,
  MAX_TX_ANNOUNCE_IDS,
  MAX_TX_REQUEST_IDS,
  type PeerMessage,
  parsePeerMessage,
  type TxExchangeMessage,
} from './p2p/peerMessages.js';
export {
  createTxExchange,
  type TxAdmission,
  type TxExchange,
  type TxExchangeLimits,
  type TxExchangeOptions,
  type TxExchangePool,
  type TxExchangeStats,
} from './p2p/txExchange.js';
export { httpStatusOf, RPC_ERROR_STATUS, type RpcErrorCode, rpcError } from './rpcErrors.js';
export {
  createNodeApiServer,
  type NodeApiLimits,
  type NodeApiServer,
  type NodeApiServerOptions,
} from './server/createNodeApiServer.js';
export { buildOpenApiDocument, NODE_ROUTES, type NodeRoute, SEND_TX_ACCEPTED } from './server/nodeRoutes.js';
export {
  createSubscriptionHub,
  type SubscriptionHub,
  type SubscriptionHubLimits,
  type SubscriptionTopic,
} from './ws/subscriptionHub.js';
