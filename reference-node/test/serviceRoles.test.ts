/**
 * `aitbc-node api-key` and `aitbc-node start` with roles `coordinator` and `pool`, in process (real
 * HTTP servers on 127.0.0.1, real level databases in a tmp dir): keys files hold hashes only (0600),
 * the printed keys work against the started servers, wrong keys get 401, and a stop and restart on
 * the same data keeps the jobs and the keys (and picks up a rotated key).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { MIN_KDF } from '@aitbc/wallet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import {
  type CliIo,
  EXIT_USAGE,
  readApiKeysFile,
  runCli,
  spawnNode,
  waitForHealth,
  writeKeystoreFile,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-roles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const cli: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, stopSignal: () => stopped };
  return { cli, out, err, stop: (signal = 'SIGTERM') => stop(signal) };
}

async function cli(args: readonly string[]) {
  const x = io();
  const code = await runCli(args, x.cli);
  return { code, out: x.out, err: x.err.join('\n') };
}

async function addKey(file: string, ...args: string[]): Promise<string> {
  const r = await cli(['api-key', 'add', '--file', file, ...args]);
  expect(r).toMatchObject({ code: 0 });
  expect(r.out).toHaveLength(1);
  return r.out[0]!;
}

/** `aitbc-node start --config file` in process; `stop()` sends it SIGTERM and resolves its exit code. */
async function start(config: string, healthUrls: readonly string[]) {
  const x = io();
  const exit = runCli(['start', '--config', config], x.cli);
  let code: number | undefined;
  void exit.then((c) => {
    code = c;
  });
  await until(async () => {
    if (code !== undefined) throw new Error(`start exited with ${code}: ${x.err.join('\n')}`);
    const up = await Promise.all(
      healthUrls.map((u) =>
        fetch(`${u}/health`).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    return up.every(Boolean) ? true : undefined;
  }, 20_000);
  return {
    async stop() {
      x.stop('SIGTERM');
      return exit;
    },
  };
}

const call = async (url: string, key: string | undefined, init: RequestInit = {}) => {
  const res = await fetch(url, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(key !== undefined ? { 'x-api-key': key } : {}),
    },
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body };
};

const clientAddress = addressFromPublicKey(publicKeyFromSeed(generateKeyPair().seed));
const keysFile = join(dir, 'coordinator-keys.json');
const poolKeysFile = join(dir, 'pool-keys.json');
let coordinatorPort: number;
let poolPort: number;
let configFile: string;
let clientKey: string;
let minerKey: string;
let poolAdminKey: string;
const coordinatorSeed = generateKeyPair().seed;

beforeAll(async () => {
  const passphraseFile = join(dir, 'passphrase');
  writeFileSync(passphraseFile, 'correct horse\n', { mode: 0o600 });
  await writeKeystoreFile(join(dir, 'coordinator.keystore.json'), coordinatorSeed, 'correct horse', MIN_KDF);
  [coordinatorPort, poolPort] = [await freePort(), await freePort()];
  configFile = join(dir, 'coordinator.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      role: 'coordinator',
      dataDir: 'data',
      keystore: 'coordinator.keystore.json',
      passphraseFile: 'passphrase',
      coordinator: { port: coordinatorPort, apiKeysFile: 'coordinator-keys.json', nodeUrl: 'http://127.0.0.1:1' },
      pool: { port: poolPort, apiKeysFile: 'pool-keys.json' },
      log: { level: 'silent' },
    }),
  );
});

describe('aitbc-node api-key', () => {
  it('prints a fresh key once and stores only its hash, in a 0600 file', async () => {
    clientKey = await addKey(keysFile, '--role', 'client', '--subject', clientAddress);
    minerKey = await addKey(keysFile, '--role', 'miner', '--miner-id', 'm1');
    poolAdminKey = await addKey(poolKeysFile, '--role', 'admin');
    expect(clientKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(clientKey).not.toBe(minerKey);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(statSync(poolKeysFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(keysFile, 'utf8');
    expect(text).not.toContain(clientKey);
    expect(text).not.toContain(minerKey);
    const stored = readApiKeysFile(keysFile);
    expect(stored.map((k) => [k.role, k.subject, k.hash])).toEqual([
      ['client', clientAddress, hashApiKey(clientKey)],
      ['miner', 'm1', hashApiKey(minerKey)],
    ]);
    const list = await cli(['api-key', 'list', '--file', keysFile]);
    expect(list.code).toBe(0);
    expect(list.out.join('\n')).toContain(stored[1]!.id);
    expect(list.out.join('\n')).not.toContain(minerKey);
  });

  it('config-keys lists the coordinator and pool keys with their variables and defaults', async () => {
    const r = await cli(['config-keys']);
    expect(r.code).toBe(0);
    const line = (key: string) => r.out.find((l) => l.startsWith(`${key} `))?.split(/\s+/);
    expect(line('coordinator.leaseMs')).toEqual([
      'coordinator.leaseMs',
      'AITBC_COORDINATOR_LEASE_MS',
      'default',
      '30000',
    ]);
    expect(line('pool.port')).toEqual(['pool.port', 'AITBC_POOL_PORT', 'default', '8018']);
    expect(line('coordinator.apiKeysFile')).toEqual([
      'coordinator.apiKeysFile',
      'AITBC_COORDINATOR_API_KEYS_FILE',
      'default',
      '—',
    ]);
  });

  it('refuses bad input with usage errors naming the flag', async () => {
    const f = join(dir, 'bad-keys.json');
    expect(await cli(['api-key', 'add', '--file', f, '--role', 'root'])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('NODE_API_KEYS_BAD_ROLE'),
    });
    expect(await cli(['api-key', 'add', '--file', f, '--role', 'miner'])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('--miner-id'),
    });
    expect(await cli(['api-key', 'add', '--file', f, '--role', 'miner', '--miner-id', 'a b'])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('NODE_API_KEYS_BAD_SUBJECT'),
    });
    expect(await cli(['api-key', 'add', '--role', 'admin'])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('--file'),
    });
    expect(await cli(['api-key', 'remove', '--file', keysFile, '--id', 'nope'])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('NODE_API_KEYS_UNKNOWN_ID'),
    });
    expect(await cli(['api-key', 'rotate', '--file', keysFile])).toMatchObject({ code: EXIT_USAGE });
  });

  it('refuses keys files that hold a plaintext key, an unknown role, or are writable by others', async () => {
    const f = join(dir, 'tampered.json');
    writeFileSync(f, JSON.stringify({ keys: [{ role: 'admin', hash: 'my-secret-key' }] }), { mode: 0o600 });
    expect(() => readApiKeysFile(f)).toThrow(expect.objectContaining({ code: 'NODE_API_KEYS_INVALID' }));
    writeFileSync(f, JSON.stringify({ keys: [{ role: 'root', hash: 'a'.repeat(64) }] }));
    expect(() => readApiKeysFile(f)).toThrow(expect.objectContaining({ code: 'NODE_API_KEYS_INVALID' }));
    writeFileSync(f, '{"keys":');
    expect(() => readApiKeysFile(f)).toThrow(expect.objectContaining({ code: 'NODE_API_KEYS_INVALID' }));
    writeFileSync(f, JSON.stringify({ keys: [] }));
    chmodSync(f, 0o666);
    expect(() => readApiKeysFile(f)).toThrow(expect.objectContaining({ code: 'NODE_API_KEYS_FILE_MODE' }));
  });
});

describe('aitbc-node start --role coordinator', () => {
  const coordinator = () => `http://127.0.0.1:${coordinatorPort}`;
  const pool = () => `http://127.0.0.1:${poolPort}`;

  it('serves the printed keys, answers 401 to wrong ones, and keeps jobs and keys over a restart', async () => {
    let running = await start(configFile, [coordinator(), pool()]);
    let jobId: string;
    try {
      expect((await call(`${coordinator()}/v1/jobs`, 'not-a-key')).status).toBe(401);
      expect((await call(`${coordinator()}/v1/jobs`, undefined)).status).toBe(401);
      expect((await call(`${coordinator()}/v1/jobs`, minerKey)).status).toBe(403); // a miner is not a client
      const submitted = await call(`${coordinator()}/v1/jobs`, clientKey, {
        method: 'POST',
        body: JSON.stringify({ kind: 'hash', input: { data: 'aGVsbG8' }, max_price: '1000' }),
      });
      expect(submitted).toMatchObject({ status: 201, body: { client: clientAddress, state: 'QUEUED' } });
      jobId = submitted.body.job_id as string;
      // the in-process pool hub is served with its own keys
      expect((await call(`${pool()}/v1/miners`, poolAdminKey)).status).toBe(200);
      expect((await call(`${pool()}/v1/miners`, clientKey)).status).toBe(401);
    } finally {
      expect(await running.stop()).toBe(0);
    }
    expect(
      await fetch(`${coordinator()}/health`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');

    running = await start(configFile, [coordinator(), pool()]);
    try {
      expect(await call(`${coordinator()}/v1/jobs/${jobId}`, clientKey)).toMatchObject({
        status: 200,
        body: { job_id: jobId, state: 'QUEUED' },
      });
    } finally {
      expect(await running.stop()).toBe(0);
    }

    // rotation: a new client key for the same address, the old one removed, then a restart
    const newKey = await addKey(keysFile, '--role', 'client', '--subject', clientAddress);
    const old = readApiKeysFile(keysFile).find((k) => k.hash === hashApiKey(clientKey))!;
    expect((await cli(['api-key', 'remove', '--file', keysFile, '--id', old.id])).code).toBe(0);
    running = await start(configFile, [coordinator(), pool()]);
    try {
      expect((await call(`${coordinator()}/v1/jobs/${jobId}`, clientKey)).status).toBe(401);
      expect(await call(`${coordinator()}/v1/jobs/${jobId}`, newKey)).toMatchObject({ status: 200 });
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });

  it('as a process: SIGTERM stops it with exit 0, and at log level debug no key or seed is in its output', async () => {
    const debugConfig = join(dir, 'coordinator-debug.json');
    const base = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(debugConfig, JSON.stringify({ ...base, log: { level: 'debug' } }));
    const lines: string[] = [];
    const child = spawnNode(['start', '--config', debugConfig], { name: 'coordinator', onLine: (l) => lines.push(l) });
    try {
      await waitForHealth(coordinator(), child, 30_000);
      const key = await addKey(keysFile, '--role', 'admin'); // not loaded by this run: 401
      expect((await call(`${coordinator()}/v1/jobs`, key)).status).toBe(401);
      expect((await call(`${coordinator()}/v1/jobs`, minerKey)).status).toBe(403);
    } finally {
      expect(await child.stop(10_000)).toBe(0);
    }
    const output = lines.join('\n');
    expect(output).toContain(`coordinator local-coordinator ${coordinator()}`);
    expect(output).not.toContain(minerKey);
    expect(output).not.toContain(bytesToHex(coordinatorSeed));
    expect(output).not.toContain('correct horse');
  });

  it('exits with a usage error naming the problem for a bad keys file or a missing key', async () => {
    const badKeys = join(dir, 'pool-role-keys.json');
    writeFileSync(badKeys, JSON.stringify({ keys: [{ role: 'admin', hash: 'plaintext' }] }), { mode: 0o600 });
    const bad = join(dir, 'bad-coordinator.json');
    writeFileSync(
      bad,
      JSON.stringify({
        role: 'coordinator',
        dataDir: 'data-bad',
        keystore: 'coordinator.keystore.json',
        passphraseFile: 'passphrase',
        coordinator: { port: 0, apiKeysFile: 'pool-role-keys.json' },
        log: { level: 'silent' },
      }),
    );
    expect(await cli(['start', '--config', bad])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('NODE_API_KEYS_INVALID'),
    });
    const noKeys = join(dir, 'no-keys.json');
    writeFileSync(noKeys, JSON.stringify({ role: 'coordinator', dataDir: 'x', keystore: 'k.json' }));
    expect(await cli(['start', '--config', noKeys])).toMatchObject({
      code: EXIT_USAGE,
      err: expect.stringContaining('coordinator.apiKeysFile (AITBC_COORDINATOR_API_KEYS_FILE)'),
    });
  });
});

describe('aitbc-node start --role pool', () => {
  it('serves the pool hub with the keys file, 401 for a wrong key, and keeps miners over a restart', async () => {
    const port = await freePort();
    const f = join(dir, 'pool.json');
    const keys = join(dir, 'pool-only-keys.json');
    const admin = await addKey(keys, '--role', 'admin');
    const miner = await addKey(keys, '--role', 'miner', '--miner-id', 'gpu-1');
    writeFileSync(
      f,
      JSON.stringify({
        role: 'pool',
        dataDir: 'pool-data',
        pool: { port, apiKeysFile: keys },
        log: { level: 'silent' },
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    let running = await start(f, [url]);
    try {
      expect((await call(`${url}/v1/miners`, 'wrong')).status).toBe(401);
      expect(await call(`${url}/v1/miners`, admin)).toMatchObject({ status: 200, body: { items: [] } });
      const publicKey = publicKeyFromSeed(generateKeyPair().seed);
      const registration = {
        miner_id: 'gpu-1',
        address: addressFromPublicKey(publicKey),
        public_key: bytesToHex(publicKey),
        capabilities: { gpus: [{ model: 'A100', vram_gb: 80 }], job_kinds: ['wasm'] },
        price_per_unit: '250',
        max_concurrency: 1,
      };
      const post = { method: 'POST', body: JSON.stringify(registration) };
      expect((await call(`${url}/v1/miners`, 'wrong', post)).status).toBe(401);
      expect((await call(`${url}/v1/miners`, miner, post)).status).toBe(201);
      expect((await call(`${url}/v1/miners`, miner)).status).toBe(403); // listing is for admins
    } finally {
      expect(await running.stop()).toBe(0);
    }
    running = await start(f, [url]);
    try {
      const list = await call(`${url}/v1/miners`, admin);
      expect(list.status).toBe(200);
      expect((list.body.items as { miner_id: string }[]).map((m) => m.miner_id)).toEqual(['gpu-1']);
      expect((await call(`${url}/v1/miners`, 'wrong')).status).toBe(401);
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });
});
