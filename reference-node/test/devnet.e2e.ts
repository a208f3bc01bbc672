/**
 * `aitbc-node devnet` as a real process: validators in child processes, the pool hub, coordinator
 * (with the settler), wallet daemon and demo miner in the supervisor; it prints the URLs, the demo
 * miner works a job, and SIGINT (Ctrl-C) stops every process with exit code 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portBlockBase } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import { type NodeProcess, spawnNode } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-devnet-'));
let devnet: NodeProcess | undefined;
afterAll(async () => {
  devnet?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('aitbc-node devnet', () => {
  it('runs the validators and services, prints the URLs, and Ctrl-C stops everything', async () => {
    const base = portBlockBase();
    const lines: string[] = [];
    devnet = spawnNode(
      [
        'devnet',
        '--dir',
        dir,
        '--validators',
        '2',
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
    const text = lines.join('\n');
    const url = (label: string) => new RegExp(`${label}\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(text)?.[1];
    const pids = [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    const node0 = `http://127.0.0.1:${base + 6}`;
    expect(text).toContain(`node-1       API http://127.0.0.1:${base + 16}`);
    for (const u of [node0, `http://127.0.0.1:${base + 16}`, url('coordinator'), url('pool hub'), url('wallet')]) {
      expect(u).toBeDefined();
      const res = await fetch(`${u}/health`);
      expect({ u, status: res.status }).toEqual({ u, status: 200 });
    }
    // the two validators finalize blocks together
    await until(async () => {
      const head = (await (await fetch(`${node0}/rpc/head`)).json()) as { height: number };
      return head.height >= 2 ? true : undefined;
    }, 60_000);
    // the built-in demo miner works a submitted job (no other miner runs)
    const clientKey = /client key \(bound to the demo account\): (\S+)/.exec(text)?.[1];
    expect(text).toMatch(/demo miner\s+demo-miner ait1/);
    const submitted = await fetch(`${url('coordinator')}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': clientKey!, 'idempotency-key': 'devnet-e2e-1' },
      body: JSON.stringify({ kind: 'hash', input: { text: 'devnet', iterations: 10 }, max_price: String(10n ** 16n) }),
    });
    expect(submitted.status).toBe(201);
    const { job_id: jobId } = (await submitted.json()) as { job_id: string };
    const done = await until(async () => {
      const job = (await (
        await fetch(`${url('coordinator')}/v1/jobs/${jobId}`, { headers: { 'x-api-key': clientKey! } })
      ).json()) as { state: string; miner_id: string | null };
      return job.state === 'COMPLETED' || job.state === 'FAILED' ? job : undefined;
    }, 60_000);
    expect(done).toMatchObject({ state: 'COMPLETED', miner_id: 'demo-miner' });
    devnet.kill('SIGINT');
    expect(await devnet.exited).toBe(0);
    expect(lines.join('\n')).toContain('stopped.');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(fetch(`${node0}/health`)).rejects.toThrow();
  });
});
