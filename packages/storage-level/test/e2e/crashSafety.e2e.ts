import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKVStore } from '@aitbc/chain-core';
import { bytesEqual } from '@aitbc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelKVStore } from '../../src/index.js';
import { crashNetwork } from './crashNetwork.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const worker = join(import.meta.dirname, 'importBlocksProcess.ts');
const dir = mkdtempSync(join(tmpdir(), 'aitbc-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** mulberry32: a small seeded PRNG, so a failing run can be repeated exactly. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the worker until it has imported at least one more block, then SIGKILLs it after a random delay. */
function runAndKill(delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', worker], {
      cwd: root,
      env: { ...process.env, AITBC_DATA_DIR: dir, AITBC_SEED: 'ci' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = 0;
    let armed = false;
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      const heights = d.toString().trim().split('\n').map(Number);
      last = heights[heights.length - 1] ?? last;
      if (!armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(last) : reject(new Error(`worker exited on its own: ${err}`)),
    );
  });
}

describe('crash safety: block imports killed with SIGKILL at random points (real processes, LevelDB)', () => {
  it('reopens with a consistent head every time: its state root equals a fresh re-execution from genesis', async () => {
    const seed = Number(process.env.AITBC_CRASH_SEED ?? 20261122);
    const kills = Number(process.env.AITBC_CRASH_KILLS ?? 20);
    const random = prng(seed);
    const net = crashNetwork('ci');
    let previousHeight = 0;
    for (let k = 0; k < kills; k++) {
      const printed = await runAndKill(Math.floor(random() * 120));
      const store = await LevelKVStore.open({ path: dir });
      const chain = net.chain(store);
      await chain.open();
      const head = chain.head;
      // Every block the worker reported is durable (it printed only after the fsync'd batch).
      expect(head.height, `kill ${k} (seed ${seed})`).toBeGreaterThanOrEqual(printed);
      expect(head.height).toBeGreaterThanOrEqual(previousHeight);
      previousHeight = head.height;
      // Re-execute every stored block from genesis on a fresh in-memory chain.
      const replay = net.chain(new MemoryKVStore());
      await replay.open();
      for (let h = 1; h <= head.height; h++)
        await replay.importBlock((await chain.getBlock(h))!, (await chain.getCommit(h))!);
      expect(bytesEqual(replay.head.stateRoot, head.stateRoot), `kill ${k}: state root after re-execution`).toBe(true);
      expect(replay.headHash).toEqual(chain.headHash);
      await chain.close();
    }
    expect(previousHeight).toBeGreaterThan(kills / 2);
  });
});
