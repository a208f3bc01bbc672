import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genesisFromJson } from '@aitbc/chain-core';
import { addressFromPublicKey } from '@aitbc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { portBlockBase } from '../../test-support/freePort.ts';
import {
  type CliIo,
  EXIT_USAGE,
  readKeystoreFile,
  readPassphrase,
  runCli,
  spawnNode,
  waitForHealth,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env,
    stopSignal: () => new Promise(() => {}),
  };
  return { cli, out, err };
}

describe('aitbc-node init', () => {
  it('writes encrypted keystores (0600), a passphrase file (0600), configs and a genesis', async () => {
    const target = join(dir, 'net');
    const { cli, out } = io();
    expect(
      await runCli(
        ['init', '--dir', target, '--validators', '3', '--followers', '1', '--fast-kdf', '--block-time-ms', '250'],
        cli,
      ),
    ).toBe(0);
    expect(out.join('\n')).toContain('node-2');
    const genesis = genesisFromJson(JSON.parse(readFileSync(join(target, 'genesis.json'), 'utf8')));
    expect(genesis.validators).toHaveLength(3);
    expect(genesis.params.blockTimeMs).toBe(250);
    expect(statSync(join(target, 'passphrase')).mode & 0o777).toBe(0o600);
    const passphrase = readPassphrase(join(target, 'passphrase'), {});
    for (let i = 0; i < 3; i++) {
      const ks = join(target, `node-${i}`, 'keystore.json');
      expect(statSync(ks).mode & 0o777).toBe(0o600);
      // the seed is not in the file in the clear
      const text = readFileSync(ks, 'utf8');
      const key = await readKeystoreFile(ks, passphrase);
      expect(text).not.toContain(Buffer.from(key.seed).toString('hex'));
      expect(genesis.validators[i]?.publicKey).toEqual(key.publicKey);
    }
    const follower = JSON.parse(readFileSync(join(target, 'follower-0', 'config.json'), 'utf8'));
    expect(follower.role).toBe('follower');
    expect(follower.p2p.peers).toHaveLength(3);
    const faucet = await readKeystoreFile(join(target, 'faucet.keystore.json'), passphrase);
    expect(genesis.allocations.map((a) => a.address)).toContain(addressFromPublicKey(faucet.publicKey));
    await expect(readKeystoreFile(join(target, 'node-0', 'keystore.json'), 'wrong')).rejects.toMatchObject({
      code: 'WALLET_WRONG_PASSPHRASE',
    });
  });

  it('uses AITBC_KEY_PASSPHRASE instead of writing a passphrase file', async () => {
    const target = join(dir, 'net-env');
    const { cli } = io({ AITBC_KEY_PASSPHRASE: 'correct horse battery staple' });
    expect(await runCli(['init', '--dir', target, '--validators', '1', '--fast-kdf'], cli)).toBe(0);
    expect(existsSync(join(target, 'passphrase'))).toBe(false);
    await readKeystoreFile(join(target, 'node-0', 'keystore.json'), 'correct horse battery staple');
  });

  it('refuses to overwrite a network, and bad flags, with exit code 2', async () => {
    const target = join(dir, 'net');
    let r = io();
    expect(await runCli(['init', '--dir', target, '--fast-kdf'], r.cli)).toBe(EXIT_USAGE);
    expect(r.err.join('')).toContain('NODE_INIT_EXISTS');
    r = io();
    expect(await runCli(['init', '--dir', join(dir, 'x'), '--validators', 'four'], r.cli)).toBe(EXIT_USAGE);
    expect(r.err.join('')).toMatch(/NODE_USAGE: --validators: expected an integer in 1\.\.100, got "four"/);
    r = io();
    expect(await runCli(['init', '--bogus'], r.cli)).toBe(EXIT_USAGE);
    expect(r.err.join('')).toContain('NODE_USAGE');
    r = io();
    expect(await runCli(['launch'], r.cli)).toBe(EXIT_USAGE);
    expect(r.err.join('')).toContain('unknown command "launch"');
  });
});

describe('aitbc-node start: validation before anything runs (exit code 2)', () => {
  it('names each bad config value', async () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ role: 'validator', rpc: { port: 'eighty' } }));
    const r = io({ AITBC_P2P_PEERS: 'not-a-url' });
    expect(await runCli(['start', '--config', cfg], r.cli)).toBe(EXIT_USAGE);
    const text = r.err.join('\n');
    expect(text).toContain('NODE_CONFIG_INVALID');
    expect(text).toContain('rpc.port (AITBC_RPC_PORT)');
    expect(text).toContain('p2p.peers (AITBC_P2P_PEERS)');
    expect(text).toContain('dataDir (AITBC_DATA_DIR)');
  });

  it('refuses a key that is not a genesis validator, and a wrong passphrase', async () => {
    const target = join(dir, 'net');
    let r = io();
    // follower-0's key is not in the validator set
    expect(
      await runCli(['start', '--config', join(target, 'follower-0', 'config.json'), '--role', 'validator'], r.cli),
    ).toBe(EXIT_USAGE);
    expect(r.err.join('')).toContain('NODE_NOT_A_VALIDATOR');
    r = io({ AITBC_KEY_PASSPHRASE: 'not the passphrase' });
    expect(await runCli(['start', '--config', join(target, 'node-0', 'config.json')], r.cli)).toBe(EXIT_USAGE);
    expect(r.err.join('')).toContain('WALLET_WRONG_PASSPHRASE');
  });

  it('role wallet runs the wallet daemon (token file 0600) and stops cleanly on SIGTERM', async () => {
    const port = portBlockBase(1);
    const walletDir = join(dir, 'wallet');
    const lines: string[] = [];
    const child = spawnNode(['start', '--role', 'wallet'], {
      name: 'wallet',
      env: { AITBC_DATA_DIR: walletDir, AITBC_WALLET_PORT: String(port), AITBC_LOG_LEVEL: 'warn' },
      onLine: (l) => lines.push(l),
    });
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, child, 60_000);
      expect(statSync(join(walletDir, 'api-token')).mode & 0o777).toBe(0o600);
      const res = await fetch(`http://127.0.0.1:${port}/v1/wallets`);
      expect(res.status).toBe(401);
      expect(await child.stop()).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a real aitbc-node process exits with 2 and the message on stderr', async () => {
    const lines: string[] = [];
    const child = spawnNode(['start'], {
      name: 'bad',
      env: { AITBC_RPC_PORT: '99999', AITBC_DATA_DIR: dir, AITBC_GENESIS: 'g.json', AITBC_KEYSTORE: 'k.json' },
      onLine: (l) => lines.push(l),
    });
    expect(await child.exited).toBe(2);
    expect(lines.join('\n')).toContain('rpc.port (AITBC_RPC_PORT): expected an integer port in 0..65535');
  });

  it('the installed aitbc-node bin runs (the shebang loads the TypeScript sources through tsx)', () => {
    const bin = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'aitbc-node');
    const out = execFileSync(bin, ['help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(out).toContain('aitbc-node devnet');
    expect(out).toContain('--web-port');
  });
});
