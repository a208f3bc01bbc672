/** `aitbc wallet …` against a real wallet daemon over a devnet of one (both on 127.0.0.1, port 0). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, generateKeyPair, hexToBytes, verifyMessage } from '@aitbc/crypto';
import { createNodeClient } from '@aitbc/rpc/client';
import { createKeystore, MIN_KDF } from '@aitbc/wallet';
import { createWalletDaemon, type WalletDaemon } from '@aitbc/wallet/daemon';
import { createWalletNodeGateway, type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exitCodes.js';
import { cli, tempDir } from './cliHarness.js';

const tmp = tempDir('aitbc-cli-wallet-');
let devnet: DevnetOfOne;
let daemon: WalletDaemon;
let env: Record<string, string>;
const passFile = join(tmp.dir, 'pass');
const wrongPassFile = join(tmp.dir, 'wrong');
const keystoreFile = join(tmp.dir, 'faucet.json');

beforeAll(async () => {
  devnet = await startDevnetOfOne({ dataDir: join(tmp.dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
  daemon = createWalletDaemon({
    dataDir: join(tmp.dir, 'wallet'),
    port: 0,
    kdf: MIN_KDF,
    node: createWalletNodeGateway(createNodeClient({ baseUrl: devnet.rpcUrl })),
    chainId: devnet.chainId,
    logLevel: false,
  });
  const url = await daemon.start();
  writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
  writeFileSync(wrongPassFile, 'not the passphrase\n', { mode: 0o600 });
  writeFileSync(
    keystoreFile,
    JSON.stringify(await createKeystore(devnet.faucet.seed, 'correct horse battery staple', { kdf: MIN_KDF })),
  );
  env = {
    AITBC_CONFIG: join(tmp.dir, 'config.json'),
    AITBC_NODE: devnet.rpcUrl,
    AITBC_WALLET: url,
    AITBC_WALLET_TOKEN: readFileSync(daemon.tokenFile, 'utf8').trim(),
  };
}, 60_000);

afterAll(async () => {
  await daemon.stop();
  await devnet.stop();
  tmp.cleanup();
});

const json = <T = Record<string, unknown>>(text: string) => JSON.parse(text) as T;

describe('wallet commands over the wallet daemon', () => {
  it('import, create, list, send (final), balance, sign; wrong passphrase and token are refused', async () => {
    const imported = await cli(
      ['wallet', 'import', '--keystore', keystoreFile, '--passphrase-file', passFile, '--json'],
      env,
    );
    expect(imported.code).toBe(0);
    const faucet = json<{ id: string; address: string }>(imported.stdout);
    expect(faucet.address).toBe(devnet.faucet.address);

    const created = await cli(['wallet', 'create', '--passphrase-file', passFile, '--words', '12'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/\nmnemonic +(\S+ ){11}\S+\n$/);
    expect(created.stderr).toContain('shown only once');

    const list = json<Array<{ id: string; address: string }>>((await cli(['wallet', 'list', '--json'], env)).stdout);
    expect(list.map((w) => w.id)).toContain(faucet.id);
    expect(list).toHaveLength(2);

    const bob = addressFromPublicKey(generateKeyPair().publicKey);
    const sent = await cli(
      ['wallet', 'send', bob, '1.5AIT', '--from', faucet.id, '--passphrase-file', passFile, '--json'],
      env,
    );
    expect(sent.code).toBe(0);
    expect(json(sent.stdout)).toMatchObject({ status: 'final', nonce: 0 });
    expect((await cli(['wallet', 'balance', bob], env)).stdout).toContain('1.5 AIT');

    const signed = json<{ signature: string; publicKey: string; chainId: string }>(
      (
        await cli(
          ['wallet', 'sign', '{"hello":"world"}', '--from', faucet.id, '--passphrase-file', passFile, '--json'],
          env,
        )
      ).stdout,
    );
    expect(
      verifyMessage(
        'message',
        signed.chainId,
        { hello: 'world' },
        hexToBytes(signed.signature),
        hexToBytes(signed.publicKey),
      ),
    ).toBe(true);

    const wrong = await cli(['wallet', 'send', bob, '1', '--from', faucet.id, '--passphrase-file', wrongPassFile], env);
    expect([EXIT.auth, EXIT.api]).toContain(wrong.code);
    expect(wrong.stderr).toMatch(/^error WALLET_[A-Z_]+: .*\n$/);
    expect(wrong.stderr).not.toContain('not the passphrase');

    const noToken = await cli(['wallet', 'list'], { ...env, AITBC_WALLET_TOKEN: 'bad-token-0000' });
    expect(noToken.code).toBe(EXIT.auth);
    // One character changed (bech32m catches it); never the same character, which 1 in 32 keys ends with.
    const typoChar = bob.endsWith('x') ? 'q' : 'x';
    const typo = await cli(
      ['wallet', 'send', `${bob.slice(0, -1)}${typoChar}`, '1', '--from', faucet.id, '--passphrase-file', passFile],
      env,
    );
    expect(typo.code).toBe(EXIT.usage);
    const noPass = await cli(['wallet', 'send', bob, '1', '--from', faucet.id], env);
    expect(noPass.stderr).toContain('CLI_USAGE_NO_PASSPHRASE');
  }, 60_000);
});
