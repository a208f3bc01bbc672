import { describe, expect, it } from 'vitest';
import { MemoryKVStore } from '../src/index.js';
import { kvStoreCompliance } from '../src/testing/index.js';

kvStoreCompliance('MemoryKVStore', { create: async () => new MemoryKVStore() });

describe('MemoryKVStore input checks', () => {
  it('rejects keys and values that are not bytes with STORE_BAD_INPUT', async () => {
    const store = new MemoryKVStore();
    await expect(store.put('k' as unknown as Uint8Array, new Uint8Array())).rejects.toMatchObject({
      code: 'STORE_BAD_INPUT',
    });
    await expect(store.batch([{ type: 'nope' } as never])).rejects.toMatchObject({ code: 'STORE_BAD_INPUT' });
    expect(() => store.getSync(42 as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'STORE_BAD_INPUT' }),
    );
    expect(store.size).toBe(0);
  });
});
