/**
 * The AITBC miner agent (Node only): capability probe, registration, heartbeats, long-poll, runners.
 * @packageDocumentation
 */

/** Job kinds the built-in runners handle. */
export const BUILTIN_JOB_KINDS = ['hash', 'wasm', 'llm.generate'] as const;
