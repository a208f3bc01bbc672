import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvStoreCompliance } from '@aitbc/chain-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileKVStore } from '../src/fileKVStore.js';
import { embedChain } from '../src/main.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-example-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The same behaviour suite MemoryKVStore and LevelKVStore pass, including close and reopen.
let n = 0;
let last = '';
kvStoreCompliance('FileKVStore', {
  create: async () => {
    last = join(dir, `store-${n++}.log`);
    return FileKVStore.open(last);
  },
  reopen: async () => FileKVStore.open(last),
});

const u = (s: string) => new TextEncoder().encode(s);

describe('FileKVStore', () => {
  it('drops a torn last line at open (a crash mid-write loses that batch only)', async () => {
    const path = join(dir, 'torn.log');
    const store = await FileKVStore.open(path);
    await store.batch([{ type: 'put', key: u('a'), value: u('1') }], { sync: true });
    await store.close();
    appendFileSync(path, '[["p","Yg","Mg"]'); // half a line: no closing bracket, no newline
    const reopened = await FileKVStore.open(path);
    expect(await reopened.get(u('a'))).toEqual(u('1'));
    expect(await reopened.get(u('b'))).toBeUndefined();
    await reopened.put(u('c'), u('3')); // appends after the cut, not after the torn bytes
    await reopened.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    const third = await FileKVStore.open(path);
    expect(await third.get(u('c'))).toEqual(u('3'));
    await third.close();
  });

  it('refuses a corrupt complete line instead of serving partial data', async () => {
    const path = join(dir, 'corrupt.log');
    appendFileSync(path, 'not json\n');
    await expect(FileKVStore.open(path)).rejects.toThrow();
  });
});

describe('example: chain-core on FileKVStore', () => {
  it('imports a block with a transfer and finds head and state again after reopening', async () => {
    const lines: string[] = [];
    const result = await embedChain(join(dir, 'chain.log'), (l) => lines.push(l));
    expect(result).toEqual({ height: 1, bobBalance: 42n, aliceNonce: 1 });
    expect(lines.at(-1)).toBe("reopened: height 1, bob's balance 42, alice's nonce 1");
  });
});
