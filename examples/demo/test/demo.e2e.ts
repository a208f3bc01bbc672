/**
 * `npm run demo` as a process against `aitbc-node devnet` as a process (one validator, ports from a
 * random base, a temp dir): the printed steps, settlement and balances; a clear failure without a
 * devnet; and `devnet.json` (0600) removed when the devnet stops.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { type NodeProcess, spawnNode } from 'aitbc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { portBlockBase } from '../../../test-support/freePort.ts';
import { until } from '../../../test-support/until.ts';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'aitbc-demo-'));
const empty = mkdtempSync(join(tmpdir(), 'aitbc-demo-none-'));
let devnet: NodeProcess | undefined;
afterAll(async () => {
  devnet?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

/** Runs `npm run demo`'s command line (the root script) with `AITBC_DEVNET_DIR`. */
function runDemo(devnetDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@aitbc/source', 'examples/demo/src/main.ts'],
      { cwd: root, env: { ...process.env, AITBC_DEVNET_DIR: devnetDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('npm run demo', () => {
  it('without a devnet: exits 1 and says to run npm start', async () => {
    const r = await runDemo(empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DEMO_NO_DEVNET');
    expect(r.stderr).toContain('npm start');
  });

  it('runs one paid job on the devnet: lock → run → receipt → settle, with tx ids and balances', async () => {
    const base = portBlockBase();
    const lines: string[] = [];
    devnet = spawnNode(
      [
        'devnet',
        '--dir',
        dir,
        '--validators',
        '1',
        '--block-time-ms',
        '250',
        '--rpc-port',
        String(base + 6),
        '--p2p-port',
        String(base + 5),
        '--pool-port',
        '0',
        '--coordinator-port',
        '0',
        '--wallet-port',
        '0',
      ],
      { name: 'devnet', env: { AITBC_LOG_LEVEL: 'warn' }, onLine: (l) => lines.push(l) },
    );
    await until(async () => (lines.some((l) => l.includes('Ctrl-C to stop')) ? true : undefined), 150_000);
    const info = join(dir, 'devnet.json');
    expect(statSync(info).mode & 0o777).toBe(0o600); // it holds this run's API keys
    const coordinatorKey = (JSON.parse(readFileSync(info, 'utf8')) as { keys: { coordinatorClient: string } }).keys
      .coordinatorClient;
    expect(lines.join('\n')).toContain(coordinatorKey); // the same key the devnet printed

    const r = await runDemo(dir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = r.stdout;
    const tx = '0x[0-9a-f]{64}';
    expect(out).toMatch(/1\. submitted {3}job job_\S+ \(kind hash, max price 0\.01 AIT\)/);
    expect(out).toMatch(new RegExp(`2\\. lock {8}escrow\\.lock tx ${tx}`));
    expect(out).toContain('locked      0.01 AIT in escrow, final on chain');
    expect(out).toContain('3. run         job state COMPLETED');
    expect(out).toMatch(/4\. receipt {5}\S+ signed by the miner, attested by the coordinator: verified/);
    expect(out).toMatch(
      new RegExp(
        `5\\. settle {6}escrow\\.settle tx ${tx}: paid 0\\.001 AIT to the miner, 0\\.009 AIT back to the client`,
      ),
    );
    expect(out).toContain('balances before: client 1000000 AIT, miner 0 AIT');
    // The miner gets the receipt's price; the client pays it plus the lock's fee (the minimum fee).
    const settled = /settled: job (\S+) miner_delta=(\d+) client_delta=(-\d+)/.exec(out);
    expect(settled?.[2]).toBe(String(10n ** 15n));
    expect(settled?.[3]).toBe(String(-(10n ** 15n) - DEFAULT_PARAMS.minFee));
    // ...and the chain agrees.
    const escrow = (await (await fetch(`http://127.0.0.1:${base + 6}/rpc/escrow/${settled?.[1]}`)).json()) as {
      status: string;
      paid: string;
    };
    expect(escrow).toMatchObject({ status: 'settled', paid: String(10n ** 15n) });

    // Again, on the same devnet: the same miner key (miner.key, 0600) is registered again, so a
    // second run works too, and the miner now holds two payments.
    expect(statSync(join(dir, 'miner.key')).mode & 0o777).toBe(0o600);
    const second = await runDemo(dir);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    expect(second.stdout).toContain('balances before: client ');
    expect(second.stdout).toMatch(/miner 0\.001 AIT\n/);
    expect(second.stdout).toMatch(/settled: job \S+ miner_delta=1000000000000000 /);

    // Ctrl-C stops the devnet and removes devnet.json: the demo then says the devnet is not running.
    devnet.kill('SIGINT');
    expect(await devnet.exited).toBe(0);
    expect(existsSync(info)).toBe(false);
    const after = await runDemo(dir);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('DEMO_NO_DEVNET');
  });
});
