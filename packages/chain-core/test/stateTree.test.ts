import { bytesToHex, compareBytes, sha256 } from '@aitbc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_HASH,
  type KVStore,
  leafHash,
  MemoryKVStore,
  nodeHash,
  SparseMerkleTree,
  stateProofFromJson,
  stateProofToJson,
  verifyStateProof,
} from '../src/index.js';

const k = (n: number) => sha256(new Uint8Array([n & 255, n >> 8, 7]));
const v = (s: string) => new TextEncoder().encode(s);

/** Reference root: recomputed from scratch over the whole map, independent of the tree's code. */
function referenceRoot(map: Map<string, [Uint8Array, Uint8Array]>): Uint8Array {
  const entries = [...map.values()].sort((a, b) => compareBytes(a[0], b[0]));
  const bit = (key: Uint8Array, i: number) => (key[i >> 3]! >> (7 - (i & 7))) & 1;
  const build = (items: [Uint8Array, Uint8Array][], depth: number): Uint8Array => {
    if (items.length === 0) return EMPTY_HASH;
    if (items.length === 1) return leafHash(items[0]![0], items[0]![1]);
    return nodeHash(
      build(
        items.filter(([key]) => bit(key, depth) === 0),
        depth + 1,
      ),
      build(
        items.filter(([key]) => bit(key, depth) === 1),
        depth + 1,
      ),
    );
  };
  return build(entries, 0);
}

/** A store without getSync, to exercise the level-by-level prefetch path (as browser-level has). */
function asyncOnly(store: MemoryKVStore): KVStore {
  return {
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    put: (key, value) => store.put(key, value),
    del: (key) => store.del(key),
    batch: (ops, o) => store.batch(ops, o),
    iterate: (o) => store.iterate(o),
    close: () => store.close(),
  };
}

describe('SparseMerkleTree', () => {
  it('starts empty and returns to the empty root when every key is deleted', async () => {
    const tree = new SparseMerkleTree(new MemoryKVStore());
    expect(tree.root).toEqual(SparseMerkleTree.EMPTY_ROOT);
    await tree.update([
      [k(1), v('a')],
      [k(2), v('b')],
      [k(3), v('c')],
    ]);
    expect(tree.root).not.toEqual(EMPTY_HASH);
    await tree.update([
      [k(1), null],
      [k(2), null],
      [k(3), null],
    ]);
    expect(tree.root).toEqual(EMPTY_HASH);
  });

  it('a single key’s root is its leaf (path compression)', async () => {
    const tree = new SparseMerkleTree(new MemoryKVStore());
    await tree.update([[k(9), v('x')]]);
    expect(tree.root).toEqual(leafHash(k(9), v('x')));
  });

  for (const [label, makeStore] of [
    ['with getSync', (s: MemoryKVStore): KVStore => s],
    ['async-only store', asyncOnly],
  ] as const) {
    it(`matches the reference for any sequence of batches, regardless of batching (${label}, property)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(fc.string({ maxLength: 8 }), { nil: null })), {
              maxLength: 12,
            }),
            {
              maxLength: 6,
            },
          ),
          async (batches) => {
            const mem = new MemoryKVStore();
            const store = makeStore(mem);
            const tree = new SparseMerkleTree(store, undefined, { cacheNodes: 16 });
            const oneByOne = new SparseMerkleTree(new MemoryKVStore());
            const model = new Map<string, [Uint8Array, Uint8Array]>();
            for (const batch of batches) {
              const changes = batch.map(([n, s]) => [k(n), s === null ? null : v(s)] as const);
              await tree.update(changes);
              await store.batch(tree.commitOps());
              for (const c of changes) await oneByOne.update([c]);
              for (const [key, value] of changes) {
                if (value === null) model.delete(bytesToHex(key));
                else model.set(bytesToHex(key), [key, value]);
              }
              expect(bytesToHex(tree.root)).toBe(bytesToHex(referenceRoot(model)));
              expect(tree.root).toEqual(oneByOne.root);
            }
            // a fresh tree on the same store at the committed root reads the same values
            const reopened = new SparseMerkleTree(store, tree.root, { cacheNodes: 4 });
            for (let n = 0; n <= 40; n++) expect(await reopened.get(k(n))).toEqual(model.get(bytesToHex(k(n)))?.[1]);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('proves presence and absence, and rejects every tampering (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 500 }),
        async (present, probe) => {
          const tree = new SparseMerkleTree(new MemoryKVStore());
          await tree.update(present.map((n) => [k(n), v(`value-${n}`)] as const));
          const key = k(probe);
          const value = present.includes(probe) ? v(`value-${probe}`) : undefined;
          const proof = await tree.prove(key);
          expect(verifyStateProof(tree.root, key, value, proof)).toBe(true);
          const json = JSON.parse(JSON.stringify(stateProofToJson(proof)));
          expect(verifyStateProof(tree.root, key, value, stateProofFromJson(json))).toBe(true);
          // wrong value / claim of absence for a present key / presence for an absent key
          expect(verifyStateProof(tree.root, key, v('other'), proof)).toBe(false);
          if (value !== undefined) expect(verifyStateProof(tree.root, key, undefined, proof)).toBe(false);
          // wrong root
          const root2 = tree.root;
          root2[0]! ^= 1;
          expect(verifyStateProof(root2, key, value, proof)).toBe(false);
          // a flipped bit anywhere in the proof
          for (let i = 0; i < proof.siblings.length; i++) {
            const siblings = proof.siblings.map((s) => s.slice());
            siblings[i]![31]! ^= 1;
            expect(verifyStateProof(tree.root, key, value, { ...proof, siblings })).toBe(false);
          }
          if (proof.leaf !== undefined) {
            const leafValue = proof.leaf.value.slice();
            leafValue[0] = (leafValue[0] ?? 0) ^ 1;
            expect(
              verifyStateProof(tree.root, key, value, { ...proof, leaf: { ...proof.leaf, value: leafValue } }),
            ).toBe(false);
          }
          // a truncated proof
          if (proof.siblings.length > 0)
            expect(verifyStateProof(tree.root, key, value, { ...proof, siblings: proof.siblings.slice(1) })).toBe(
              false,
            );
        },
      ),
      { numRuns: 80 },
    );
  });

  it('never throws on garbage proofs', () => {
    const root = new Uint8Array(32);
    for (const bad of [
      null,
      {},
      { siblings: 'x' },
      { siblings: [new Uint8Array(3)] },
      { siblings: [], leaf: { key: 1 } },
    ]) {
      expect(verifyStateProof(root, k(1), undefined, bad as never)).toBe(false);
    }
    expect(verifyStateProof(new Uint8Array(31), k(1), undefined, { siblings: [] })).toBe(false);
    expect(() => stateProofFromJson({ siblings: ['0xzz'] })).toThrow(
      expect.objectContaining({ code: 'CHAIN_BAD_PROOF' }),
    );
    expect(() => stateProofFromJson({ siblings: new Array(257).fill(`0x${'00'.repeat(32)}`) })).toThrow(
      expect.objectContaining({ code: 'CHAIN_BAD_PROOF' }),
    );
  });

  it('rollback drops staged changes; checkout reads an older root', async () => {
    const store = new MemoryKVStore();
    const tree = new SparseMerkleTree(store);
    await tree.update([[k(1), v('one')]]);
    await store.batch(tree.commitOps());
    const first = tree.root;
    await tree.update([[k(1), v('uno')]]);
    tree.rollback();
    expect(tree.root).toEqual(first);
    expect(await tree.get(k(1))).toEqual(v('one'));
    await tree.update([[k(1), v('eins')]]);
    await store.batch(tree.commitOps());
    const old = tree.checkout(first);
    expect(await old.get(k(1))).toEqual(v('one'));
    expect(await tree.get(k(1))).toEqual(v('eins'));
  });

  it('stash takes staged changes out; restore stages them again, only on the root they were taken on', async () => {
    const store = new MemoryKVStore();
    const tree = new SparseMerkleTree(store);
    await tree.update([[k(1), v('one')]]);
    await store.batch(tree.commitOps());
    const first = tree.root;
    const expected = await tree.update([
      [k(1), v('uno')],
      [k(2), v('dos')],
    ]);
    const snapshot = tree.stash();
    expect(snapshot.root).toEqual(expected);
    expect(tree.root).toEqual(first); // back at the committed root, like rollback
    expect(await tree.get(k(2))).toBeUndefined();
    // another tree (even over the same store) cannot take it
    expect(new SparseMerkleTree(store, first).restore(snapshot)).toBe(false);
    expect(tree.restore(snapshot)).toBe(true);
    expect(tree.root).toEqual(expected);
    expect(await tree.get(k(2))).toEqual(v('dos'));
    const ops = tree.commitOps();
    expect(ops.length).toBeGreaterThan(0);
    await store.batch(ops);
    expect(await tree.checkout(expected).get(k(1))).toEqual(v('uno'));
    // a snapshot taken on the old root is refused once the committed root moved
    await tree.checkout(first); // (views do not change the tree's own root)
    const fresh = new SparseMerkleTree(store, first);
    await fresh.update([[k(3), v('tres')]]);
    const stale = fresh.stash();
    await fresh.update([[k(4), v('cuatro')]]);
    await store.batch(fresh.commitOps());
    expect(fresh.restore(stale)).toBe(false);
    expect(await fresh.get(k(3))).toBeUndefined();
  });

  it('fails with typed errors on bad keys, large values and unknown roots', async () => {
    const tree = new SparseMerkleTree(new MemoryKVStore());
    await expect(tree.update([[new Uint8Array(31), v('x')]])).rejects.toMatchObject({ code: 'CHAIN_STATE_BAD_KEY' });
    await expect(tree.update([[k(1), new Uint8Array(1025)]])).rejects.toMatchObject({
      code: 'CHAIN_STATE_VALUE_TOO_LARGE',
    });
    const lost = new SparseMerkleTree(new MemoryKVStore(), sha256(v('no such root')));
    await expect(lost.get(k(1))).rejects.toMatchObject({ code: 'CHAIN_STATE_MISSING_NODE' });
    expect(() => new SparseMerkleTree(new MemoryKVStore(), new Uint8Array(5))).toThrow(
      expect.objectContaining({ code: 'CHAIN_STATE_BAD_KEY' }),
    );
  });

  it('stores four levels per record: one key changed in a 2,000-key tree writes one record per page on its path', async () => {
    const store = new MemoryKVStore();
    const tree = new SparseMerkleTree(store);
    await tree.update(Array.from({ length: 2000 }, (_, n) => [k(n), v(`${n}`)] as const));
    await store.batch(tree.commitOps());
    const proof = await tree.prove(k(77));
    await tree.update([[k(77), v('changed')]]);
    const ops = tree.commitOps();
    // The binary path is proof.siblings.length + 1 nodes long; pages cut it every 4 levels.
    expect(proof.siblings.length).toBeGreaterThanOrEqual(10);
    expect(ops.length).toBe(Math.ceil(proof.siblings.length / 4));
    await store.batch(ops);
    const reopened = new SparseMerkleTree(store, tree.root, { cacheNodes: 1 });
    expect(await reopened.get(k(77))).toEqual(v('changed'));
    expect(verifyStateProof(tree.root, k(77), v('changed'), await reopened.prove(k(77)))).toBe(true);
  });

  it('refuses a tampered or truncated record instead of reading a wrong value', async () => {
    const store = new MemoryKVStore();
    const tree = new SparseMerkleTree(store);
    await tree.update(Array.from({ length: 300 }, (_, n) => [k(n), v(`value ${n}`)] as const));
    const ops = tree.commitOps();
    for (const change of ['flip', 'truncate', 'extend'] as const) {
      const bad = ops.map((op) => {
        if (op.type !== 'put') return op;
        const value = op.value.slice();
        if (change === 'flip') value[value.length - 1]! ^= 1;
        return {
          ...op,
          value:
            change === 'truncate'
              ? value.subarray(0, value.length - 1)
              : change === 'extend'
                ? Uint8Array.of(...value, 0)
                : value,
        };
      });
      const tampered = new MemoryKVStore();
      await tampered.batch(bad);
      const reader = new SparseMerkleTree(tampered, tree.root, { cacheNodes: 1 });
      await expect(reader.get(k(5))).rejects.toMatchObject({ code: 'CHAIN_STATE_CORRUPT' });
    }
  });
});
