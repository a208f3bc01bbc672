/**
 * The AITBC SDK: typed, browser-safe clients for the node, coordinator, pool hub and wallet daemon.
 * @packageDocumentation
 */

/** The SDK's protocol version (v1 of DESIGN.md §2). */
export const PROTOCOL_VERSION = 1;
