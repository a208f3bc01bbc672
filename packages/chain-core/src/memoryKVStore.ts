import { AitbcError } from '@aitbc/crypto';
import { assertBatchOps, type BatchOp, type BatchOptions, type IterateOptions, type KVStore } from './kvStore.js';

/** Latin-1 string of a key: one char per byte, so string order equals unsigned byte order. */
function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i += 8192)
    s += String.fromCharCode.apply(null, key.subarray(i, i + 8192) as unknown as number[]);
  return s;
}

/** Bytes of a latin-1 key string. */
function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new AitbcError('STORE_BAD_INPUT', `${what} must be a Uint8Array`);
}

/** Index of the first element ≥ (or > when `strict`) `target` in a sorted array. */
function lowerBound(sorted: readonly string[], target: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = sorted[mid]!;
    if (m < target || (strict && m === target)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An in-memory {@link KVStore}: for tests, simulations and browsers without persistence. Values are
 * copied in and out (callers cannot mutate stored bytes), batches are atomic (validated before any
 * write), iteration is ordered by unsigned bytes and sees the data as of its start. The values of one
 * batch are copied into one buffer (a view each), which keeps the garbage collector's work per
 * stored entry small.
 *
 * @example
 * ```ts
 * const store = new MemoryKVStore();
 * await store.put(new Uint8Array([1]), new Uint8Array([42]));
 * for await (const [key, value] of store.iterate({ gte: new Uint8Array([0]) })) console.log(key, value);
 * ```
 */
export class MemoryKVStore implements KVStore {
  readonly #map = new Map<string, Uint8Array>();
  #sorted: string[] | undefined;
  #closed = false;

  /** Number of stored keys. */
  get size(): number {
    return this.#map.size;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.getSync(key);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((k) => this.getSync(k));
  }

  /** Synchronous read (no I/O). */
  readonly getSync = (key: Uint8Array): Uint8Array | undefined => {
    this.#open();
    checkBytes(key, 'key');
    return this.#map.get(keyString(key))?.slice();
  };

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }]);
  }

  async del(key: Uint8Array): Promise<void> {
    await this.batch([{ type: 'del', key }]);
  }

  async batch(ops: readonly BatchOp[], _options?: BatchOptions): Promise<void> {
    this.#open();
    assertBatchOps(ops);
    let bytes = 0;
    for (const op of ops) if (op.type === 'put') bytes += op.value.length;
    const arena = new Uint8Array(bytes);
    let at = 0;
    const map = this.#map;
    for (const op of ops) {
      const k = keyString(op.key);
      if (op.type === 'put') {
        const n = op.value.length;
        arena.set(op.value, at);
        const value = arena.subarray(at, at + n);
        at += n;
        const size = map.size;
        map.set(k, value);
        if (map.size !== size) this.#sorted = undefined;
      } else if (map.delete(k)) {
        this.#sorted = undefined;
      }
    }
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]> {
    this.#open();
    const sorted = this.#sortedKeys();
    let start = 0;
    let end = sorted.length;
    if (options.gte !== undefined) start = Math.max(start, lowerBound(sorted, keyString(options.gte), false));
    if (options.gt !== undefined) start = Math.max(start, lowerBound(sorted, keyString(options.gt), true));
    if (options.lte !== undefined) end = Math.min(end, lowerBound(sorted, keyString(options.lte), true));
    if (options.lt !== undefined) end = Math.min(end, lowerBound(sorted, keyString(options.lt), false));
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    // Snapshot the entries in range now, so writes during iteration are not seen.
    const entries: [string, Uint8Array][] = [];
    if (options.reverse) {
      for (let i = end - 1; i >= start && entries.length < limit; i--)
        entries.push([sorted[i]!, this.#map.get(sorted[i]!)!]);
    } else {
      for (let i = start; i < end && entries.length < limit; i++)
        entries.push([sorted[i]!, this.#map.get(sorted[i]!)!]);
    }
    for (const [k, v] of entries) yield [keyBytes(k), v.slice()] as const;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #sortedKeys(): string[] {
    if (this.#sorted === undefined) this.#sorted = [...this.#map.keys()].sort();
    return this.#sorted;
  }

  #open(): void {
    if (this.#closed) throw new AitbcError('STORE_CLOSED', 'the store is closed');
  }
}
