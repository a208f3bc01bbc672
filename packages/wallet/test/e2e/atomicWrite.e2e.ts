import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeystoreDirectory } from '../../src/daemon/index.js';

const root = mkdtempSync(join(tmpdir(), 'aitbc-wallet-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NAME = `${'a'.repeat(32)}.json`;

async function killMidWrite(dir: string, delayMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@aitbc/source', join(import.meta.dirname, 'atomicWriteChild.ts'), dir, NAME],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', () => resolve());
  });
  await new Promise((r) => setTimeout(r, delayMs));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('atomic keystore writes under SIGKILL', () => {
  it('leaves the old file or the new one, never a partial one, and open() removes the leftovers', async () => {
    const dir = join(root, 'keystores');
    mkdirSync(dir, { recursive: true });
    for (const delayMs of [40, 160, 280]) {
      await killMidWrite(dir, delayMs);
      const names = readdirSync(dir);
      if (!names.includes(NAME)) continue; // killed before the first rename
      const o = JSON.parse(readFileSync(join(dir, NAME), 'utf8')) as { version: number; pad: string };
      expect([0, 1]).toContain(o.version);
      expect(o.pad).toBe(String(o.version).repeat(512 * 1024));
    }
    expect(readdirSync(dir)).toContain(NAME);
    await new KeystoreDirectory(dir).open();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
