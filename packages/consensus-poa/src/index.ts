/**
 * Stake-weighted Tendermint-style BFT consensus for AITBC with one-block finality, and a deterministic simulator.
 * @packageDocumentation
 */
