/**
 * Whether an error of a sync's `importBlocks` is this node's own failure rather than bad data from
 * the peer: an `AitbcError` whose code a store or chain uses for a failed read or write —
 * `CHAIN_STORE_FAILED` (chain-core), `STORAGE_*` (e.g. `STORAGE_FULL` for a full disk) and `STORE_*`.
 * Read by shape (`code`), so that this package needs no dependency on the chain or the store.
 */
export function isLocalFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code === 'CHAIN_STORE_FAILED' || code.startsWith('STORAGE_') || code.startsWith('STORE_'))
  );
}
