import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KVStore } from '../kvStore.js';

/**
 * How {@link kvStoreCompliance} gets stores.
 *
 * @example
 * ```ts
 * import type { KVStoreFactory } from '@aitbc/chain-core/testing';
 * const factory: KVStoreFactory = {
 *   create: async () => LevelKVStore.open({ path: dir }),
 *   reopen: async () => LevelKVStore.open({ path: dir }),
 * };
 * ```
 */
export interface KVStoreFactory {
  /** A fresh, empty, open store. */
  create(): Promise<KVStore>;
  /** Reopens the store last created, after it was closed (persistent stores only). */
  reopen?(): Promise<KVStore>;
}

const b = (...bytes: number[]) => new Uint8Array(bytes);
const u = (s: string) => new TextEncoder().encode(s);

async function collect(it: AsyncIterable<readonly [Uint8Array, Uint8Array]>): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const [k, v] of it) out.push([[...k], [...v]]);
  return out;
}

/**
 * The behaviour every {@link KVStore} must have. Call it inside a vitest file with a factory; it
 * registers its own `describe` block.
 *
 * @example
 * ```ts
 * import { MemoryKVStore } from '@aitbc/chain-core';
 * import { kvStoreCompliance } from '@aitbc/chain-core/testing';
 * kvStoreCompliance('MemoryKVStore', { create: async () => new MemoryKVStore() });
 * ```
 */
export function kvStoreCompliance(name: string, factory: KVStoreFactory): void {
  describe(`KVStore compliance: ${name}`, () => {
    let store: KVStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close().catch(() => undefined);
    });

    it('gets nothing for an absent key, then what was put, then the overwrite', async () => {
      expect(await store.get(u('a'))).toBeUndefined();
      await store.put(u('a'), u('1'));
      expect(await store.get(u('a'))).toEqual(u('1'));
      await store.put(u('a'), u('2'));
      expect(await store.get(u('a'))).toEqual(u('2'));
      await store.del(u('a'));
      expect(await store.get(u('a'))).toBeUndefined();
      await store.del(u('never-there'));
    });

    it('stores empty values and binary keys with 0x00 and 0xff', async () => {
      await store.put(b(0x00), new Uint8Array(0));
      await store.put(b(0xff, 0x00, 0xff), b(1, 2));
      expect(await store.get(b(0x00))).toEqual(new Uint8Array(0));
      expect(await store.get(b(0xff, 0x00, 0xff))).toEqual(b(1, 2));
      expect(await store.get(b(0xff, 0x00))).toBeUndefined();
    });

    it('returns values that are plain Uint8Array copies', async () => {
      const value = b(1, 2, 3);
      await store.put(b(1), value);
      value[0] = 9;
      const got = (await store.get(b(1)))!;
      expect(got).toEqual(b(1, 2, 3));
      expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
      got[0] = 7;
      expect(await store.get(b(1))).toEqual(b(1, 2, 3));
    });

    it('orders keys by unsigned bytes, shorter prefix first', async () => {
      for (const k of [b(0x80), b(0x01), b(0x01, 0x00), b(0xff), b(0x7f), b(0x00)]) await store.put(k, b(0));
      const keys = (await collect(store.iterate())).map(([k]) => k);
      expect(keys).toEqual([[0x00], [0x01], [0x01, 0x00], [0x7f], [0x80], [0xff]]);
    });

    it('honours every range bound, reverse and limit', async () => {
      for (let i = 0; i < 10; i++) await store.put(b(i), b(i * 10));
      const keys = async (o: Parameters<KVStore['iterate']>[0]) => (await collect(store.iterate(o))).map(([k]) => k[0]);
      expect(await keys({ gte: b(3), lt: b(6) })).toEqual([3, 4, 5]);
      expect(await keys({ gt: b(3), lte: b(6) })).toEqual([4, 5, 6]);
      expect(await keys({ gt: b(3), lt: b(4) })).toEqual([]);
      expect(await keys({ gte: b(8) })).toEqual([8, 9]);
      expect(await keys({ lt: b(2) })).toEqual([0, 1]);
      expect(await keys({ gte: b(2), lte: b(7), reverse: true })).toEqual([7, 6, 5, 4, 3, 2]);
      expect(await keys({ reverse: true, limit: 3 })).toEqual([9, 8, 7]);
      expect(await keys({ gte: b(5), limit: 2 })).toEqual([5, 6]);
      expect(await keys({ gte: b(20) })).toEqual([]);
      expect(await keys({ gte: b(7), lte: b(3) })).toEqual([]);
      expect(await collect(store.iterate({ gte: b(4), lt: b(5) }))).toEqual([[[4], [40]]]);
    });

    it('iterates by prefix with bounds that are not keys', async () => {
      for (const k of ['acct/a', 'acct/b', 'acct0', 'blk/1', 'acct/']) await store.put(u(k), u(k));
      const keys = (await collect(store.iterate({ gte: u('acct/'), lt: u('acct0') }))).map(([k]) =>
        new TextDecoder().decode(Uint8Array.from(k)),
      );
      expect(keys).toEqual(['acct/', 'acct/a', 'acct/b']);
    });

    it('applies batches atomically, and rejects an invalid batch without writing any of it', async () => {
      await store.put(u('keep'), u('old'));
      await store.batch([
        { type: 'put', key: u('x'), value: u('1') },
        { type: 'put', key: u('y'), value: u('2') },
        { type: 'del', key: u('keep') },
      ]);
      expect(await store.getMany([u('x'), u('y'), u('keep')])).toEqual([u('1'), u('2'), undefined]);
      await expect(
        store.batch([
          { type: 'put', key: u('z'), value: u('3') },
          { type: 'put', key: 'not-bytes' as unknown as Uint8Array, value: u('4') },
        ]),
      ).rejects.toThrow();
      expect(await store.get(u('z'))).toBeUndefined();
      await store.batch([], { sync: true });
      await store.batch([{ type: 'put', key: u('s'), value: u('synced') }], { sync: true });
      expect(await store.get(u('s'))).toEqual(u('synced'));
    });

    it('applies later ops of a batch over earlier ones', async () => {
      await store.batch([
        { type: 'put', key: u('k'), value: u('1') },
        { type: 'del', key: u('k') },
        { type: 'put', key: u('j'), value: u('1') },
        { type: 'put', key: u('j'), value: u('2') },
      ]);
      expect(await store.getMany([u('k'), u('j')])).toEqual([undefined, u('2')]);
    });

    it('getMany keeps order and reports absent keys', async () => {
      await store.put(b(2), b(20));
      expect(await store.getMany([b(1), b(2), b(3), b(2)])).toEqual([undefined, b(20), undefined, b(20)]);
      expect(await store.getMany([])).toEqual([]);
    });

    it('getSync, when offered, agrees with get', async () => {
      if (store.getSync === undefined) return;
      await store.put(b(5), b(50));
      expect(store.getSync(b(5))).toEqual(b(50));
      expect(store.getSync(b(6))).toBeUndefined();
    });

    it('iterators see the data as of their start', async () => {
      for (let i = 0; i < 5; i++) await store.put(b(i), b(i));
      const seen: number[] = [];
      for await (const [k] of store.iterate()) {
        seen.push(k[0]!);
        if (k[0] === 1) {
          await store.put(b(9), b(9));
          await store.del(b(3));
        }
      }
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });

    it('holds 1 MiB values and 10,000 keys', async () => {
      const big = new Uint8Array(1024 * 1024).map((_, i) => i & 255);
      await store.put(u('big'), big);
      const got = await store.get(u('big'));
      // Byte comparison in one pass: a deep equality over 1 MiB takes seconds on a loaded machine.
      expect(got).toBeInstanceOf(Uint8Array);
      expect(got!.length).toBe(big.length);
      expect(got!.every((b, i) => b === big[i])).toBe(true);
      const ops = Array.from({ length: 10_000 }, (_, i) => ({
        type: 'put' as const,
        key: u(`n/${String(i).padStart(5, '0')}`),
        value: u(String(i)),
      }));
      await store.batch(ops);
      const all = await collect(store.iterate({ gte: u('n/'), lt: u('n0') }));
      expect(all.length).toBe(10_000);
      expect(new TextDecoder().decode(Uint8Array.from(all[9_999]![1]))).toBe('9999');
    });

    it('fails every call after close with STORE_CLOSED', async () => {
      await store.close();
      const closed = expect.objectContaining({ code: 'STORE_CLOSED' });
      await expect(store.get(b(1))).rejects.toEqual(closed);
      await expect(store.put(b(1), b(1))).rejects.toEqual(closed);
      await expect(store.batch([])).rejects.toEqual(closed);
      await expect(collect(store.iterate())).rejects.toEqual(closed);
    });

    if (factory.reopen !== undefined) {
      it('keeps data across close and reopen', async () => {
        await store.batch([
          { type: 'put', key: u('p/1'), value: u('one') },
          { type: 'put', key: u('p/2'), value: u('two') },
        ]);
        await store.put(u('p/3'), u('three'));
        await store.del(u('p/2'));
        await store.close();
        store = await factory.reopen!();
        expect(await store.getMany([u('p/1'), u('p/2'), u('p/3')])).toEqual([u('one'), undefined, u('three')]);
      });
    }
  });
}
