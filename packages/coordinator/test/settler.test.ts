import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { describe, expect, it } from 'vitest';
import { Settler } from '../src/index.js';
import { AIT, CHAIN, world } from './settlementWorld.js';

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
