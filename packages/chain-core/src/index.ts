/**
 * The AITBC ledger: transactions, blocks, genesis, authenticated state, mempool, block builder and chain import.
 * @packageDocumentation
 */
