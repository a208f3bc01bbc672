import { MemoryKVStore } from '@aitbc/chain-core';
import { afterEach, describe, expect, it } from 'vitest';
import { JobEngine } from '../src/index.js';
import { type EngineRig, minerIdentity, startEngine, structuralReceipts } from './fixtures.js';

const rigs: EngineRig[] = [];
async function rig(...args: Parameters<typeof startEngine>) {
  const r = await startEngine(...args);
  rigs.push(r);
  return r;
}
afterEach(async () => {
  while (rigs.length > 0) await rigs.pop()!.engine.stop();
});

const submission = { kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 1000n };

describe('JobEngine lifecycle', () => {
  it('runs QUEUED → ASSIGNED → RUNNING → COMPLETED and stores result and receipt', async () => {
    const { engine, hub, client } = await rig();
    const m = minerIdentity('m1');
    await hub.registry.register(m.registration);
    const job = await engine.submit(client, submission);
    expect(job.state).toBe('QUEUED');
    const a = await engine.poll('m1', { maxWaitMs: 1000 });
    expect(a).toMatchObject({ jobId: job.id, kind: 'hash', input: submission.input, client, maxPrice: 1000n });
    expect((await engine.get(job.id))!.state).toBe('ASSIGNED');
    expect(await engine.heartbeat('m1', [job.id])).toEqual({ cancel: [] });
    expect((await engine.get(job.id))!.state).toBe('RUNNING');
    const done = await engine.complete(
      'm1',
      job.id,
      { digest: 'abc' },
      { job_id: job.id, provider: m.registration.address },
    );
    expect(done.state).toBe('COMPLETED');
    expect(done.receiptId).toBe(`rcpt_${job.id}`);
    expect(done.history.map((e) => e.state)).toEqual(['QUEUED', 'ASSIGNED', 'RUNNING', 'COMPLETED']);
    expect(await engine.result(job.id)).toEqual({ digest: 'abc' });
    expect(JSON.parse((await engine.receiptJson(job.id))!)).toMatchObject({ job_id: job.id, attested: true });
    expect(hub.registry.get('m1')!.stats.completed).toBe(1);
  });

  it('long-polls: a waiting miner gets a job submitted later, and an idle poll returns null', async () => {
    const { engine, hub, client } = await rig();
    await hub.registry.register(minerIdentity('m1').registration);
    const pending = engine.poll('m1', { maxWaitMs: 5_000 });
    const job = await engine.submit(client, submission);
    expect((await pending)!.jobId).toBe(job.id);
    const start = Date.now();
    expect(await engine.poll('m1', { maxWaitMs: 50 })).toBeNull();
    expect(Date.now() - start).toBeGreaterThanOrEqual(40);
  });

  it('answers an aborted poll with null and a replaced poll with null', async () => {
    const { engine, hub } = await rig();
    await hub.registry.register(minerIdentity('m1').registration);
    const ac = new AbortController();
    const first = engine.poll('m1', { maxWaitMs: 10_000, signal: ac.signal });
    ac.abort();
    expect(await first).toBeNull();
    const a = engine.poll('m1', { maxWaitMs: 10_000 });
    const b = engine.poll('m1', { maxWaitMs: 50 });
    expect(await a).toBeNull();
    expect(await b).toBeNull();
  });

  it('only the assigned miner may report, and only once', async () => {
    const { engine, hub, client } = await rig();
    const m1 = minerIdentity('m1');
    const m2 = minerIdentity('m2');
    await hub.registry.register(m1.registration);
    await hub.registry.register(m2.registration);
    const job = await engine.submit(client, submission);
    const a = await engine.poll('m1', { maxWaitMs: 1000 });
    const owner = a!.jobId === job.id ? 'm1' : 'm2';
    const other = owner === 'm1' ? 'm2' : 'm1';
    await expect(engine.complete(other, job.id, {}, { job_id: job.id })).rejects.toMatchObject({
      code: 'COORD_NOT_ASSIGNED',
    });
    await expect(engine.fail(other, job.id, 'nope')).rejects.toMatchObject({ code: 'COORD_NOT_ASSIGNED' });
    const ownerAddress = owner === 'm1' ? m1.registration.address : m2.registration.address;
    await engine.complete(owner, job.id, { ok: true }, { job_id: job.id, provider: ownerAddress });
    await expect(
      engine.complete(owner, job.id, { ok: true }, { job_id: job.id, provider: ownerAddress }),
    ).rejects.toMatchObject({
      code: 'COORD_JOB_FINISHED',
      details: { state: 'COMPLETED' },
    });
    await expect(engine.fail(owner, job.id, 'late')).rejects.toMatchObject({ code: 'COORD_JOB_FINISHED' });
    await expect(engine.fail(other, job.id, 'late')).rejects.toMatchObject({ code: 'COORD_NOT_ASSIGNED' });
    await expect(engine.fail(owner, 'job_nope', 'x')).rejects.toMatchObject({ code: 'COORD_UNKNOWN_JOB' });
  });

  it('rejects a receipt that does not check and keeps the job running', async () => {
    const { engine, hub, client } = await rig();
    await hub.registry.register(minerIdentity('m1').registration);
    const job = await engine.submit(client, submission);
    await engine.poll('m1', { maxWaitMs: 1000 });
    await expect(engine.complete('m1', job.id, {}, { job_id: 'job_other' })).rejects.toMatchObject({
      code: 'COORD_RECEIPT_INVALID',
    });
    expect((await engine.get(job.id))!.state).toBe('ASSIGNED');
    expect(await engine.result(job.id)).toBeUndefined();
  });

  it('a failure yields no receipt and no result', async () => {
    const { engine, hub, client } = await rig();
    await hub.registry.register(minerIdentity('m1').registration);
    const job = await engine.submit(client, submission);
    await engine.poll('m1', { maxWaitMs: 1000 });
    const failed = await engine.fail('m1', job.id, 'runner crashed: out of memory');
    expect(failed.state).toBe('FAILED');
    expect(failed.error).toContain('out of memory');
    expect(failed.receiptId).toBeUndefined();
    expect(await engine.receiptJson(job.id)).toBeUndefined();
    expect(hub.registry.get('m1')!.stats.failed).toBe(1);
  });

  it('a reader never sees COMPLETED before the result and receipt are stored (the batch is in flight)', async () => {
    const store = new (class extends MemoryKVStore {
      hold: (() => void) | undefined;
      held: (() => void) | undefined;
      override async batch(ops: Parameters<MemoryKVStore['batch']>[0]): Promise<void> {
        if (this.held !== undefined) {
          await new Promise<void>((resolve) => {
            this.hold = resolve;
            this.held?.();
          });
        }
        return super.batch(ops);
      }
    })();
    const { engine, hub, client } = await rig({}, store);
    const m = minerIdentity('m1');
    await hub.registry.register(m.registration);
    const job = await engine.submit(client, submission);
    await engine.poll('m1', { maxWaitMs: 1000 });
    const writing = new Promise<void>((resolve) => {
      store.held = resolve;
    });
    const completing = engine.complete(
      'm1',
      job.id,
      { digest: 'abc' },
      { job_id: job.id, provider: m.registration.address },
    );
    await writing; // the completion's batch is waiting for the disk
    const seen = engine.get(job.id).then(async (j) => ({
      state: j?.state,
      result: await engine.result(job.id),
      receipt: (await engine.receiptJson(job.id)) !== undefined,
    }));
    store.held = undefined;
    store.hold!();
    await completing;
    expect(await seen).toEqual({ state: 'COMPLETED', result: { digest: 'abc' }, receipt: true });
  });

  it('re-queues a job whose miner stops heartbeating, to another miner, up to maxAttempts', async () => {
    const { engine, hub, client, clock } = await rig({ leaseMs: 10_000, maxAttempts: 2 });
    await hub.registry.register(minerIdentity('m1').registration);
    const job = await engine.submit(client, submission);
    expect((await engine.poll('m1', { maxWaitMs: 1000 }))!.jobId).toBe(job.id);
    clock.advance(10_001);
    await engine.sweep();
    const requeued = (await engine.get(job.id))!;
    expect(requeued.state).toBe('QUEUED');
    expect(requeued.excludedMiners).toEqual(['m1']);
    // m1 is excluded from this job now: its poll gets nothing
    expect(await engine.poll('m1', { maxWaitMs: 30 })).toBeNull();
    await hub.registry.register(minerIdentity('m2').registration);
    expect((await engine.poll('m2', { maxWaitMs: 1000 }))!.jobId).toBe(job.id);
    expect((await engine.heartbeat('m1', [job.id])).cancel).toEqual([job.id]);
    clock.advance(10_001);
    await engine.sweep();
    const failed = (await engine.get(job.id))!;
    expect(failed.state).toBe('FAILED');
    expect(failed.attempts).toBe(2);
  });

  it('heartbeats extend the lease', async () => {
    const { engine, hub, client, clock } = await rig({ leaseMs: 10_000 });
    await hub.registry.register(minerIdentity('m1').registration);
    const job = await engine.submit(client, submission);
    await engine.poll('m1', { maxWaitMs: 1000 });
    for (let i = 0; i < 5; i++) {
      clock.advance(8_000);
      await engine.heartbeat('m1', [job.id]);
      await engine.sweep();
    }
    expect((await engine.get(job.id))!.state).toBe('RUNNING');
  });

  it('expires jobs past their deadline and cancels on request', async () => {
    const { engine, hub, client, clock } = await rig();
    await hub.registry.register(minerIdentity('m1').registration);
    const expiring = await engine.submit(client, { ...submission, ttlMs: 5_000 });
    const canceled = await engine.submit(client, submission);
    expect((await engine.cancel(client, canceled.id)).state).toBe('CANCELED');
    await expect(engine.cancel(client, canceled.id)).rejects.toMatchObject({ code: 'COORD_JOB_FINISHED' });
    clock.advance(5_000);
    await engine.sweep();
    expect((await engine.get(expiring.id))!.state).toBe('EXPIRED');
    // nothing left to dispatch
    expect(await engine.poll('m1', { maxWaitMs: 30 })).toBeNull();
  });

  it("refuses to cancel another client's job", async () => {
    const { engine, client } = await rig();
    const job = await engine.submit(client, submission);
    const other = (await rig()).client;
    await expect(engine.cancel(other, job.id)).rejects.toMatchObject({ code: 'COORD_UNKNOWN_JOB' });
  });

  it('dispatches to the best-scored waiting miner that satisfies the requirements', async () => {
    const { engine, hub, client } = await rig();
    await hub.registry.register(minerIdentity('cheap', { pricePerUnit: 1n }).registration);
    await hub.registry.register(minerIdentity('dear', { pricePerUnit: 900n }).registration);
    const big = minerIdentity('big', { pricePerUnit: 500n });
    await hub.registry.register({
      ...big.registration,
      capabilities: { ...big.registration.capabilities, ramGb: 512 },
    });
    const pollDear = engine.poll('dear', { maxWaitMs: 200 });
    const pollCheap = engine.poll('cheap', { maxWaitMs: 200 });
    const pollBig = engine.poll('big', { maxWaitMs: 200 });
    const job = await engine.submit(client, submission);
    expect((await pollCheap)?.jobId).toBe(job.id);
    const needsRam = await engine.submit(client, { ...submission, requirements: { minRamGb: 256 } });
    expect((await pollBig)?.jobId).toBe(needsRam.id);
    expect(await pollDear).toBeNull();
  });

  it('is idempotent per client and key, and refuses a reused key with another body', async () => {
    const { engine, client } = await rig();
    const a = await engine.submit(client, submission, 'order-42');
    const b = await engine.submit(client, submission, 'order-42');
    expect(b.id).toBe(a.id);
    await expect(engine.submit(client, { ...submission, maxPrice: 1n }, 'order-42')).rejects.toMatchObject({
      code: 'COORD_IDEMPOTENCY_CONFLICT',
    });
    expect(engine.queued).toBe(1);
  });

  it.each([
    ['a bad client address', 'ait1notanaddress', submission, 'COORD_BAD_REQUEST'],
    ['a bad kind', undefined, { ...submission, kind: 'Bad Kind' }, 'COORD_BAD_REQUEST'],
    ['a negative price', undefined, { ...submission, maxPrice: -1n }, 'COORD_BAD_REQUEST'],
    ['a ttl below 1 s', undefined, { ...submission, ttlMs: 10 }, 'COORD_BAD_REQUEST'],
    ['a non-JSON input', undefined, { ...submission, input: { x: Number.NaN } }, 'COORD_BAD_REQUEST'],
    ['an oversized input', undefined, { ...submission, input: 'x'.repeat(300 * 1024) }, 'COORD_INPUT_TOO_LARGE'],
  ])('rejects %s', async (_name, clientOverride, sub, code) => {
    const { engine, client } = await rig();
    await expect(engine.submit(clientOverride ?? client, sub as typeof submission)).rejects.toMatchObject({ code });
    expect(engine.queued).toBe(0);
  });

  it('refuses submissions past the queue limit and polls from unregistered miners', async () => {
    const { engine, client } = await rig({ maxQueued: 1 });
    await engine.submit(client, submission);
    await expect(engine.submit(client, submission)).rejects.toMatchObject({ code: 'COORD_QUEUE_FULL' });
    await expect(engine.poll('ghost', { maxWaitMs: 10 })).rejects.toMatchObject({ code: 'COORD_UNKNOWN_MINER' });
  });

  it('pages a client’s jobs with a cursor', async () => {
    const { engine, client, clock } = await rig();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await engine.submit(client, submission)).id);
      clock.advance(1);
    }
    const page1 = await engine.list(client, { limit: 2 });
    const page2 = await engine.list(client, { limit: 2, cursor: page1.nextCursor! });
    const page3 = await engine.list(client, { limit: 2, cursor: page2.nextCursor! });
    expect([...page1.items, ...page2.items, ...page3.items].map((j) => j.id)).toEqual(ids);
    expect(page3.nextCursor).toBeNull();
    await expect(engine.list(client, { cursor: 'garbage' })).rejects.toMatchObject({ code: 'COORD_BAD_CURSOR' });
  });

  it('survives a restart: queued and running jobs come back from the store', async () => {
    const first = await rig({ leaseMs: 10_000 });
    await first.hub.registry.register(minerIdentity('m1').registration);
    const running = await first.engine.submit(first.client, submission);
    await first.engine.poll('m1', { maxWaitMs: 1000 });
    const queued = await first.engine.submit(first.client, submission);
    await first.engine.stop();

    const engine = new JobEngine({
      store: first.store,
      hub: first.hub,
      receipts: structuralReceipts,
      now: first.clock.now,
      sweepIntervalMs: 3_600_000,
    });
    await engine.start();
    try {
      expect((await engine.get(running.id))!.state).toBe('ASSIGNED');
      expect((await engine.get(queued.id))!.state).toBe('QUEUED');
      await engine.complete(
        'm1',
        running.id,
        { ok: 1 },
        { job_id: running.id, provider: first.hub.registry.get('m1')!.address },
      );
      expect((await engine.poll('m1', { maxWaitMs: 1000 }))!.jobId).toBe(queued.id);
    } finally {
      await engine.stop();
    }
  });
});
