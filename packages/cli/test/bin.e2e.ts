/** The real `aitbc` process (src/bin.ts through tsx): output, exit codes and Ctrl-C propagate. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { createClient } from '@aitbc/sdk';
import { type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { tempDir } from './cliHarness.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'packages/cli/src/bin.ts');
const tmp = tempDir('aitbc-cli-bin-');
let node: DevnetOfOne;

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: join(tmp.dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
  // one transfer, so that block 1 exists for `monitor blocks --from 1`
  const sdk = createClient({ node: node.rpcUrl });
  const to = addressFromPublicKey(generateKeyPair().publicKey);
  await sdk.node.sendTx(
    txToJson(
      signTx(
        {
          type: 'transfer',
          chainId: node.chainId,
          from: node.faucet.address,
          nonce: 0,
          fee: DEFAULT_PARAMS.minFee,
          to,
          amount: 1n,
        },
        node.faucet.seed,
      ),
    ),
  );
  await until(async () => ((await sdk.node.head()).height >= 1 ? true : undefined));
});
afterAll(async () => {
  await node.stop();
  tmp.cleanup();
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function aitbc(args: string[], onSpawn?: (child: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', bin, ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: tmp.dir,
        AITBC_CONFIG: join(tmp.dir, 'config.json'),
        AITBC_NODE: node.rpcUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
    onSpawn?.(child);
  });
}

describe('the aitbc executable', () => {
  it('prints JSON on stdout and exits 0', async () => {
    const r = await aitbc(['chain', 'head', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ height: expect.any(Number) });
  });

  it('propagates exit codes: 2 usage, 3 not found, 6 unreachable', async () => {
    const [usage, missing, down] = await Promise.all([
      aitbc(['chain', 'hed']),
      aitbc(['chain', 'block', '424242']),
      aitbc(['chain', 'head', '--node', 'http://127.0.0.1:9']),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('did you mean `aitbc chain head`?');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error RPC_NOT_FOUND: /);
    expect(down.code).toBe(6);
  });

  it('Ctrl-C (SIGINT) during a live command exits 130', async () => {
    const r = await aitbc(['monitor', 'blocks', '--from', '1'], (child) => {
      // once it printed block 1 it is subscribed and live: interrupt it
      child.stdout?.once('data', () => child.kill('SIGINT'));
    });
    expect(r.stdout).toMatch(/^#1 /);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('CLI_INTERRUPTED');
  });
});
