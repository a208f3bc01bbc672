import type { PeerNetworkLimits } from '@aitbc/rpc';

/**
 * The node's peer liveness settings: how fast a validator notices a dead path to a peer and gets a
 * fresh connection once the path is back (see `stallTimeoutMs` in `@aitbc/rpc`).
 *
 * - `stallTimeoutMs` 6 s. Without it, the chaos campaign's 2|2 partition (an 8 s cut) left the TCP
 *   connections open with their retransmission timeout backed off to 6.8 s: the first frame crossed
 *   5.6–5.9 s after the heal, and finality resumed 9–12 s after it. A validator hears each peer several
 *   times a second (votes, status, transaction batches; an idle chain still makes an empty block every
 *   second) and pings one quiet for 3 s. Under `bench:node` on an overloaded machine (2,100 and
 *   3,000 tx/s offered, event loops blocked for up to 5 s) the longest silence seen on a timely check
 *   was 3.3 s and no peer was dropped even at a 4 s timeout; 6 s keeps a margin over that.
 * - `dialTimeoutMs` 1.5 s and `reconnectMaxMs` 1 s: during an outage a peer is redialled at least
 *   every ~2.5 s, each try sending its SYN at once and again after 1 s (the kernel's first SYN
 *   retransmission), so a healed path is used within about 1.5 s instead of after a backed-off SYN
 *   retransmission or the 10 s default reconnect cap.
 */
export const peerLivenessLimits = {
  stallTimeoutMs: 6_000,
  dialTimeoutMs: 1_500,
  reconnectMaxMs: 1_000,
} as const satisfies PeerNetworkLimits;
