/**
 * Issue 7, end to end on ONE network of real processes on 127.0.0.1 with level databases on disk
 * (see marketplaceRig.ts): a validator, the pool hub + coordinator + settler, and two `aitbc miner
 * start` processes running wasm jobs. The scenarios run in order against that network and keep an
 * exact ledger of what every account must hold: the client pays each job's receipt price plus one
 * fee per transaction it sends, each miner earns exactly the prices of the receipts it signed, and
 * the coordinator pays one fee per settlement (so its nonce counts the settlements).
 */
import { DEFAULT_PARAMS, signTx, type TxBody, txToJson } from '@aitbc/chain-core';
import { bytesToBase64url, isAitbcError } from '@aitbc/crypto';
import { createReceipt, JsonNumber, type Receipt, serializeReceipt, signReceipt, verifyReceipt } from '@aitbc/receipts';
import { type AitbcClient, type CoordinatorJob, createClient, createLocalSigner } from '@aitbc/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCREMENT_MODULE, TRAP_MODULE, wasmModule } from '../../packages/sdk/test/miner/wasmFixtures.ts';
import { until } from '../../test-support/until.ts';
import { type MarketplaceRig, type RigMiner, startMarketplaceRig } from './marketplaceRig.js';

const FEE = DEFAULT_PARAMS.minFee;
const UNIT_PRICE = 10n ** 15n; // 0.001 AIT per cpu second, both miners
const MAX_PRICE = 10n ** 17n; // what every job locks: the miner gets the price, the client the rest
const LEASE_MS = 10_000; // > the CLI miner's 5 s heartbeat, with room for a loaded machine

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
/**
 * `run` counts to one billion and returns an empty output: seconds of wasm work (1–2 s measured
 * under load here, well under the runner's 10 s limit), so a test can act while it runs.
 */
const SLOW_MODULE = (() => {
  const I32 = 0x7f;
  const billion = [0x80, 0x94, 0xeb, 0xdc, 0x03]; // sleb128(1_000_000_000)
  return wasmModule({
    memory: { min: 1, max: 1 },
    functions: [
      {
        params: [I32, I32],
        results: [0x7e],
        locals: [[1, I32]],
        exportAs: 'run',
        // biome-ignore format: one wasm instruction per line
        body: [
          0x02, 0x40, // block
          0x03, 0x40, // loop
          0x20, 2, 0x41, ...billion, 0x4f, 0x0d, 1, // br_if 1 (local 2 >= 1e9, unsigned)
          0x20, 2, 0x41, 1, 0x6a, 0x21, 2, // local 2 += 1
          0x0c, 0, // br 0
          0x0b, 0x0b, // end loop, end block
          0x42, 0, // i64.const 0: an empty output at offset 0
        ],
      },
    ],
  });
})();
const QUICK_JOB = { module: b64(INCREMENT_MODULE), input: b64(Uint8Array.of(1, 2, 3)) };
const SLOW_JOB = { module: b64(SLOW_MODULE) };
const FAILING_JOB = { module: b64(TRAP_MODULE) };

let rig: MarketplaceRig;
let client: AitbcClient;
/** What every account must hold, kept by the scenarios. */
const expected = new Map<string, bigint>();
/** Jobs that must end COMPLETED and settled exactly once / FAILED and refunded. */
const completedJobs: string[] = [];
const failedJobs: string[] = [];

beforeAll(async () => {
  rig = await startMarketplaceRig({ leaseMs: LEASE_MS, prices: [UNIT_PRICE, UNIT_PRICE] });
  client = createClient({
    node: rig.nodeUrl,
    coordinator: { url: rig.coordinatorUrl, apiKey: rig.clientKey },
    chainId: rig.chainId,
    coordinatorAddress: rig.coordinator.address,
    trust: { coordinatorKeys: [rig.coordinator.publicKey], minerKeys: rig.miners.map((m) => m.publicKey) },
    retry: { retries: 0 },
  });
  for (const a of [rig.faucet.address, rig.coordinator.address, ...rig.miners.map((m) => m.address)])
    expected.set(a, await rig.node.balance(a));
  expect(expected.get(rig.miners[0].address)).toBe(0n);
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

const debit = (address: string, amount: bigint) => expected.set(address, expected.get(address)! - amount);
const credit = (address: string, amount: bigint) => expected.set(address, expected.get(address)! + amount);

/** Every tracked account holds exactly what the ledger says. */
async function expectBalances(): Promise<void> {
  for (const [address, amount] of expected)
    expect({ address, balance: await rig.node.balance(address) }).toEqual({
      address,
      balance: amount,
    });
}

const priceOf = (r: Receipt) => {
  const p = r.price;
  return BigInt(p instanceof JsonNumber ? p.lexeme : String(p));
};

function minerByAddress(address: string): RigMiner {
  const m = rig.miners.find((x) => x.address === address);
  if (m === undefined) throw new Error(`no miner has address ${address}`);
  return m;
}

function otherMiner(m: RigMiner): RigMiner {
  return rig.miners[0] === m ? rig.miners[1] : rig.miners[0];
}

/** Sends a transaction from the client account (nonce: the chain's, plus what is pending). */
async function sendFromClient(body: Omit<TxBody, 'chainId' | 'from' | 'nonce' | 'fee'>): Promise<string> {
  const account = await rig.node.account(rig.faucet.address);
  const pending = (await rig.node.mempool(1000)).txs.filter((t) => t.from === rig.faucet.address).length;
  const tx = signTx(
    {
      ...body,
      chainId: rig.chainId,
      from: rig.faucet.address,
      nonce: (account.nonce as number) + pending,
      fee: FEE,
    } as TxBody,
    rig.faucet.seed,
  );
  const id = await rig.node.sendTx(txToJson(tx));
  debit(rig.faucet.address, FEE);
  return id;
}

/** Submits a wasm job and locks MAX_PRICE for it on chain (final before this resolves). */
async function submitAndLock(input: unknown, ttlBlocks = 10_000): Promise<{ jobId: string; expiresAtHeight: number }> {
  const job = await client.jobs.submit({ kind: 'wasm', input, maxPrice: MAX_PRICE });
  const expiresAtHeight = (await rig.node.head()).height + ttlBlocks;
  await sendFromClient({
    type: 'escrow.lock',
    jobId: job.job_id,
    amount: MAX_PRICE,
    coordinator: rig.coordinator.address,
    expiresAtHeight,
  } as Omit<TxBody, 'chainId' | 'from' | 'nonce' | 'fee'>);
  debit(rig.faucet.address, MAX_PRICE);
  await until(async () => ((await escrowOf(job.job_id))?.status === 'locked' ? true : undefined), 30_000);
  return { jobId: job.job_id, expiresAtHeight };
}

async function escrowOf(jobId: string) {
  try {
    return await client.node.escrow(jobId);
  } catch (err) {
    if (isAitbcError(err, 'RPC_NOT_FOUND')) return undefined;
    throw err;
  }
}

/** The job once it is terminal (tolerates a coordinator that is down or restarting). */
async function finished(jobId: string, ms = 90_000): Promise<CoordinatorJob> {
  return until(async () => {
    const job = await client.jobs.get(jobId).catch(() => undefined);
    return job !== undefined && ['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'].includes(job.state) ? job : undefined;
  }, ms);
}

async function receiptsOf(jobId: string): Promise<Receipt[]> {
  const out: Receipt[] = [];
  for await (const r of client.jobs.receipts(jobId)) out.push(r);
  return out;
}

/** The heights of the `escrow.settle` transactions the coordinator got included for a job. */
async function settlementHeights(jobId: string): Promise<number[]> {
  const heights: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const { items, nextCursor } = await rig.node.txsByAddress(rig.coordinator.address, {
      limit: 100,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const t of items)
      if (t.type === 'escrow.settle' && t.from === rig.coordinator.address && t.jobId === jobId)
        heights.push(t.height as number);
    if (nextCursor === null) return heights;
    cursor = nextCursor;
  }
  throw new Error('too many coordinator transactions');
}

async function settlementsOf(jobId: string): Promise<number> {
  return (await settlementHeights(jobId)).length;
}

/**
 * A completed job's payment: its one receipt verifies under the pinned coordinator key and the
 * key of the miner that ran it (and not under the other miner's key), the escrow settles once
 * paying the receipt's price to that miner, and the ledger moves by exactly that.
 */
async function expectPaidOnce(jobId: string, ranOn: RigMiner): Promise<Receipt> {
  const receipts = await receiptsOf(jobId);
  expect(receipts).toHaveLength(1);
  const receipt = receipts[0]!;
  expect(receipt).toMatchObject({ job_id: jobId, provider: ranOn.address, client: rig.faucet.address });
  const pinned = { coordinatorKeys: [rig.coordinator.publicKey], requireAttestation: true };
  expect(verifyReceipt(receipt, { ...pinned, minerKeys: [ranOn.publicKey] }).ok).toBe(true);
  expect(verifyReceipt(receipt, { ...pinned, minerKeys: [otherMiner(ranOn).publicKey] }).ok).toBe(false);
  const price = priceOf(receipt);
  expect(price > 0n && price < MAX_PRICE).toBe(true);
  const escrow = await until(async () => {
    const e = await escrowOf(jobId);
    return e?.status === 'settled' ? e : undefined;
  }, 60_000);
  expect(escrow).toMatchObject({
    provider: ranOn.address,
    paid: price.toString(),
    receiptId: receipt.receipt_id,
    amount: MAX_PRICE.toString(),
  });
  const heights = await settlementHeights(jobId);
  expect(heights).toHaveLength(1);
  // final: the block holding the settlement has its commit (signed by the validator)
  const commit = await rig.node.commit(heights[0]!);
  expect(commit).toMatchObject({
    height: heights[0],
    signatures: [{ validator: rig.network.validators[0]!.address }],
  });
  credit(ranOn.address, price);
  credit(rig.faucet.address, MAX_PRICE - price);
  debit(rig.coordinator.address, FEE);
  completedJobs.push(jobId);
  return receipt;
}

/** POST a miner route with a miner's API key; the status and the error code. */
async function minerCall(miner: RigMiner, path: string, body: unknown): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${rig.coordinatorUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': miner.apiKey },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, ...(json.error?.code !== undefined ? { code: json.error.code } : {}) };
}

/** A well-formed receipt for `jobId` signed by `miner` (what a cheating or confused miner would send). */
function receiptBy(miner: RigMiner, jobId: string, price: bigint): string {
  return serializeReceipt(
    signReceipt(
      createReceipt({
        jobId,
        provider: miner.address,
        client: rig.faucet.address,
        units: 1n,
        unitType: 'cpu_second',
        unitPrice: price,
        startedAt: Date.now() - 1_000,
        completedAt: Date.now(),
        chainId: rig.chainId,
      }),
      miner.seed,
    ),
  );
}

/** The miner that printed `started` for the job (waits for it). */
async function startedOn(jobId: string, ms = 60_000): Promise<RigMiner> {
  return until(
    async () => rig.miners.find((m) => m.events.some((e) => e.event === 'started' && e.job_id === jobId)),
    ms,
  );
}

describe('issue 7: the marketplace end to end on one network (chain, pool hub, coordinator, two miners)', () => {
  let firstJob: { jobId: string; miner: RigMiner; receipt: Receipt };

  it('a client locks escrow, a miner runs the wasm job, the receipt verifies with pinned keys, escrow.settle pays the price and returns the rest', async () => {
    const signer = createLocalSigner(rig.faucet.seed);
    const run = await client.jobs.run({ kind: 'wasm', input: QUICK_JOB, maxPrice: MAX_PRICE, wallet: signer });
    debit(rig.faucet.address, MAX_PRICE + FEE); // the lock jobs.run sent
    expect(run.job.state).toBe('COMPLETED');
    expect(run.verification.ok).toBe(true);
    expect(run.output).toEqual({ output: bytesToBase64url(Uint8Array.of(2, 3, 4)), size: 3 });
    const miner = minerByAddress(run.receipt.provider);
    expect(run.job.miner_id).toBe(miner.id);
    expect(run.receipt).toMatchObject({ unit_type: 'cpu_second', unit_price: UNIT_PRICE.toString() });
    const receipt = await expectPaidOnce(run.job.job_id, miner);
    expect(receipt.receipt_id).toBe(run.receipt.receipt_id);
    await expectBalances();
    firstJob = { jobId: run.job.job_id, miner, receipt };
  });

  it('a miner SIGKILLed mid-job: the lease expires, the job completes on the other miner and is paid once', async () => {
    const { jobId } = await submitAndLock(SLOW_JOB);
    const victim = await startedOn(jobId);
    await victim.kill();
    expect(victim.events.filter((e) => e.job_id === jobId).map((e) => e.event)).toEqual(['started']);
    const survivor = otherMiner(victim);
    // back for the next scenarios (same id and key: the pool hub knows it); the job now excludes it
    const restarted = victim.start();
    const job = await finished(jobId);
    expect(job.state).toBe('COMPLETED');
    expect(job.miner_id).toBe(survivor.id);
    // RUNNING entries depend on heartbeat timing: compare the assignments, the re-queue, the completion
    const steps = job.history.filter((h) => h.state !== 'RUNNING');
    expect(steps.map((h) => [h.state, h.miner_id])).toEqual([
      ['QUEUED', null],
      ['ASSIGNED', victim.id],
      ['QUEUED', null],
      ['ASSIGNED', survivor.id],
      ['COMPLETED', survivor.id],
    ]);
    expect(steps[2]?.reason).toBe(`lease expired on ${victim.id}`);
    await expectPaidOnce(jobId, survivor);
    await expectBalances();
    await restarted;
  });

  it('a failing job: no receipt, nothing settled, and the client refunds the escrow after its expiry', async () => {
    const { jobId, expiresAtHeight } = await submitAndLock(FAILING_JOB, 3);
    const job = await finished(jobId);
    expect(job.state).toBe('FAILED');
    expect(job.error).toContain('MINER_WASM_TRAP');
    expect(await receiptsOf(jobId)).toEqual([]);
    await expect(client.jobs.result(jobId)).rejects.toMatchObject({ code: 'COORD_NOT_COMPLETED' });
    expect((await escrowOf(jobId))?.status).toBe('locked');
    await until(async () => ((await rig.node.head()).height > expiresAtHeight ? true : undefined), 30_000);
    await sendFromClient({ type: 'escrow.refund', jobId } as Omit<TxBody, 'chainId' | 'from' | 'nonce' | 'fee'>);
    const escrow = await until(async () => {
      const e = await escrowOf(jobId);
      return e?.status === 'refunded' ? e : undefined;
    }, 30_000);
    expect(escrow).toMatchObject({ paid: null, provider: null });
    credit(rig.faucet.address, MAX_PRICE);
    expect(await settlementsOf(jobId)).toBe(0);
    failedJobs.push(jobId);
    await expectBalances();
  });

  it('a second result for the same job is rejected, and nothing more is paid', async () => {
    const { jobId, miner } = firstJob;
    const again = await minerCall(miner, `/v1/miners/${jobId}/result`, {
      output: { output: '', size: 0 },
      receipt: receiptBy(miner, jobId, MAX_PRICE),
    });
    // the job is finished: a second report is refused as such
    expect(again).toEqual({ status: 409, code: 'COORD_JOB_FINISHED' });
    expect(await minerCall(miner, `/v1/miners/${jobId}/fail`, { message: 'late failure' })).toEqual({
      status: 409,
      code: 'COORD_JOB_FINISHED',
    });
    expect((await client.jobs.get(jobId)).state).toBe('COMPLETED');
    expect((await receiptsOf(jobId)).map((r) => r.receipt_id)).toEqual([firstJob.receipt.receipt_id]);
    expect(await settlementsOf(jobId)).toBe(1);
    await expectBalances();
  });

  it('a result from a miner that was not assigned the job is rejected; the assigned miner is paid', async () => {
    const { jobId } = await submitAndLock(SLOW_JOB);
    const holder = await startedOn(jobId);
    const intruder = otherMiner(holder);
    // Frozen mid-job (well within its lease), the holder cannot finish before the intruder reports.
    holder.process!.signal('SIGSTOP');
    try {
      expect((await client.jobs.get(jobId)).miner_id).toBe(holder.id);
      expect(
        await minerCall(intruder, `/v1/miners/${jobId}/result`, {
          output: { output: '', size: 0 },
          receipt: receiptBy(intruder, jobId, MAX_PRICE),
        }),
      ).toEqual({ status: 409, code: 'COORD_NOT_ASSIGNED' });
      expect(await minerCall(intruder, `/v1/miners/${jobId}/fail`, { message: 'not mine' })).toEqual({
        status: 409,
        code: 'COORD_NOT_ASSIGNED',
      });
    } finally {
      holder.process?.signal('SIGCONT');
    }
    const job = await finished(jobId);
    expect(job).toMatchObject({ state: 'COMPLETED', miner_id: holder.id });
    expect(job.history.filter((h) => h.state !== 'RUNNING').map((h) => [h.state, h.miner_id])).toEqual([
      ['QUEUED', null],
      ['ASSIGNED', holder.id],
      ['COMPLETED', holder.id],
    ]);
    await expectPaidOnce(jobId, holder);
    await expectBalances();
  });

  it('the coordinator SIGKILLed mid-flow: after a restart every job finishes and is paid exactly once', async () => {
    const slow = await submitAndLock(SLOW_JOB);
    const quick = [await submitAndLock(QUICK_JOB), await submitAndLock(QUICK_JOB)];
    // The slow job's miner is frozen for the kill, so the job is surely in flight when the coordinator
    // dies; its result then reaches the restarted coordinator, or (if the report gives up before the
    // restart) the lease runs out and the job is re-run on the other miner.
    const holder = await startedOn(slow.jobId);
    holder.process!.signal('SIGSTOP');
    await rig.services.kill();
    holder.process!.signal('SIGCONT');
    expect(
      await fetch(`${rig.coordinatorUrl}/health`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
    await rig.services.start();
    for (const { jobId } of [slow, ...quick]) {
      const job = await finished(jobId);
      expect({ jobId, state: job.state }).toEqual({ jobId, state: 'COMPLETED' });
      await expectPaidOnce(jobId, rig.miners.find((m) => m.id === job.miner_id)!);
    }
    await expectBalances();

    // Every job of the run, as the restarted coordinator lists it, and as the chain settled it.
    const all: CoordinatorJob[] = [];
    for await (const j of client.jobs.list()) all.push(j);
    expect(
      all
        .filter((j) => j.state === 'COMPLETED')
        .map((j) => j.job_id)
        .sort(),
    ).toEqual([...completedJobs].sort());
    expect(all.filter((j) => j.state === 'FAILED').map((j) => j.job_id)).toEqual(failedJobs);
    expect(all).toHaveLength(completedJobs.length + failedJobs.length);
    for (const jobId of completedJobs)
      expect({ jobId, settles: await settlementsOf(jobId) }).toEqual({ jobId, settles: 1 });
    // one transaction per settlement and nothing else: the coordinator's nonce counts them
    expect((await rig.node.account(rig.coordinator.address)).nonce).toBe(completedJobs.length);
  });
});
