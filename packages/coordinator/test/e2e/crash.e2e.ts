import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, generateKeyPair } from '@aitbc/crypto';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../../test-support/freePort.ts';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const script = join(import.meta.dirname, 'coordinatorProcess.ts');
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts the coordinator process and resolves with its URL once it listens. */
function startCoordinator(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`coordinator did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve({ url: (JSON.parse(line) as { url: string }).url, child });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`coordinator exited with ${code}: ${err}`));
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('coordinator killed with SIGKILL and restarted (real processes, level on disk)', () => {
  it('loses no job and no receipt, and pays nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aitbc-coord-crash-'));
    dirs.push(dir);
    const coordinator = generateKeyPair();
    const client = generateKeyPair();
    const miner = generateKeyPair();
    const clientAddress = addressFromPublicKey(client.publicKey);
    const env = {
      AITBC_DATA_DIR: dir,
      AITBC_PORT: String(await freePort()),
      AITBC_COORDINATOR_SEED: bytesToHex(coordinator.seed),
      AITBC_CLIENT_ADDRESS: clientAddress,
    };
    let { url, child } = await startCoordinator(env);
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
    };
    const receiptFor = (jobId: string) =>
      serializeReceipt(
        signReceipt(
          createReceipt({
            jobId,
            provider: addressFromPublicKey(miner.publicKey),
            client: clientAddress,
            units: 1n,
            unitType: 'job',
            unitPrice: 10n,
            startedAt: Date.now() - 10,
            completedAt: Date.now(),
            chainId: 'aitbc-devnet',
          }),
          miner.seed,
        ),
      );

    expect(
      (
        await call('POST', '/v1/miners/register', 'miner-key', {
          miner_id: 'miner-0',
          address: addressFromPublicKey(miner.publicKey),
          public_key: bytesToHex(miner.publicKey),
          capabilities: { job_kinds: ['hash'] },
          price_per_unit: '10',
          max_concurrency: 1,
        })
      ).status,
    ).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/v1/jobs', 'client-key', { kind: 'hash', input: { n: i }, max_price: '100' });
      expect(r.status).toBe(201);
      ids.push(r.json.job_id);
    }
    const first = await call('POST', '/v1/miners/poll', 'miner-key', { max_wait_seconds: 5 });
    expect(first.status).toBe(200);
    const running = first.json.job_id as string;

    // Crash 1: with one job assigned and two queued.
    await kill9(child);
    ({ url, child } = await startCoordinator(env));
    expect((await call('GET', `/v1/jobs/${running}`, 'client-key')).json.state).toBe('ASSIGNED');
    expect((await call('POST', '/v1/miners/heartbeat', 'miner-key', { running_jobs: [running] })).json).toEqual({
      cancel: [],
    });
    expect(
      (
        await call('POST', `/v1/miners/${running}/result`, 'miner-key', {
          output: { ok: 1 },
          receipt: receiptFor(running),
        })
      ).json.state,
    ).toBe('COMPLETED');

    // Crash 2: right after a completion was acknowledged.
    await kill9(child);
    ({ url, child } = await startCoordinator(env));
    expect((await call('GET', `/v1/jobs/${running}`, 'client-key')).json.state).toBe('COMPLETED');
    // the miner retries its report after the crash: refused, nothing paid twice
    const retried = await call('POST', `/v1/miners/${running}/result`, 'miner-key', {
      output: { ok: 1 },
      receipt: receiptFor(running),
    });
    expect([retried.status, retried.json.error.code]).toEqual([409, 'COORD_JOB_FINISHED']);

    for (let i = 0; i < 2; i++) {
      const a = await call('POST', '/v1/miners/poll', 'miner-key', { max_wait_seconds: 5 });
      expect(a.status).toBe(200);
      expect(
        (
          await call('POST', `/v1/miners/${a.json.job_id}/result`, 'miner-key', {
            output: { ok: 1 },
            receipt: receiptFor(a.json.job_id),
          })
        ).json.state,
      ).toBe('COMPLETED');
    }
    for (const id of ids) {
      expect((await call('GET', `/v1/jobs/${id}`, 'client-key')).json.state).toBe('COMPLETED');
      expect((await call('GET', `/v1/jobs/${id}/receipts`, 'client-key')).json.items).toHaveLength(1);
    }
    expect((await call('GET', '/v1/jobs', 'client-key')).json.items).toHaveLength(3);
  });
});
