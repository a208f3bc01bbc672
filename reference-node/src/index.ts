/**
 * The AITBC reference node: composition of the @aitbc packages.
 * @packageDocumentation
 */
export { createChainBackend } from './chainBackend.js';
export { type DevnetOfOne, type DevnetOfOneOptions, startDevnetOfOne } from './devnetOfOne.js';
export { createNodeSettlementGateway, settleTxSigner } from './settlementGateway.js';
