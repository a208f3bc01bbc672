/**
 * A level-backed `KVStore` for `@aitbc/chain-core`: classic-level (LevelDB) in Node, browser-level
 * (IndexedDB) in browsers.
 * @packageDocumentation
 */
export { LevelKVStore, type LevelKVStoreOptions } from './levelKVStore.js';
