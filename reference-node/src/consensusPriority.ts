import type { Chain } from '@aitbc/chain-core';

/** Options of {@link createConsensusPriority}. */
export interface ConsensusPriorityOptions {
  /**
   * The share of the thread (0 < share ≤ 1) transaction intake keeps while a block is built,
   * validated or imported: after a slice of intake work of `t` ms, the next slice waits up to
   * `t × (1 − share) / share` ms for that work to end. `1` gives consensus work no priority.
   */
  readonly intakeShare: number;
  /** Longest single wait (ms, default 1000). */
  readonly maxWaitMs?: number;
}

/** Block building, validation and import before transaction intake; see {@link createConsensusPriority}. */
export interface ConsensusPriority {
  /**
   * The chain with `buildBlock`, `validateBlock` and `importBlock` marked as consensus work while they
   * run; every other member is the chain's own. Give it to the validator engine and to block sync.
   */
  track(chain: Chain): Chain;
  /** Runs `work` marked as consensus work. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Consensus work running now. */
  readonly busy: number;
  /**
   * Runs one slice of intake work (a few milliseconds: verifying and inserting a slice of
   * transactions). While consensus work runs, it first waits for that work to end, at most long
   * enough that intake keeps `intakeShare` of the thread; when none runs, it runs at once.
   */
  intakeSlice<T>(work: () => Promise<T>): Promise<T>;
  /** How often, and how long in all, intake waited (ms): the effect, for metrics and logs. */
  readonly waits: { readonly count: number; readonly totalMs: number };
}

const TRACKED = new Set<PropertyKey>(['buildBlock', 'validateBlock', 'importBlock']);

/**
 * Gives the work that moves the chain priority over transaction intake on the node's one thread.
 * Admitting a gossiped or submitted transaction is CPU work (its signature verified, its sender's
 * account read) that finalizes nothing by itself, while building a proposal, validating a peer's and
 * importing a decided block are what every other validator waits for: a height's latency is the sum of
 * these steps on the slowest validator. Under overload (thousands of gossiped transactions waiting)
 * intake ran between the awaits of every one of those steps and stretched each.
 *
 * So intake runs in slices through {@link ConsensusPriority.intakeSlice}: while a block is built,
 * validated or imported, a slice waits for that step to end — but never so long that intake gets
 * less than `intakeShare` of the thread, so that it cannot starve (a proposer builds its block from
 * what its intake admitted). Votes need no pause: they are handled between slices (each slice is a
 * few milliseconds of work). What intake has not verified when a block arrives is verified once
 * anyway, by the block's validation (signatures are cached across both paths); a backlog that
 * builds up in intake shows in the admission control's backlog, which then sheds new submissions at
 * the edge.
 *
 * @example
 * ```ts
 * const priority = createConsensusPriority({ intakeShare: 0.25 });
 * const engineChain = priority.track(chain); // to the validator engine and block sync
 * for (const slice of slices) await priority.intakeSlice(() => mempool.addMany(slice));
 * ```
 */
export function createConsensusPriority(options: ConsensusPriorityOptions): ConsensusPriority {
  const share = Math.min(1, Math.max(0.01, options.intakeShare));
  const maxWaitMs = options.maxWaitMs ?? 1000;
  let busy = 0;
  let waiting: Array<() => void> = [];
  let count = 0;
  let totalMs = 0;
  let lastSliceMs = 0;
  const done = () => {
    busy--;
    if (busy === 0 && waiting.length > 0) {
      const wake = waiting;
      waiting = [];
      for (const w of wake) w();
    }
  };
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    busy++;
    try {
      return await work();
    } finally {
      done();
    }
  };
  /** Resolves when no consensus work runs, or after `ms`. */
  const idleOr = (ms: number) => {
    const started = performance.now();
    return new Promise<void>((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        count++;
        totalMs += performance.now() - started;
        resolve();
      };
      const timer = setTimeout(() => {
        waiting = waiting.filter((w) => w !== finish);
        finish();
      }, ms);
      waiting.push(finish);
    });
  };
  return {
    track(chain) {
      const bound = new Map<PropertyKey, { readonly of: unknown; readonly fn: unknown }>();
      return new Proxy(chain, {
        get(target, key) {
          const value: unknown = Reflect.get(target, key, target);
          if (typeof value !== 'function') return value;
          let entry = bound.get(key);
          if (entry?.of !== value) {
            const fn = value as (...args: unknown[]) => Promise<unknown>;
            entry = {
              of: value,
              fn: TRACKED.has(key) ? (...args: unknown[]) => run(() => fn.apply(target, args)) : fn.bind(target),
            };
            bound.set(key, entry);
          }
          return entry.fn;
        },
      });
    },
    run,
    get busy() {
      return busy;
    },
    async intakeSlice(work) {
      if (busy > 0 && share < 1) {
        // At least a millisecond: a first slice (nothing measured yet) still lets the step go first.
        const ms = Math.min(maxWaitMs, Math.max(1, (lastSliceMs * (1 - share)) / share));
        await idleOr(ms);
      }
      const started = performance.now();
      try {
        return await work();
      } finally {
        lastSliceMs = performance.now() - started;
      }
    },
    get waits() {
      return { count, totalMs };
    },
  };
}
