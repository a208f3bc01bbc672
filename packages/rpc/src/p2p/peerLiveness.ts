/**
 * Stalled-connection detection for the peer network.
 *
 * A TCP connection whose path goes away (a partition, a cable, a NAT dropping its mapping) is not
 * closed: the kernel keeps retransmitting with an exponentially growing timeout (200 ms, 400 ms, …,
 * 6.4 s, 12.8 s), so after a cut of a few seconds the first retransmission after the path is back can
 * come seconds later, and every frame sent meanwhile waits behind it. Measured in the chaos campaign's
 * 2|2 partition (8 s cut): the first frame crossed 5.6–5.9 s after the heal, with the sockets at
 * `backoff:5, rto:6.8 s`. A fresh connection has no such backoff.
 *
 * So a connection from which nothing at all — no frame, no pong, no ping — was heard for
 * `stallTimeoutMs` is dropped (and a configured peer is redialled). A healthy peer always has
 * something to say: once it has been quiet for half the window it is pinged, and its pong counts.
 * The decision runs after the event loop has read what the kernel holds (`setImmediate` after the
 * timer), and a tick that fires late — this process's own event loop was blocked — decides nothing,
 * so a busy node does not blame its peers for its own stall.
 */

/** What to do with one connection at a liveness tick. */
export type LivenessVerdict = 'ok' | 'ping' | 'drop';

/**
 * The verdict for a connection silent for `silentMs`, given whether it was already pinged since it
 * was last heard from.
 * `livenessVerdict(2_500, false, 4_000)` is `'ping'`; `livenessVerdict(4_100, true, 4_000)` is `'drop'`.
 */
export function livenessVerdict(silentMs: number, pinged: boolean, stallTimeoutMs: number): LivenessVerdict {
  if (stallTimeoutMs <= 0) return 'ok';
  if (silentMs >= stallTimeoutMs) return 'drop';
  if (silentMs >= stallTimeoutMs / 2 && !pinged) return 'ping';
  return 'ok';
}

/** How often the liveness check runs for a given stall timeout (eight ticks per window, at least 50 ms). */
export function livenessTickMs(stallTimeoutMs: number): number {
  return Math.max(50, Math.floor(stallTimeoutMs / 8));
}
