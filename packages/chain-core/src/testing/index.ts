/**
 * Test helpers for implementers of chain-core's interfaces: the `KVStore` compliance suite
 * (requires vitest, an optional peer dependency).
 * @packageDocumentation
 */
export { type KVStoreFactory, kvStoreCompliance } from './kvStoreCompliance.js';
