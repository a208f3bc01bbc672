import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKdfWorker, createWalletDaemon } from '../src/daemon/index.js';
import { DEFAULT_KDF, deriveKey, MIN_KDF } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-wallet-kdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Argon2id on a worker thread', () => {
  it('derives the same key as deriveKey, and fails pending work on close', async () => {
    const worker = createKdfWorker();
    const salt = new Uint8Array(16).fill(7);
    expect(await worker.derive('pw', salt, MIN_KDF)).toEqual(await deriveKey('pw', salt, MIN_KDF));
    const pending = worker.derive('pw', salt, DEFAULT_KDF);
    await worker.close();
    await expect(pending).rejects.toMatchObject({ code: 'WALLET_KDF_FAILED' });
    // a closed worker restarts on the next call
    expect(await worker.derive('pw', salt, MIN_KDF)).toEqual(await deriveKey('pw', salt, MIN_KDF));
    await worker.close();
  });

  it('keeps the daemon answering /health during an unlock at the default parameters', async () => {
    const daemon = createWalletDaemon({ dataDir: join(dir, 'd'), port: 0, logLevel: false });
    const url = await daemon.start();
    try {
      const auth = {
        authorization: `Bearer ${readFileSync(daemon.tokenFile, 'utf8').trim()}`,
        'content-type': 'application/json',
      };
      const created = await fetch(`${url}/v1/wallets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ passphrase: 'default parameters' }),
      });
      const { wallet } = (await created.json()) as { wallet: { id: string; kdf: unknown } };
      expect(wallet.kdf).toEqual({ name: 'argon2id', ...DEFAULT_KDF });
      const order: string[] = [];
      const unlock = fetch(`${url}/v1/wallets/${wallet.id}/unlock`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ passphrase: 'default parameters' }),
      }).then(async (r) => {
        order.push('unlock');
        return r.status;
      });
      // issued while Argon2id (64 MiB, t = 3) runs for the unlock
      await new Promise((r) => setTimeout(r, 20));
      const health = fetch(`${url}/health`).then((r) => {
        order.push('health');
        return r.status;
      });
      expect(await Promise.all([unlock, health])).toEqual([200, 200]);
      expect(order).toEqual(['health', 'unlock']);
    } finally {
      await daemon.stop();
    }
  });
});
