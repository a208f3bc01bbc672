/**
 * A level-backed KVStore for @aitbc/chain-core (classic-level in Node, browser-level in browsers).
 * @packageDocumentation
 */
