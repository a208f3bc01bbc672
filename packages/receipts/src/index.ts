/**
 * AITBC compute receipts: canonical bytes, miner signatures, coordinator attestations and pinned-key verification.
 * @packageDocumentation
 */
