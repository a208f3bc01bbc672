import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvStoreCompliance } from '@aitbc/chain-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelKVStore } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'aitbc-level-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let current = '';

kvStoreCompliance('LevelKVStore', {
  create: async () => {
    current = join(root, `db-${n++}`);
    return LevelKVStore.open({ path: current });
  },
  reopen: async () => LevelKVStore.open({ path: current }),
});

describe('LevelKVStore', () => {
  it('offers getSync on classic-level', async () => {
    const store = await LevelKVStore.open({ path: join(root, 'sync') });
    expect(typeof store.getSync).toBe('function');
    await store.put(new Uint8Array([1]), new Uint8Array([2]));
    expect(store.getSync!(new Uint8Array([1]))).toEqual(new Uint8Array([2]));
    await store.close();
    expect(() => store.getSync!(new Uint8Array([1]))).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
  });

  it('refuses a second opener of the same database with STORAGE_LOCKED', async () => {
    const path = join(root, 'locked');
    const first = await LevelKVStore.open({ path });
    await expect(LevelKVStore.open({ path })).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
    await first.close();
    const again = await LevelKVStore.open({ path });
    await again.close();
  });

  it('reports an unusable path with STORAGE_OPEN_FAILED', async () => {
    await expect(LevelKVStore.open({ path: '' })).rejects.toMatchObject({ code: 'STORAGE_OPEN_FAILED' });
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    await expect(LevelKVStore.open({ path: join(file, 'db') })).rejects.toMatchObject({ code: 'STORAGE_OPEN_FAILED' });
  });
});
