/**
 * A LevelKVStore on a real full file system: a 4 MiB tmpfs (root mounts it; CI runs as root), filled
 * by the database itself or by a filler file, then freed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountTmpfs, type Tmpfs } from '../../../../test-support/tmpfs.ts';
import { LevelKVStore } from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'aitbc-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const key = (space: number, i: number) => Uint8Array.of(space, i >> 8, i & 255);
/** 64 KiB of bytes that do not compress (LevelDB compresses table files with snappy). */
function noise(seed: number): Uint8Array {
  const out = new Uint8Array(64 * 1024);
  let x = seed | 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

/** Writes 64 KiB values with `sync: true` until one fails; returns how many succeeded and the error. */
async function writeUntilFull(store: LevelKVStore): Promise<{ written: number; error: unknown }> {
  for (let i = 0; i < 1_000; i++) {
    try {
      await store.batch([{ type: 'put', key: key(0, i), value: noise(i) }], { sync: true });
    } catch (error) {
      return { written: i, error };
    }
  }
  throw new Error('the 4 MiB file system never filled up');
}

describe('LevelKVStore on a full tmpfs', () => {
  let fs: Tmpfs;
  let n = 0;
  beforeEach(() => {
    fs = mountTmpfs(join(root, `mnt-${n++}`), 4);
  });
  afterEach(() => fs.unmount());

  it('names the cause: STORAGE_FULL, "no space left on device (ENOSPC) at <file>", the level error as cause', async () => {
    const path = join(fs.dir, 'db');
    const store = await LevelKVStore.open({ path });
    const { written, error } = await writeUntilFull(store);
    expect(written).toBeGreaterThan(0);
    expect(error).toMatchObject({
      name: 'AitbcError',
      code: 'STORAGE_FULL',
      details: { errno: 'ENOSPC', path, levelCode: 'LEVEL_IO_ERROR' },
    });
    const e = error as Error & { details: { file: string }; cause: Error & { code: string } };
    expect(e.message).toMatch(/^no space left on device \(ENOSPC\) at \S+\/db\/\d+\.log$/);
    expect(e.details.file.startsWith(path)).toBe(true);
    // classic-level reports it as LEVEL_IO_ERROR with LevelDB's text and no errno
    expect(e.cause.code).toBe('LEVEL_IO_ERROR');
    expect(e.cause.message).toMatch(/^IO error: .*: No space left on device$/);
    // writes are suspended (same code), reads go on
    expect(store.writeFailure?.code).toBe('STORAGE_FULL');
    await expect(store.put(key(1, 0), Uint8Array.of(1))).rejects.toMatchObject({
      code: 'STORAGE_FULL',
      details: { suspended: true },
    });
    expect(await store.get(key(0, 0))).toEqual(noise(0));
    await store.close();
  });

  it('after space is freed, reopen() accepts writes again and nothing acknowledged is lost on restart', async () => {
    const path = join(fs.dir, 'db');
    const store = await LevelKVStore.open({ path });
    // a filler takes all but ~1 MiB, so that the database fills the rest and the filler can be freed
    fs.fill(1024 * 1024);
    const { written } = await writeUntilFull(store);
    // still full: a reopen fails with the cause named, writes stay suspended, reads answer the same error
    await expect(store.reopen()).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(store.writeFailure?.code).toBe('STORAGE_FULL');
    fs.release();
    await store.reopen();
    expect(store.writeFailure).toBeUndefined();
    for (let j = 0; j < 5; j++)
      await store.batch([{ type: 'put', key: key(2, j), value: noise(1000 + j) }], { sync: true });
    await store.close();
    const again = await LevelKVStore.open({ path });
    for (let i = 0; i < written; i++) expect(await again.get(key(0, i))).toEqual(noise(i));
    for (let j = 0; j < 5; j++) expect(await again.get(key(2, j))).toEqual(noise(1000 + j));
    await again.close();
  });

  it('LevelDB itself loses an acknowledged write made after ENOSPC without a reopen (why writes are suspended)', async () => {
    // The raw behaviour the store guards against, measured through the store's own database with the
    // suspension bypassed: classic-level accepts writes again once space is freed, but they follow a
    // torn record in the write-ahead log and are not all there after a restart.
    const { Level } = await import('level');
    const path = join(fs.dir, 'raw');
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    let failed = false;
    for (let i = 0; i < 1_000 && !failed; i++)
      await db.batch([{ type: 'put', key: key(0, i), value: noise(i) }], { sync: true }).catch(() => {
        failed = true;
      });
    expect(failed).toBe(true);
    fs.resize(64);
    for (let j = 0; j < 5; j++) await db.batch([{ type: 'put', key: key(2, j), value: noise(j) }], { sync: true });
    await db.close();
    const again = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await again.open();
    let kept = 0;
    for (let j = 0; j < 5; j++) if ((await again.get(key(2, j))) !== undefined) kept++;
    await again.close();
    expect(kept).toBeLessThan(5);
  });
});
