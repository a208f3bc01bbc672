import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeClient } from '@aitbc/rpc/client';
import { createKeystore, MIN_KDF } from '@aitbc/wallet';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { createWalletNodeGateway, startDevnetOfOne } from '../src/index.js';

/** Response bodies are untyped JSON here. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON response fields
type Json = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), 'aitbc-wallet-devnet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wallet daemon against a devnet of one (real chain, real node API, real HTTP)', () => {
  it('imports the faucet, sends transfers with consecutive nonces, waits for finality, and the node shows the balances', async () => {
    const devnet = await startDevnetOfOne({ dataDir: join(dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
    const node = createNodeClient({ baseUrl: devnet.rpcUrl });
    const daemon = createWalletDaemon({
      dataDir: join(dir, 'wallet'),
      port: 0,
      kdf: MIN_KDF,
      node: createWalletNodeGateway(node),
      chainId: devnet.chainId,
      logLevel: false,
    });
    const url = await daemon.start();
    let nodeUp = true;
    try {
      const headers = {
        authorization: `Bearer ${readFileSync(daemon.tokenFile, 'utf8').trim()}`,
        'content-type': 'application/json',
      };
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as Json };
      };
      const get = async (path: string) => (await (await fetch(`${url}${path}`, { headers })).json()) as Json;

      const keystore = await createKeystore(devnet.faucet.seed, 'faucet passphrase', { kdf: MIN_KDF });
      const faucet = await post('/v1/wallets', { passphrase: 'faucet passphrase', keystore });
      expect(faucet.status).toBe(201);
      expect(faucet.body.wallet.address).toBe(devnet.faucet.address);
      const bob = (await post('/v1/wallets', { passphrase: 'bob passphrase' })).body.wallet;
      const before = await get(`/v1/wallets/${faucet.body.wallet.id}`);
      expect(BigInt(before.balance)).toBe(await node.balance(devnet.faucet.address));

      const { session } = (
        await post(`/v1/wallets/${faucet.body.wallet.id}/unlock`, { passphrase: 'faucet passphrase' })
      ).body;
      const sent = await post(`/v1/wallets/${faucet.body.wallet.id}/send`, {
        session,
        to: bob.address,
        amount: '1000',
        wait: true,
        timeoutSeconds: 30,
      });
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ status: 'final', nonce: before.nonce });
      expect(sent.body.height).toBeGreaterThan(0);
      expect(await node.balance(bob.address)).toBe(1000n);
      expect((await node.tx(sent.body.id.slice(2))).status).toBe('committed');

      // two quick sends: consecutive nonces, both final
      const [a, b] = await Promise.all([
        post(`/v1/wallets/${faucet.body.wallet.id}/send`, { session, to: bob.address, amount: '1' }),
        post(`/v1/wallets/${faucet.body.wallet.id}/send`, { session, to: bob.address, amount: '2' }),
      ]);
      expect([a.body.nonce, b.body.nonce].sort()).toEqual([before.nonce + 1, before.nonce + 2]);
      await until(async () => ((await node.balance(bob.address)) === 1003n ? true : undefined));
      const after = await get(`/v1/wallets/${faucet.body.wallet.id}`);
      expect(after.nonce).toBe(before.nonce + 3);
      const fees = BigInt(a.body.fee) + BigInt(b.body.fee) + BigInt(sent.body.fee);
      expect(BigInt(after.balance)).toBe(BigInt(before.balance) - 1003n - fees);
      expect((await get(`/v1/wallets/${bob.id}`)).balance).toBe('1003');

      // the chain's refusal keeps its code: bob cannot fund this escrow
      const bobSession = (await post(`/v1/wallets/${bob.id}/unlock`, { passphrase: 'bob passphrase' })).body.session;
      const broke = await post(`/v1/wallets/${bob.id}/send`, {
        session: bobSession,
        type: 'escrow.lock',
        jobId: 'job-1',
        amount: (10n ** 21n).toString(),
        coordinator: devnet.coordinator.address,
        expiresAtHeight: 1_000,
      });
      expect(broke.status).toBeGreaterThanOrEqual(400);
      expect(broke.body.error.code).toMatch(/^CHAIN_/);

      // the node goes away: balances and sends report it, signing still works
      await devnet.stop();
      nodeUp = false;
      const gone = await fetch(`${url}/v1/wallets/${bob.id}`, { headers });
      expect(gone.status).toBe(502);
      expect(((await gone.json()) as Json).error.code).toBe('WALLET_NODE_UNAVAILABLE');
      const unsent = await post(`/v1/wallets/${bob.id}/send`, {
        session: bobSession,
        to: devnet.faucet.address,
        amount: '1',
      });
      expect(unsent.body.error.code).toBe('WALLET_NODE_UNAVAILABLE');
      expect((await post(`/v1/wallets/${bob.id}/sign`, { session: bobSession, message: 'still here' })).status).toBe(
        200,
      );
    } finally {
      await daemon.stop();
      if (nodeUp) await devnet.stop();
    }
  });
});
