import {
  blockHash,
  createChain,
  createMempool,
  DEFAULT_PARAMS,
  type Genesis,
  MemoryKVStore,
  precommitSigningBody,
  SignatureCache,
  signTx,
  txIdHex,
  txToJson,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import { addressFromPublicKey, generateKeyPair, signMessage } from '@aitbc/crypto';
import { createPoolHub } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { describe, expect, it } from 'vitest';
import { createReceiptHandler, JobEngine, type SettlementGateway, Settler, type SettleTxSigner } from '../src/index.js';

const CHAIN = 'aitbc-settle';
const AIT = 10n ** 18n;

async function world(settlerOptions: { lockWaitMs?: number } = {}) {
  const validator = generateKeyPair();
  const client = generateKeyPair();
  const coordinator = generateKeyPair();
  const miner = generateKeyPair();
  const addr = (k: { publicKey: Uint8Array }) => addressFromPublicKey(k.publicKey);
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: [{ publicKey: validator.publicKey, power: 1, name: 'v' }],
    allocations: [
      { address: addr(client), amount: 100n * AIT },
      { address: addr(coordinator), amount: AIT },
    ],
    params: DEFAULT_PARAMS,
  };
  const cache = new SignatureCache();
  const chain = createChain({
    store: new MemoryKVStore(),
    genesis,
    consensus: createPoaConsensus(),
    signatureCache: cache,
  });
  await chain.open();
  const mempool = createMempool({
    chainId: CHAIN,
    minFee: DEFAULT_PARAMS.minFee,
    account: (a) => chain.account(a),
    signatureCache: cache,
  });
  const produce = async () => {
    const height = chain.head.height + 1;
    const block = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: validator.seed,
      lastCommit: height === 1 ? null : ((await chain.getCommit(height - 1)) ?? null),
      txs: await mempool.select(1000, 1e9),
    });
    const hash = blockHash(block.header);
    await chain.importBlock(block, {
      height,
      round: 0,
      blockHash: hash,
      signatures: [
        {
          validator: addr(validator),
          signature: signMessage('vote', CHAIN, precommitSigningBody(height, 0, hash), validator.seed),
        },
      ],
    });
    await mempool.revalidate();
  };
  const submitted: string[] = [];
  const gateway: SettlementGateway = {
    // chain nonce plus the sender's transactions still pending in the mempool
    nextNonce: async (a) =>
      (await chain.account(a)).nonce + (await mempool.select(1000, 1e9)).filter((t) => t.body.from === a).length,
    submit: async (json) => {
      const r = await mempool.addJson(json);
      submitted.push(r.id);
      return r.id;
    },
    escrow: (jobId) => chain.escrow(jobId),
  };
  const sign: SettleTxSigner = (body, seed) => {
    const tx = signTx({ type: 'escrow.settle', ...body }, seed);
    return { id: txIdHex(tx), json: txToJson(tx) };
  };
  const hub = createPoolHub();
  const store = new MemoryKVStore();
  const engine = new JobEngine({
    store,
    hub,
    receipts: createReceiptHandler({ chainId: CHAIN, coordinatorSeed: coordinator.seed }),
  });
  await engine.start();
  await hub.registry.register({
    id: 'm1',
    address: addr(miner),
    publicKey: miner.publicKey,
    pricePerUnit: 1n,
    maxConcurrency: 1,
    capabilities: { gpus: [], cpuCores: 1, ramGb: 1, models: [], jobKinds: ['hash'], region: 'x' },
  });
  const settler = new Settler({
    engine,
    store,
    gateway,
    sign,
    chainId: CHAIN,
    coordinatorSeed: coordinator.seed,
    fee: DEFAULT_PARAMS.minFee,
    intervalMs: 3_600_000,
    ...settlerOptions,
  });
  /** The miner takes the next job and completes it with a signed receipt for `price`. */
  const completeNext = async (price: bigint) => {
    const a = await engine.poll('m1', { maxWaitMs: 1000 });
    const receipt = serializeReceipt(
      signReceipt(
        createReceipt({
          jobId: a!.jobId,
          provider: addr(miner),
          client: addr(client),
          units: 1n,
          unitType: 'job',
          unitPrice: price,
          startedAt: 0,
          completedAt: 1000,
          chainId: CHAIN,
        }),
        miner.seed,
      ),
    );
    await engine.complete('m1', a!.jobId, { ok: true }, receipt);
    await new Promise((r) => setTimeout(r, 10)); // the completion listener records the settlement
  };
  /** The client locks `amount` for `jobId` on chain (its first transaction), naming the coordinator. */
  const lockEscrow = (jobId: string, amount: bigint) =>
    mempool.add(
      signTx(
        {
          type: 'escrow.lock',
          chainId: CHAIN,
          from: addr(client),
          nonce: 0,
          fee: DEFAULT_PARAMS.minFee,
          jobId,
          amount,
          coordinator: addr(coordinator),
          expiresAtHeight: 100,
        },
        client.seed,
      ),
    );
  return {
    lockEscrow,
    completeNext,
    chain,
    mempool,
    produce,
    engine,
    settler,
    client,
    coordinator,
    miner,
    addr,
    submitted,
    store,
    gateway,
    sign,
  };
}

describe('Settler: completed jobs are paid on chain, exactly once', () => {
  it('locks escrow, runs the job, settles with the attested receipt; the miner gets the price, the client the rest', async () => {
    const w = await world();
    w.settler.start();
    const jobAddr = w.addr(w.client);
    const job = await w.engine.submit(jobAddr, { kind: 'hash', input: 'x', maxPrice: 2n * AIT });
    // the client locks the payment for this job on chain, naming the coordinator
    await w.lockEscrow(job.id, 2n * AIT);
    await w.produce();
    const clientBefore = (await w.chain.account(jobAddr)).balance;
    const price = AIT / 2n;
    await w.completeNext(price);
    await w.settler.tick();
    expect((await w.settler.get(job.id))!.state).toBe('submitted');
    await w.produce();
    await w.settler.tick();
    expect((await w.settler.get(job.id))!.state).toBe('final');
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(price);
    expect((await w.chain.account(jobAddr)).balance).toBe(clientBefore + 2n * AIT - price);
    expect(await w.chain.escrow(job.id)).toMatchObject({ status: 'settled', paid: price });
    // more passes never pay again
    await w.settler.tick();
    await w.produce();
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(price);
    expect(w.submitted).toHaveLength(1);
    await w.settler.stop();
  });

  it('resumes after a restart and marks a job settled elsewhere final without a new transaction', async () => {
    const w = await world();
    w.settler.start();
    const jobAddr = w.addr(w.client);
    const job = await w.engine.submit(jobAddr, { kind: 'hash', input: 'y', maxPrice: AIT });
    await w.lockEscrow(job.id, AIT);
    await w.produce();
    await w.completeNext(10n);
    await w.settler.stop();
    // a new settler on the same store picks up the pending settlement
    const again = new Settler({
      engine: w.engine,
      store: w.store,
      gateway: w.gateway,
      sign: w.sign,
      chainId: CHAIN,
      coordinatorSeed: w.coordinator.seed,
      fee: DEFAULT_PARAMS.minFee,
      intervalMs: 3_600_000,
    });
    await again.tick();
    expect((await again.get(job.id))!.state).toBe('submitted');
    await w.produce();
    await again.tick();
    expect((await again.get(job.id))!.state).toBe('final');
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(10n);
  });

  it('waits for an escrow locked after the job completed, then settles it', async () => {
    const w = await world();
    w.settler.start();
    const jobAddr = w.addr(w.client);
    const job = await w.engine.submit(jobAddr, { kind: 'hash', input: 'late', maxPrice: AIT });
    await w.completeNext(10n); // a fast miner: done before the client's lock is on chain
    await w.settler.tick();
    expect(await w.settler.get(job.id)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(w.submitted).toHaveLength(0);
    await w.lockEscrow(job.id, AIT);
    await w.produce();
    await w.settler.tick();
    expect((await w.settler.get(job.id))!.state).toBe('submitted');
    await w.produce();
    await w.settler.tick();
    expect((await w.settler.get(job.id))!.state).toBe('final');
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(10n);
    await w.settler.stop();
  });

  it('fails a settlement whose escrow was never locked within lockWaitMs, without paying anything', async () => {
    const w = await world({ lockWaitMs: 0 });
    w.settler.start();
    const job = await w.engine.submit(w.addr(w.client), { kind: 'hash', input: 'z', maxPrice: AIT });
    await w.completeNext(10n);
    await w.settler.tick();
    await w.settler.stop();
    expect(await w.settler.get(job.id)).toMatchObject({ state: 'failed', error: 'no escrow was locked for this job' });
    expect(w.submitted).toHaveLength(0);
    await w.produce();
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(0n);
  });
});
