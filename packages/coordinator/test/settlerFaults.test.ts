import { AitbcError, isAitbcError } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { AIT, type FaultMode, type GatewayMethod, world } from './settlementWorld.js';

/** A job locked on chain and completed by the miner for `price`; its settlement is open. */
async function completedAndLocked(w: Awaited<ReturnType<typeof world>>, price: bigint, input = 'x') {
  const job = await w.engine.submit(w.addr(w.client), { kind: 'hash', input, maxPrice: AIT });
  await w.lockEscrow(job.id, AIT);
  await w.produce();
  await w.completeNext(price);
  return job.id;
}

/** Produces blocks and runs passes until the settlement of `jobId` is final. */
async function settledFinal(w: Awaited<ReturnType<typeof world>>, settler: typeof w.settler, jobId: string) {
  await until(async () => {
    await settler.tick();
    await w.produce();
    return (await settler.get(jobId))?.state === 'final' ? true : undefined;
  });
}

describe('Settler: the loop survives a failing gateway and pays each job exactly once', () => {
  const cases: [GatewayMethod, FaultMode][] = [
    ['escrow', 'rejects'],
    ['escrow', 'throws'],
    ['nextNonce', 'rejects'],
    ['nextNonce', 'throws'],
    ['submit', 'rejects'],
    ['submit', 'throws'],
  ];
  it.each(
    cases,
  )('gateway.%s %s on every call: the loop backs off, never throws, then settles once', async (method, mode) => {
    const w = await world();
    const errors: AitbcError[] = [];
    const settler = w.newSettler({ intervalMs: 5, maxBackoffMs: 40, onError: (e) => errors.push(e) });
    const jobId = await completedAndLocked(w, 7n);
    w.faults.set(method, mode);
    // the running loop: several failed passes in a row, none of them escaping (vitest fails a run
    // on an unhandled rejection), and a pass run by hand resolves too
    settler.start();
    await until(async () => (settler.status().consecutiveFailures >= 3 ? true : undefined));
    await expect(settler.tick()).resolves.toBeUndefined();
    const status = settler.status();
    expect(status).toMatchObject({
      state: 'backing-off',
      open: 1,
      lastError: { code: 'COORD_SETTLEMENT_UNAVAILABLE', operation: method, jobId },
    });
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]).toBeInstanceOf(AitbcError);
    expect(errors[0]!.details).toMatchObject({ operation: method, jobId, cause: 'RPC_HTTP_ERROR' });
    // an outage is not the chain refusing: the settlement waits, it does not fail
    expect((await w.settler.get(jobId))!.rejections).toBeUndefined();
    expect((await w.settler.get(jobId))!.state).not.toBe('failed');
    // the node is back: the loop recovers by itself and the job is paid once
    w.faults.clear();
    await until(async () => {
      await w.produce();
      return (await settler.get(jobId))?.state === 'final' ? true : undefined;
    });
    await settler.stop();
    expect(settler.status()).toMatchObject({ state: 'stopped', consecutiveFailures: 0, open: 0 });
    expect(await w.chain.escrow(jobId)).toMatchObject({ status: 'settled', paid: 7n });
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(7n);
    // one transaction for the one settlement: the coordinator's nonce counts it
    expect((await w.chain.account(w.addr(w.coordinator))).nonce).toBe(1);
    expect(new Set(w.submitted).size).toBe(1);
  });

  it('a node restart loses the pending settlement: the identical transaction is sent again, paid once', async () => {
    const w = await world();
    const settler = w.newSettler({ intervalMs: 1 });
    const jobId = await completedAndLocked(w, 9n);
    await settler.tick();
    const first = (await settler.get(jobId))!;
    expect(first).toMatchObject({ state: 'submitted', nonce: 0, attempts: 1 });
    w.restartNode(); // the pending transaction is gone
    await settledFinal(w, settler, jobId);
    expect(new Set(w.submitted)).toEqual(new Set([first.txId]));
    expect((await w.chain.account(w.addr(w.coordinator))).nonce).toBe(1);
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(9n);
  });

  it('a resubmission while the first transaction is still pending adds nothing (no second nonce)', async () => {
    const w = await world();
    const settler = w.newSettler({ intervalMs: 1 });
    const jobId = await completedAndLocked(w, 3n);
    await settler.tick();
    const { txId } = (await settler.get(jobId))!;
    // no block for a while: the settler resends what it sent, the mempool knows it
    await until(async () => {
      await settler.tick();
      return (await settler.get(jobId))!.attempts >= 3 ? true : undefined;
    });
    expect(new Set(w.submitted)).toEqual(new Set([txId]));
    expect((await w.node.mempool.select(1000, 1e9)).length).toBe(1);
    await settledFinal(w, settler, jobId);
    expect((await w.chain.account(w.addr(w.coordinator))).nonce).toBe(1);
  });

  it('a nonce already used (a lagging node) is re-derived from the chain, not counted as a rejection', async () => {
    const w = await world();
    const settler = w.newSettler({ intervalMs: 1 });
    const a = await completedAndLocked(w, 4n, 'a');
    await settledFinal(w, settler, a);
    const b = await completedAndLocked(w, 5n, 'b');
    w.staleNonces.push(0); // nonce 0 was used by the settlement of a
    await settler.tick();
    expect((await settler.get(b))!.state).toBe('pending');
    expect((await settler.get(b))!.nonce).toBeUndefined();
    expect((await settler.get(b))!.error).toMatch(/^CHAIN_BAD_NONCE/);
    expect((await settler.get(b))!.rejections).toBeUndefined();
    await settledFinal(w, settler, b);
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(9n);
    expect((await w.chain.account(w.addr(w.coordinator))).nonce).toBe(2);
  });

  it('an escrow the chain already shows settled is final without a new transaction', async () => {
    const w = await world();
    const settler = w.newSettler({ intervalMs: 1 });
    const jobId = await completedAndLocked(w, 6n);
    // the coordinator's disk as it was before the submission was recorded (a lost write)
    const before = new (await import('@aitbc/chain-core')).MemoryKVStore();
    for await (const [k, v] of w.store.iterate()) await before.put(k, v);
    await settledFinal(w, settler, jobId);
    const sent = w.submitted.length;
    const again = w.newSettler({ intervalMs: 1 }, before);
    expect((await again.get(jobId))!.state).toBe('pending');
    await again.tick();
    expect(await again.get(jobId)).toMatchObject({ state: 'final' });
    expect(w.submitted).toHaveLength(sent);
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(6n);
  });

  it('a refused settlement is counted and reported, and fails after maxAttempts without paying', async () => {
    const w = await world();
    const errors: AitbcError[] = [];
    // a fee below the chain's minimum: the node refuses every settle transaction
    const settler = w.newSettler({ intervalMs: 1, maxAttempts: 2, fee: 0n, onError: (e) => errors.push(e) });
    const jobId = await completedAndLocked(w, 2n);
    await until(async () => {
      await settler.tick();
      return (await settler.get(jobId))?.state === 'failed' ? true : undefined;
    });
    expect(await settler.get(jobId)).toMatchObject({ state: 'failed', error: 'too many attempts', rejections: 2 });
    expect(errors.filter((e) => isAitbcError(e, 'COORD_SETTLEMENT_REJECTED'))).toHaveLength(2);
    expect(errors[0]!.details).toMatchObject({ jobId, cause: 'CHAIN_FEE_TOO_LOW' });
    expect(settler.status().totals).toMatchObject({ rejected: 2, failed: 1, unavailable: 0 });
    await w.produce();
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(0n);
  });
});
