/** The admission controller on a hand-driven clock: commits and backlog fed in, no timing. */
import { type Chain, createMempool, DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { type AitbcError, addressFromPublicKey, generateKeyPair, isAitbcError } from '@aitbc/crypto';
import type { JsonObject, NodeBackend } from '@aitbc/rpc';
import { describe, expect, it } from 'vitest';
import { createAdmissionControl, fillsNonceGap } from '../src/admissionControl.js';
import { createConsensusPriority } from '../src/consensusPriority.js';

function setup(overrides: { budgetMs?: number; minBacklogTxs?: number; windowMs?: number } = {}) {
  let t = 1_000_000;
  let backlog = 0;
  let refused = 0;
  const admission = createAdmissionControl({
    budgetMs: 2000,
    minBacklogTxs: 1000,
    windowMs: 5000,
    ...overrides,
    backlog: () => backlog,
    now: () => t,
    onRefused: () => refused++,
  });
  return {
    admission,
    advance: (ms: number) => {
      t += ms;
    },
    setBacklog: (n: number) => {
      backlog = n;
    },
    refused: () => refused,
  };
}

/** The RPC_BUSY error `fn` throws (fails the test when it does not throw one). */
function busy(fn: () => unknown): AitbcError {
  try {
    fn();
  } catch (err) {
    if (isAitbcError(err) && err.code === 'RPC_BUSY') return err;
    throw err;
  }
  throw new Error('admitted, expected RPC_BUSY');
}

describe('createAdmissionControl', () => {
  it('admits a fresh node up to its floor, then refuses with RPC_BUSY and a Retry-After', () => {
    const s = setup();
    s.setBacklog(999);
    s.admission.admit();
    expect(s.admission.status()).toMatchObject({ capacityTxsPerSecond: 0, limitTxs: 1000, backlogTxs: 1000 });
    const err = busy(() => s.admission.admit());
    expect(err.details).toMatchObject({ backlog: 1000, limit: 1000, capacityTxsPerSecond: 0, retryAfterSeconds: 1 });
    expect(s.refused()).toBe(1);
  });

  it('follows the measured finalized rate: the limit is budgetMs of it, Retry-After the time to clear the excess', () => {
    const s = setup();
    for (let i = 0; i < 5; i++) {
      s.advance(1000);
      s.admission.recordCommit(3000);
    }
    expect(s.admission.status().capacityTxsPerSecond).toBe(3000);
    expect(s.admission.status().limitTxs).toBe(6000);
    s.setBacklog(5999);
    s.admission.admit(); // 5,999 waiting: admitted (and now 6,000 with it)
    expect(busy(() => s.admission.admit()).details).toMatchObject({ limit: 6000, retryAfterSeconds: 1 });
    s.setBacklog(12_000); // 6,001 over the limit at 3,000 tx/s: 3 s
    expect(busy(() => s.admission.admit()).details).toMatchObject({ retryAfterSeconds: 3 });
    s.setBacklog(10_000_000);
    expect(busy(() => s.admission.admit()).details).toMatchObject({ retryAfterSeconds: 10 }); // capped
  });

  it('adapts: the same backlog is refused on a network that finalizes half as fast', () => {
    const fast = setup();
    const slow = setup();
    for (let i = 0; i < 5; i++) {
      fast.advance(1000);
      slow.advance(1000);
      fast.admission.recordCommit(4000);
      slow.admission.recordCommit(2000);
    }
    fast.setBacklog(5000);
    slow.setBacklog(5000);
    fast.admission.admit();
    busy(() => slow.admission.admit());
    expect(slow.admission.status().limitTxs).toBe(4000);
  });

  it('forgets commits older than the window and falls back to the floor when the chain stops', () => {
    const s = setup();
    for (let i = 0; i < 5; i++) {
      s.advance(1000);
      s.admission.recordCommit(2500);
    }
    expect(s.admission.status().limitTxs).toBe(5000);
    s.advance(2500); // the two oldest blocks leave the window
    expect(s.admission.status().capacityTxsPerSecond).toBe(1500);
    s.advance(5000);
    expect(s.admission.status()).toMatchObject({ capacityTxsPerSecond: 0, limitTxs: 1000 });
  });

  it('counts the submissions it let through until they are answered (a JSON-RPC batch is checked in one tick)', () => {
    const s = setup({ minBacklogTxs: 3 });
    const releases = [s.admission.admit(), s.admission.admit(), s.admission.admit()];
    busy(() => s.admission.admit());
    expect(s.admission.status().inFlightTxs).toBe(3);
    releases[0]?.();
    releases[0]?.(); // idempotent
    expect(s.admission.status().inFlightTxs).toBe(2);
    s.admission.admit();
  });

  it('counts its submissions in flight once per node that may be admitting at the same moment', () => {
    let nodes = 4;
    let backlog = 0;
    const admission = createAdmissionControl({
      budgetMs: 2000,
      minBacklogTxs: 1000,
      windowMs: 5000,
      backlog: () => backlog,
      inFlightWeight: () => nodes,
      now: () => 0,
    });
    const inFlight = Array.from({ length: 250 }, () => admission.admit()); // 4 × 250 = the limit
    busy(() => admission.admit());
    expect(admission.status()).toMatchObject({ inFlightTxs: 250, backlogTxs: 1000 });
    nodes = 1; // peers gone: its own submissions count once
    inFlight.push(admission.admit());
    for (const release of inFlight) release();
    backlog = 998; // what it let through is now in its mempool
    nodes = 4;
    admission.admit();
    busy(() => admission.admit());
  });

  it('guard lets the head of a nonce gap through past the limit, and only the head', async () => {
    const key = generateKeyPair();
    const from = addressFromPublicKey(key.publicKey);
    const account = async () => ({ balance: 10n ** 18n, nonce: 0 });
    const mempool = createMempool({ chainId: 'aitbc-test', minFee: DEFAULT_PARAMS.minFee, account });
    const wire = (nonce: number) =>
      txToJson(
        signTx(
          { type: 'transfer', chainId: 'aitbc-test', from, nonce, fee: DEFAULT_PARAMS.minFee, to: from, amount: 1n },
          key.seed,
        ),
      ) as unknown as JsonObject;
    let refused = 0;
    const admission = createAdmissionControl({
      budgetMs: 2000,
      minBacklogTxs: 2,
      windowMs: 5000,
      backlog: () => mempool.size,
      unblocks: fillsNonceGap(mempool, account),
      now: () => 0,
      onRefused: () => refused++,
    });
    const backend = { submitTx: async (tx: JsonObject) => (await mempool.addJson(tx)).id } as unknown as NodeBackend;
    const guarded = admission.guard(backend);
    await guarded.submitTx(wire(2));
    await guarded.submitTx(wire(4)); // the floor (2) reached; nonces 0, 1 and 3 missing
    const refusedCode = async (nonce: number) => {
      try {
        await guarded.submitTx(wire(nonce));
      } catch (err) {
        return isAitbcError(err) ? err.code : String(err);
      }
      return 'admitted';
    };
    expect(await refusedCode(5)).toBe('RPC_BUSY'); // a new transaction
    expect(await refusedCode(1)).toBe('RPC_BUSY'); // in a gap, but not its head: 0 comes first
    expect(await refusedCode(0)).toBe('admitted'); // the account's next nonce, pending ones above it
    expect(await refusedCode(3)).toBe('RPC_BUSY'); // its turn comes once 0–2 are committed
    expect(mempool.size).toBe(3);
    expect(refused).toBe(3);
  });

  it('budgetMs 0 turns it off', () => {
    const s = setup({ budgetMs: 0 });
    s.setBacklog(1_000_000);
    for (let i = 0; i < 10; i++) s.admission.admit();
    expect(s.refused()).toBe(0);
  });

  it('guard: refuses submitTx past the limit, frees the slot on every answer, passes everything else through', async () => {
    const s = setup({ minBacklogTxs: 2 });
    const answers: Array<{ resolve: (id: string) => void; reject: (e: unknown) => void }> = [];
    const backend = {
      head: () => ({ height: 7, hash: '0x00', stateRoot: '0x00', timestamp: 0 }),
      submitTx: () =>
        new Promise<string>((resolve, reject) => {
          answers.push({ resolve, reject });
        }),
    } as unknown as NodeBackend;
    const guarded = s.admission.guard(backend);
    expect(guarded.head()).toMatchObject({ height: 7 });
    const first = guarded.submitTx({});
    const second = guarded.submitTx({});
    expect(() => guarded.submitTx({})).toThrow(/past its capacity/);
    answers[0]?.resolve('0x01');
    answers[1]?.reject(new Error('bad tx'));
    await expect(first).resolves.toBe('0x01');
    await expect(second).rejects.toThrow('bad tx');
    expect(s.admission.status().inFlightTxs).toBe(0);
    void guarded.submitTx({});
    expect(s.admission.status().inFlightTxs).toBe(1);
  });
});

describe('createConsensusPriority', () => {
  it('intake runs at once while no block is built, validated or imported', async () => {
    const priority = createConsensusPriority({ intakeShare: 0.25, maxWaitMs: 60_000 });
    expect(await priority.intakeSlice(async () => 'admitted')).toBe('admitted');
    expect(priority.waits.count).toBe(0);
  });

  it('intake waits while a tracked chain step runs and resumes when it ends', async () => {
    const priority = createConsensusPriority({ intakeShare: 0.25, maxWaitMs: 60_000 });
    let finishImport: () => void = () => undefined;
    const chain = {
      importBlock: () =>
        new Promise<void>((r) => {
          finishImport = r;
        }),
      head: { height: 3 },
    } as unknown as Chain;
    const tracked = priority.track(chain);
    expect(tracked.head.height).toBe(3);
    const order: string[] = [];
    const importing = tracked.importBlock({} as never, {} as never);
    expect(priority.busy).toBe(1);
    const intake = priority.intakeSlice(async () => order.push('intake'));
    // Had the slice not waited, it would have run before intakeSlice returned.
    order.push('import ends');
    finishImport();
    await importing;
    await intake;
    expect(order).toEqual(['import ends', 'intake']);
    expect(priority.busy).toBe(0);
    expect(priority.waits.count).toBe(1);
  });

  it('intake keeps its share while a step does not end (never starves); share 100% never waits', async () => {
    const bounded = createConsensusPriority({ intakeShare: 0.5 });
    void bounded.run(() => new Promise(() => undefined)); // a step that never ends
    let slices = 0;
    for (let i = 0; i < 5; i++) await bounded.intakeSlice(async () => slices++);
    expect(slices).toBe(5);
    expect(bounded.waits.count).toBe(5);
    expect(bounded.busy).toBe(1);
    const off = createConsensusPriority({ intakeShare: 1 });
    void off.run(() => new Promise(() => undefined));
    await off.intakeSlice(async () => undefined);
    expect(off.waits.count).toBe(0);
  });
});
