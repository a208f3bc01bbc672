import type { Chain } from '@aitbc/chain-core';

/** Options of {@link createConsensusPriority}. */
export interface ConsensusPriorityOptions {
  /**
   * Longest a caller of {@link ConsensusPriority.yieldToConsensus} waits (ms): consensus work that
   * runs longer (a long block sync) does not stop transaction intake altogether. `0` never waits.
   */
  readonly maxWaitMs: number;
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
   * Resolves at once when no consensus work runs; else when the last of it ends, or after
   * `maxWaitMs`. Transaction intake awaits it before each slice of signatures it verifies.
   */
  yieldToConsensus(): Promise<void>;
  /** How often, and how long in all, intake waited (ms): the effect, for metrics and logs. */
  readonly waits: { readonly count: number; readonly totalMs: number };
}

const TRACKED = new Set<PropertyKey>(['buildBlock', 'validateBlock', 'importBlock']);

/**
 * Gives the work that moves the chain priority over transaction intake on the node's one thread.
 * Admitting a gossiped or submitted transaction is CPU work (its signature verified, its sender's
 * account read) that finalizes nothing by itself, while building a proposal, validating a peer's and
 * importing a decided block are what every other validator waits for: a round's latency is the sum of
 * these steps on the slowest validator. Intake that runs between the awaits of an import stretches
 * the import; under overload (thousands of gossiped transactions waiting) it stretched every step of
 * every height. So intake awaits {@link ConsensusPriority.yieldToConsensus} before each slice: while
 * a block is built, validated or imported it pauses (bounded by `maxWaitMs`), and it gets the
 * thread back as soon as the step ends. Votes need no pause: they are handled between slices (each
 * slice is a few milliseconds of work).
 *
 * What intake does not verify in time is verified once anyway, by the block that includes it
 * (signatures are cached across both paths), and a backlog that builds up in intake shows in the
 * admission control's backlog, which then sheds new submissions at the edge.
 *
 * @example
 * ```ts
 * const priority = createConsensusPriority({ maxWaitMs: 1000 });
 * const engineChain = priority.track(chain);
 * for (const slice of slices) {
 *   await priority.yieldToConsensus();
 *   await mempool.addMany(slice);
 * }
 * ```
 */
export function createConsensusPriority(options: ConsensusPriorityOptions): ConsensusPriority {
  let busy = 0;
  let waiting: Array<() => void> = [];
  let count = 0;
  let totalMs = 0;
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
    yieldToConsensus() {
      if (busy === 0 || options.maxWaitMs <= 0) return Promise.resolve();
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
        const timer = setTimeout(finish, options.maxWaitMs);
        waiting.push(finish);
      });
    },
    get waits() {
      return { count, totalMs };
    },
  };
}
