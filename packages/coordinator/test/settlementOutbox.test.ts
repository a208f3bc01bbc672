import { type BatchOp, type BatchOptions, type IterateOptions, type KVStore, MemoryKVStore } from '@aitbc/chain-core';
import { AitbcError, bytesToUtf8 } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { AIT, world } from './settlementWorld.js';

/**
 * A store whose process "dies" right after the batch that stores a COMPLETED job: every later write
 * fails (nothing after that moment reaches the disk). `disk` is what a restarted process finds.
 */
class DiesAfterCompletionStore implements KVStore {
  readonly disk = new MemoryKVStore();
  dead = false;

  #check(): void {
    if (this.dead) throw new AitbcError('STORE_CLOSED', 'the process was killed');
  }
  get(key: Uint8Array) {
    return this.disk.get(key);
  }
  getMany(keys: readonly Uint8Array[]) {
    return this.disk.getMany(keys);
  }
  iterate(options?: IterateOptions) {
    return this.disk.iterate(options);
  }
  async put(key: Uint8Array, value: Uint8Array) {
    this.#check();
    await this.disk.put(key, value);
  }
  async del(key: Uint8Array) {
    this.#check();
    await this.disk.del(key);
  }
  async batch(ops: readonly BatchOp[], options?: BatchOptions) {
    this.#check();
    await this.disk.batch(ops, options);
    const completed = ops.some(
      (op) =>
        op.type === 'put' &&
        bytesToUtf8(op.key).startsWith('coord/job/') &&
        (JSON.parse(bytesToUtf8(op.value)) as { state: string }).state === 'COMPLETED',
    );
    if (completed) this.dead = true;
  }
  close() {
    return this.disk.close();
  }
}

/** Every job id stored COMPLETED, and every job id with a settlement record. */
async function completedAndIntents(store: KVStore) {
  const completed: string[] = [];
  const intents: string[] = [];
  for await (const [k, v] of store.iterate()) {
    const key = bytesToUtf8(k);
    if (key.startsWith('coord/job/') && (JSON.parse(bytesToUtf8(v)) as { state: string }).state === 'COMPLETED')
      completed.push(key.slice('coord/job/'.length));
    if (key.startsWith('coord/settle/')) intents.push(key.slice('coord/settle/'.length));
  }
  return { completed, intents };
}

describe('the settlement outbox: a job is never stored completed without its settlement intent', () => {
  it('a coordinator killed right after the completion batch still has the intent; after a restart the job is paid', async () => {
    const store = new DiesAfterCompletionStore();
    const w = await world({}, store);
    w.settler.start(); // a running settler, as in production
    const job = await w.engine.submit(w.addr(w.client), { kind: 'hash', input: 'crash', maxPrice: AIT });
    await w.lockEscrow(job.id, AIT);
    await w.produce();
    await w.completeNext(11n);
    expect(store.dead).toBe(true); // nothing written after the completion's batch reached the disk
    await w.settler.stop();
    // the restarted coordinator: the same disk, a new settler
    const { completed, intents } = await completedAndIntents(store.disk);
    expect(completed).toEqual([job.id]);
    expect(intents).toEqual([job.id]);
    const restarted = w.newSettler({}, store.disk);
    expect(await restarted.get(job.id)).toMatchObject({ state: 'pending', attempts: 0 });
    await restarted.tick();
    await w.produce();
    await restarted.tick();
    expect((await restarted.get(job.id))!.state).toBe('final');
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(11n);
  });

  it('every completed job has its intent, with or without a settler running; a settler started later pays them all', async () => {
    const w = await world();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = await w.engine.submit(w.addr(w.client), { kind: 'hash', input: `n${i}`, maxPrice: AIT });
      await w.lockEscrow(job.id, AIT);
      ids.push(job.id);
    }
    await w.produce();
    for (let i = 0; i < 5; i++) await w.completeNext(1n);
    const { completed, intents } = await completedAndIntents(w.store);
    expect(completed.sort()).toEqual([...ids].sort());
    expect(intents.sort()).toEqual([...ids].sort());
    await w.settler.tick();
    await w.produce();
    await w.settler.tick();
    for (const id of ids) expect((await w.settler.get(id))!.state).toBe('final');
    expect((await w.chain.account(w.addr(w.miner))).balance).toBe(5n);
    expect((await w.chain.account(w.addr(w.coordinator))).nonce).toBe(5);
  });
});
