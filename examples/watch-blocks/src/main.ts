/**
 * Watches blocks over the node's WebSocket API (`/ws`, `new_blocks`): replays from a height, then
 * follows live blocks; after a dropped connection the SDK resubscribes from the last height it
 * delivered, so every height arrives exactly once.
 *
 * Against `npm start`: `npm start -w examples/watch-blocks` (node 0 at http://127.0.0.1:8006, or
 * `AITBC_NODE_URL`); Ctrl-C to stop.
 */
import { pathToFileURL } from 'node:url';
import { createClient, type NodeBlock } from '@aitbc/sdk';
import { WebSocket } from 'ws';

/** Options of {@link watchBlocks}. */
export interface WatchBlocksOptions {
  /** Node API base URL (`http://…`); the SDK derives `ws://…/ws`. */
  readonly nodeUrl: string;
  /** First height to deliver (default 1: replay the whole chain). */
  readonly fromHeight?: number;
  /** Stop after this many blocks (default: run until `signal` aborts). */
  readonly count?: number;
  readonly signal?: AbortSignal;
  /** Called for each block, in height order. */
  readonly onBlock?: (block: NodeBlock) => void;
}

/** Follows blocks until `count` arrived or `signal` aborts; resolves the heights seen. */
export async function watchBlocks(options: WatchBlocksOptions): Promise<number[]> {
  // Node 20 has no global WebSocket: hand the SDK the `ws` class (browsers use their own).
  const client = createClient({ node: options.nodeUrl, webSocket: WebSocket });
  const blocks = client.node.subscribeBlocks({
    fromHeight: options.fromHeight ?? 1,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  await blocks.ready; // rejects with the node's code if it refuses the subscription
  const heights: number[] = [];
  try {
    for await (const block of blocks) {
      heights.push(block.height);
      options.onBlock?.(block);
      if (options.count !== undefined && heights.length >= options.count) break; // closes the subscription
    }
  } catch (err) {
    if (options.signal?.aborted !== true) throw err; // Ctrl-C ends the loop; anything else is an error
  }
  return heights;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await watchBlocks({
    nodeUrl: process.env.AITBC_NODE_URL ?? 'http://127.0.0.1:8006',
    signal: stop.signal,
    onBlock: (b) => console.log(`block ${b.height}  ${b.hash}  ${b.txs.length} tx  proposer ${b.header.proposer}`),
  });
}
