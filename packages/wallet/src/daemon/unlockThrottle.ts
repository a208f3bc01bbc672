import { AitbcError } from '@aitbc/crypto';

/**
 * Options of {@link UnlockThrottle}.
 *
 * @example
 * ```ts
 * import { UnlockThrottle, type UnlockThrottleOptions } from '@aitbc/wallet/daemon';
 * const options: UnlockThrottleOptions = { freeAttempts: 5, baseDelayMs: 500, maxDelayMs: 60_000 };
 * const throttle = new UnlockThrottle(options);
 * ```
 */
export interface UnlockThrottleOptions {
  /** Wrong passphrases allowed before delays start (default 3). */
  readonly freeAttempts?: number;
  /** First delay in ms (default 1 000); it doubles with each further failure. */
  readonly baseDelayMs?: number;
  /** Longest delay in ms (default 300 000 = 5 min). */
  readonly maxDelayMs?: number;
  /** Clock (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Growing delays after wrong passphrases, per wallet: after `freeAttempts` failures each further one
 * blocks the wallet's unlocks for `baseDelayMs · 2^(n−1)` (capped). A success resets the count.
 *
 * @example
 * ```ts
 * import { UnlockThrottle } from '@aitbc/wallet/daemon';
 * const throttle = new UnlockThrottle({ freeAttempts: 3 });
 * throttle.check(walletId); // throws WALLET_UNLOCK_THROTTLED (details.retryAfterMs) while blocked
 * const delayMs = throttle.failure(walletId); // after a wrong passphrase: 0, 0, 0, 1000, 2000, …
 * throttle.success(walletId); // after a correct one
 * ```
 */
export class UnlockThrottle {
  readonly #free: number;
  readonly #base: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #state = new Map<string, { failures: number; blockedUntil: number }>();

  /** Construction does no I/O. */
  constructor(options: UnlockThrottleOptions = {}) {
    this.#free = options.freeAttempts ?? 3;
    this.#base = options.baseDelayMs ?? 1_000;
    this.#max = options.maxDelayMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** @throws AitbcError `WALLET_UNLOCK_THROTTLED` with `details.retryAfterMs` while the wallet is blocked. */
  check(walletId: string): void {
    const s = this.#state.get(walletId);
    const wait = s === undefined ? 0 : s.blockedUntil - this.#now();
    if (wait > 0)
      throw new AitbcError('WALLET_UNLOCK_THROTTLED', 'too many wrong passphrases; retry later', {
        details: { retryAfterMs: wait },
      });
  }

  /** Records a wrong passphrase; returns the delay now in force (0 while attempts are free). */
  failure(walletId: string): number {
    const s = this.#state.get(walletId) ?? { failures: 0, blockedUntil: 0 };
    s.failures++;
    const over = s.failures - this.#free;
    const delay = over <= 0 ? 0 : Math.min(this.#max, this.#base * 2 ** Math.min(over - 1, 30));
    s.blockedUntil = this.#now() + delay;
    this.#state.set(walletId, s);
    return delay;
  }

  /** Records a correct passphrase. */
  success(walletId: string): void {
    this.#state.delete(walletId);
  }

  /** Consecutive failures of a wallet. */
  failures(walletId: string): number {
    return this.#state.get(walletId)?.failures ?? 0;
  }
}
