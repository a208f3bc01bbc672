/**
 * Issue 21 §5, end to end with real processes on 127.0.0.1 and level databases on disk: a validator
 * (`aitbc-node start`, through {@link startTestNetwork}) and a coordinator (`aitbc-node start` with
 * `role: coordinator`, settling through that validator's API); the test is the client (locks escrow
 * on chain) and the miner (polls and reports over the coordinator API with signed receipts).
 *
 * The validator is SIGKILLed and stays away for 20 s with settlements open; meanwhile the coordinator
 * completes more jobs, is SIGKILLed right after acknowledging a completion, and is started again while
 * the node is still down. The coordinator must stay up (its process alive, its API answering, its
 * health showing the settler backing off), and once the node is back every completed job must be
 * settled on chain exactly once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, type TxBody, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, generateKeyPair, isAitbcError } from '@aitbc/crypto';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import { type NodeProcess, readKeystoreFile, readPassphrase, runCli, spawnNode, waitForHealth } from '../src/index.js';
import { startTestNetwork, type TestNetwork } from './networkHarness.js';

const OUTAGE_MS = 20_000;
const PRICE = 10n ** 15n; // what each receipt asks
const LOCKED = 10n ** 16n; // what each job locks

let network: TestNetwork | undefined;
let coordinator: NodeProcess | undefined;
const output: string[] = [];

afterAll(async () => {
  if (coordinator?.running) {
    coordinator.kill('SIGKILL');
    await coordinator.exited;
  }
  await network?.close();
});

/** `aitbc-node api-key add --file <file> <args>`, in process; the plaintext key it printed. */
async function addKey(file: string, args: readonly string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['api-key', 'add', '--file', file, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    stopSignal: () => new Promise(() => undefined),
  });
  if (code !== 0 || out.length !== 1) throw new Error(`api-key add failed (${code}): ${err.join('\n')}`);
  return out[0]!;
}

describe('issue 21 §5: the node away for 20 s and the coordinator killed at a completion (real processes)', () => {
  it('the coordinator stays up and every completed job is settled on chain exactly once', async () => {
    network = await startTestNetwork({ validators: 1 });
    const net = network;
    const node = net.validators[0]!;
    const chain = node.client;
    const passphraseFile = join(net.dir, 'passphrase');
    const keystore = join(net.dir, 'coordinator.keystore.json');
    const coordinatorAddress = addressFromPublicKey(
      (await readKeystoreFile(keystore, readPassphrase(passphraseFile, {}))).publicKey,
    );
    const keysFile = join(net.dir, 'coordinator-keys.json');
    const clientKey = await addKey(keysFile, ['--role', 'client', '--subject', net.faucet.address]);
    const minerKey = await addKey(keysFile, ['--role', 'miner', '--miner-id', 'miner-e2e']);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = join(net.dir, 'coordinator.json');
    writeFileSync(
      config,
      JSON.stringify({
        role: 'coordinator',
        name: 'coordinator',
        dataDir: join(net.dir, 'coordinator'),
        keystore,
        passphraseFile,
        coordinator: {
          port,
          apiKeysFile: keysFile,
          nodeUrl: node.rpcUrl,
          chainId: net.chainId,
          leaseMs: 60_000,
          sweepIntervalMs: 250,
          settleIntervalMs: 250,
        },
        log: { level: 'warn' },
      }),
    );
    const startCoordinator = async () => {
      const p = spawnNode(['start', '--config', config], {
        name: 'coordinator',
        onLine: (line) => {
          output.push(line);
          if (output.length > 200) output.shift();
        },
      });
      coordinator = p;
      await waitForHealth(url, p, 90_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${output.slice(-20).join('\n')}`);
      });
      return p;
    };
    const killCoordinator = async () => {
      const p = coordinator!;
      p.kill('SIGKILL');
      expect(await p.exited).toBe('SIGKILL'); // it was alive until this kill
    };
    /** The coordinator API (a fetch failure is an error: the coordinator must answer). */
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
    };
    await startCoordinator();

    const miner = generateKeyPair();
    const minerAddress = addressFromPublicKey(miner.publicKey);
    const receiptFor = (jobId: string) =>
      serializeReceipt(
        signReceipt(
          createReceipt({
            jobId,
            provider: minerAddress,
            client: net.faucet.address,
            units: 1n,
            unitType: 'job',
            unitPrice: PRICE,
            startedAt: Date.now() - 10,
            completedAt: Date.now(),
            chainId: net.chainId,
          }),
          miner.seed,
        ),
      );
    const register = await call('POST', '/v1/miners/register', minerKey, {
      miner_id: 'miner-e2e',
      address: minerAddress,
      public_key: bytesToHex(miner.publicKey),
      capabilities: { job_kinds: ['hash'] },
      price_per_unit: PRICE.toString(),
      max_concurrency: 1,
    });
    expect(register.status).toBe(201);
    /** The miner takes the next job and reports it done; resolves once the coordinator acknowledged it. */
    const completeNext = async () => {
      const a = await call('POST', '/v1/miners/poll', minerKey, { max_wait_seconds: 10 });
      expect(a.status).toBe(200);
      const jobId = a.json.job_id as string;
      const done = await call('POST', `/v1/miners/${jobId}/result`, minerKey, {
        output: { ok: true },
        receipt: receiptFor(jobId),
      });
      expect([done.status, done.json.state]).toEqual([200, 'COMPLETED']);
      return jobId;
    };

    // Five jobs, each with its escrow locked on chain (the client's transactions, nonces in a row);
    // four are run, the fifth stays queued (and must stay unpaid).
    const jobs: string[] = [];
    const { nonce: firstNonce } = (await chain.account(net.faucet.address)) as { nonce: number };
    const { height } = await chain.head();
    for (let i = 0; i < 5; i++) {
      const submitted = await call('POST', '/v1/jobs', clientKey, {
        kind: 'hash',
        input: { n: i },
        max_price: LOCKED.toString(),
      });
      expect(submitted.status).toBe(201);
      const jobId = submitted.json.job_id as string;
      jobs.push(jobId);
      const lock = signTx(
        {
          type: 'escrow.lock',
          chainId: net.chainId,
          from: net.faucet.address,
          nonce: firstNonce + i,
          fee: DEFAULT_PARAMS.minFee,
          jobId,
          amount: LOCKED,
          coordinator: coordinatorAddress,
          expiresAtHeight: height + 100_000,
        } as TxBody,
        net.faucet.seed,
      );
      await chain.sendTx(txToJson(lock));
    }
    const escrowOf = async (jobId: string) => {
      try {
        return (await chain.escrow(jobId)) as { status: string; paid?: string; provider?: string };
      } catch (err) {
        if (isAitbcError(err, 'RPC_NOT_FOUND')) return undefined;
        throw err;
      }
    };
    await until(async () => {
      for (const id of jobs) if ((await escrowOf(id))?.status !== 'locked') return undefined;
      return true;
    }, 60_000);

    // The normal path first: the first job completes and is settled.
    const completed = [await completeNext()];
    await until(async () => ((await escrowOf(completed[0]!))?.status === 'settled' ? true : undefined), 60_000);
    await until(async () => ((await call('GET', '/health', clientKey)).json.settlement.open === 0 ? true : undefined));

    // The node goes away.
    await node.kill();
    const back = Date.now() + OUTAGE_MS;
    // Two completions while it is down: their settlements stay open.
    completed.push(await completeNext(), await completeNext());
    // The coordinator is killed right after it acknowledged a completion, and started again while the
    // node is still down.
    completed.push(await completeNext());
    await killCoordinator();
    const restarted = await startCoordinator();
    // For the rest of the outage the coordinator stays up, answers, and shows its settler backing off.
    let sawBackingOff = false;
    await until(async () => {
      expect(restarted.running, `the coordinator exited:\n${output.slice(-20).join('\n')}`).toBe(true);
      const health = await call('GET', '/health', clientKey);
      expect(health.status).toBe(200);
      const settlement = health.json.settlement as { state: string; open: number; last_error: { code: string } | null };
      if (settlement.state === 'backing-off') {
        sawBackingOff = true;
        expect(settlement.last_error?.code).toBe('COORD_SETTLEMENT_UNAVAILABLE');
        expect(settlement.open).toBe(3);
      }
      return Date.now() >= back ? true : undefined;
    }, OUTAGE_MS + 30_000);
    expect(sawBackingOff).toBe(true);
    // The jobs are COMPLETED in the restarted coordinator, the one killed at its completion included.
    for (const id of completed) expect((await call('GET', `/v1/jobs/${id}`, clientKey)).json.state).toBe('COMPLETED');

    // The node is back: every completed job is paid, by the coordinator that never went down again.
    await node.start();
    await until(async () => {
      expect(restarted.running, `the coordinator exited:\n${output.slice(-20).join('\n')}`).toBe(true);
      for (const id of completed) if ((await escrowOf(id))?.status !== 'settled') return undefined;
      return true;
    }, 120_000);
    const health = await until(async () => {
      const h = await call('GET', '/health', clientKey);
      return h.json.settlement.open === 0 && h.json.settlement.state === 'ok' ? h.json : undefined;
    }, 30_000);
    expect(health.settlement.consecutive_failures).toBe(0);

    // Exactly once: one included escrow.settle per job, the miner paid each price once, and the
    // coordinator's account sent nothing else (its nonce counts its settlements).
    const settles = new Map<string, number>();
    let cursor: string | undefined;
    for (;;) {
      const page = await chain.txsByAddress(coordinatorAddress, {
        limit: 100,
        ...(cursor !== undefined ? { cursor } : {}),
      });
      for (const t of page.items)
        if (t.type === 'escrow.settle' && t.from === coordinatorAddress)
          settles.set(t.jobId as string, (settles.get(t.jobId as string) ?? 0) + 1);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(Object.fromEntries(settles)).toEqual(Object.fromEntries(completed.map((id) => [id, 1])));
    for (const id of completed) expect(await escrowOf(id)).toMatchObject({ status: 'settled', provider: minerAddress });
    expect(await chain.balance(minerAddress)).toBe(PRICE * BigInt(completed.length));
    expect((await chain.account(coordinatorAddress)).nonce).toBe(completed.length);
    // the fifth job was never run: its escrow is still locked, nothing was sent for it
    expect((await escrowOf(jobs.find((id) => !completed.includes(id))!))?.status).toBe('locked');
    expect(restarted.running).toBe(true);
  });
});
