import { AitbcError } from '@aitbc/crypto';

/**
 * One page of a cursor-paged list.
 *
 * @example
 * ```ts
 * import type { CursorPage, NodeTx } from '@aitbc/sdk';
 * const page: CursorPage<NodeTx> = await client.node.txsByAddressPage('ait1…', { limit: 50 });
 * const next = page.nextCursor === null ? undefined : await client.node.txsByAddressPage('ait1…', { cursor: page.nextCursor });
 * ```
 */
export interface CursorPage<T> {
  readonly items: readonly T[];
  /** Cursor of the next page, `null` on the last page. */
  readonly nextCursor: string | null;
}

/**
 * Options of the SDK's paged iterators.
 *
 * @example
 * ```ts
 * import type { PageOptions } from '@aitbc/sdk';
 * const options: PageOptions = { limit: 100, maxItems: 500, signal: AbortSignal.timeout(10_000) };
 * for await (const job of client.jobs.list(options)) console.log(job.job_id);
 * ```
 */
export interface PageOptions {
  /** Page size asked of the server (each route has its own bounds). */
  readonly limit?: number;
  /** Start from this cursor instead of the first page. */
  readonly cursor?: string;
  /** Stop after this many items (default: all). */
  readonly maxItems?: number;
  /** Stops the iteration; the pending page request rejects with `SDK_ABORTED`. */
  readonly signal?: AbortSignal;
}

/**
 * Turns a page fetcher into an async iterator over every item, following `nextCursor` until the
 * last page. A server that hands back the cursor it was given (which would loop forever) is
 * refused with `SDK_BAD_RESPONSE`.
 *
 * @example
 * ```ts
 * for await (const tx of paginate((cursor) => fetchPage(cursor))) console.log(tx);
 * ```
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>,
  options: Pick<PageOptions, 'cursor' | 'maxItems'> = {},
): AsyncGenerator<T, void, undefined> {
  let cursor = options.cursor;
  let left = options.maxItems ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const page = await fetchPage(cursor);
    if (!Array.isArray(page?.items))
      throw new AitbcError('SDK_BAD_RESPONSE', 'a page must have an items array', { details: { cursor } });
    for (const item of page.items) {
      if (left-- <= 0) return;
      yield item;
    }
    const next = page.nextCursor;
    if (next === null || next === undefined) return;
    if (typeof next !== 'string' || next === cursor)
      throw new AitbcError('SDK_BAD_RESPONSE', 'the server returned a cursor that does not advance', {
        details: { cursor },
      });
    cursor = next;
  }
}
