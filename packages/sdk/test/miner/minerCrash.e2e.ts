import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { bytesToHex } from '@aitbc/crypto';
import { parseReceiptJson, validateReceipt, verifyReceipt } from '@aitbc/receipts';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../../test-support/until.js';
import { createMinerAgent, type MinerAgent } from '../../src/miner/index.js';
import { CHAIN_ID, type CoordinatorRig, type RigMiner, startCoordinatorRig } from './coordinatorRig.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const script = join(import.meta.dirname, 'minerProcess.ts');
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Spawns a miner agent process; resolves once it registered, with a stream of its event lines. */
function startMinerProcess(
  url: string,
  miner: RigMiner,
): Promise<{ child: ChildProcess; events: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@aitbc/source', script], {
    cwd: root,
    env: {
      ...process.env,
      AITBC_COORDINATOR_URL: url,
      AITBC_MINER_ID: miner.id,
      AITBC_MINER_KEY: miner.apiKey,
      AITBC_MINER_SEED: bytesToHex(miner.keys.seed),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const events: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`miner did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const e = JSON.parse(line) as Record<string, unknown>;
        events.push(e);
        if (e.event === 'ready') {
          clearTimeout(timer);
          resolve({ child, events });
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`miner exited with ${code}: ${err}`));
    });
  });
}

describe('miner agent process killed with SIGKILL mid-job (real processes, 127.0.0.1)', () => {
  it('the job is re-queued when the lease expires and completes on the other miner, exactly once', async () => {
    const r: CoordinatorRig = await startCoordinatorRig({ leaseMs: 1_500 });
    cleanups.push(() => r.stop());
    const [m0, m1] = r.miners as [RigMiner, RigMiner];
    const completions: string[] = [];
    r.engine.onTransition((job) => {
      if (job.state === 'COMPLETED') completions.push(job.id);
    });

    const { child, events } = await startMinerProcess(r.url, m0);
    // 2M iterations: seconds of hashing even on a fast machine, so miner-0 is killed in the middle of it
    const id = await r.submit('hash', { text: 'crash me', iterations: 2_000_000 });
    await until(async () => (events.some((e) => e.event === 'jobStarted' && e.jobId === id) ? true : undefined));
    await until(async () => ((await r.job(id)).state === 'RUNNING' ? true : undefined), 60_000);
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    expect(events.filter((e) => e.event === 'jobCompleted')).toEqual([]);

    const b: MinerAgent = createMinerAgent({
      coordinatorUrl: r.url,
      apiKey: m1.apiKey,
      minerId: m1.id,
      seed: m1.keys.seed,
      chainId: CHAIN_ID,
      pricePerUnit: 10n,
      heartbeatMs: 200,
      pollWaitSeconds: 1,
      probe: { nvidiaSmiPath: false },
    });
    cleanups.push(() => b.stop({ drainTimeoutMs: 0 }));
    await b.start();

    const job = await until(async () => {
      const j = await r.job(id);
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : undefined;
    }, 90_000);
    expect(job.state).toBe('COMPLETED');
    expect(job.miner_id).toBe('miner-1');
    // RUNNING entries depend on heartbeat timing: compare assignments, re-queues and the completion
    const steps = job.history.filter((h) => h.state !== 'RUNNING');
    expect(steps.map((h) => [h.state, h.miner_id])).toEqual([
      ['QUEUED', null],
      ['ASSIGNED', 'miner-0'],
      ['QUEUED', null],
      ['ASSIGNED', 'miner-1'],
      ['COMPLETED', 'miner-1'],
    ]);
    expect(steps[2]?.reason).toMatch(/lease expired on miner-0/);
    expect(completions).toEqual([id]);
    const res = await r.call('GET', `/v1/jobs/${id}/receipts`);
    expect(res.json.items).toHaveLength(1);
    const receipt = validateReceipt(
      parseReceiptJson(res.text.slice('{"items":['.length, res.text.lastIndexOf('],"next_cursor"'))),
    );
    expect(receipt.provider).toBe(b.address);
    expect(
      verifyReceipt(receipt, { minerKeys: [m1.keys.publicKey], coordinatorKeys: [r.coordinator.publicKey] }).ok,
    ).toBe(true);
    expect(
      verifyReceipt(receipt, { minerKeys: [m0.keys.publicKey], coordinatorKeys: [r.coordinator.publicKey] }).ok,
    ).toBe(false);
  });
});
