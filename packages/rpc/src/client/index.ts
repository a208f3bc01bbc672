/**
 * The browser-safe node client (`@aitbc/rpc/client`): no server dependencies, only `fetch`.
 * @packageDocumentation
 */
export {
  type ClientJson,
  type ClientJsonObject,
  createNodeClient,
  type JsonRpcCall,
  type NodeClient,
  type NodeClientOptions,
} from './createNodeClient.js';
