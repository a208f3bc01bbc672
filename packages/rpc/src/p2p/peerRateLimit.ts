/**
 * Per-peer rate limits of the peer network: token buckets for frames and for bytes.
 *
 * @example
 * ```ts
 * const options: PeerRateLimitOptions = { messagesPerSecond: 1_000, messageBurst: 2_000,
 *   bytesPerSecond: 32 << 20, byteBurst: 64 << 20 };
 * const limit = createPeerRateLimit(options);
 * ```
 */
export interface PeerRateLimitOptions {
  /** Frames a peer may send per second, sustained (default 1 000). */
  readonly messagesPerSecond?: number;
  /** Frames a peer may send at once (bucket size, default 2 × `messagesPerSecond`). */
  readonly messageBurst?: number;
  /** Bytes a peer may send per second, sustained (default 32 MiB). */
  readonly bytesPerSecond?: number;
  /** Bytes a peer may send at once (bucket size; default 64 MiB, never below one maximal frame). */
  readonly byteBurst?: number;
  /** Clock in ms (default `performance.now`); tests pass their own. */
  readonly now?: () => number;
}

/**
 * The rate limit of one peer; see {@link createPeerRateLimit}.
 *
 * @example
 * ```ts
 * const limit: PeerRateLimit = createPeerRateLimit();
 * socket.on('message', (data) => { if (!limit.take(data.length)) return dropAndScoreDown(); });
 * ```
 */
export interface PeerRateLimit {
  /** Takes one frame of `bytes` from both buckets; `false` (nothing taken) when either is short. */
  take(bytes: number): boolean;
}

/** A token bucket: `capacity` tokens, refilled at `rate` per second. */
class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    readonly capacity: number,
    readonly rate: number,
    readonly now: () => number,
  ) {
    this.#tokens = capacity;
    this.#at = now();
  }
  /** Refills for the time elapsed, then reports whether `n` tokens are there (nothing taken). */
  has(n: number): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((t - this.#at) * this.rate) / 1000);
    this.#at = t;
    return this.#tokens >= n;
  }
  take(n: number) {
    this.#tokens -= n;
  }
}

/**
 * Creates the rate limit of one peer: a frame costs one message token and its length in byte tokens;
 * both buckets start full and refill continuously. The defaults carry a 2,000+ tx/s network (a peer's
 * transaction batches, votes and proposals are well under 200 frames and a few MiB per second) many
 * times over; they stop a flood of small frames within the burst.
 *
 * @example
 * ```ts
 * const limit = createPeerRateLimit({ messagesPerSecond: 10, messageBurst: 2 });
 * limit.take(100); // true
 * limit.take(100); // true
 * limit.take(100); // false: the burst is spent until the bucket refills (10 frames per second)
 * ```
 */
export function createPeerRateLimit(options: PeerRateLimitOptions = {}): PeerRateLimit {
  const now = options.now ?? (() => performance.now());
  const mps = options.messagesPerSecond ?? 1_000;
  const bps = options.bytesPerSecond ?? 32 * 1024 * 1024;
  const messages = new TokenBucket(options.messageBurst ?? 2 * mps, mps, now);
  const bytes = new TokenBucket(options.byteBurst ?? 64 * 1024 * 1024, bps, now);
  return {
    take(n) {
      if (!messages.has(1) || !bytes.has(n)) return false;
      messages.take(1);
      bytes.take(n);
      return true;
    },
  };
}
