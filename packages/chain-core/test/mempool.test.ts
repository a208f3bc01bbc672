import { addressFromPublicKey, bytesToHex, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { type Account, createMempool, MAX_ADD_BATCH, type SignedTx, signTx, txToJson } from '../src/index.js';

const CHAIN = 'aitbc-test';
const MIN = 100n;

function setup(balances: Record<string, bigint>, opts: { maxTxs?: number; maxPerSender?: number } = {}) {
  const accounts = new Map<string, Account>(Object.entries(balances).map(([a, b]) => [a, { balance: b, nonce: 0 }]));
  const pool = createMempool({
    chainId: CHAIN,
    minFee: MIN,
    account: async (a) => accounts.get(a) ?? { balance: 0n, nonce: 0 },
    ...opts,
  });
  return { pool, accounts };
}

const kp = () => {
  const k = generateKeyPair();
  return { ...k, address: addressFromPublicKey(k.publicKey) };
};
const to = kp().address;
const tx = (from: KeyPair & { address: string }, nonce: number, fee: bigint, amount = 1n, chainId = CHAIN): SignedTx =>
  signTx({ type: 'transfer', chainId, from: from.address, nonce, fee, to, amount }, from.seed);

describe('mempool', () => {
  it('admits, dedupes and verifies each signature once', async () => {
    const a = kp();
    const { pool } = setup({ [a.address]: 10_000n });
    const t = tx(a, 0, MIN);
    expect((await pool.add(t)).status).toBe('added');
    expect((await pool.addJson(JSON.parse(JSON.stringify(txToJson(t))))).status).toBe('known');
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(t.size);
    expect(pool.signatureCache.has(t.id, t.signature)).toBe(true);
    expect(pool.get(t.id)).toBe(t);
  });

  it('highestPendingNonce: the top nonce a sender has pending (gaps included), undefined once none is', async () => {
    const a = kp();
    const { pool, accounts } = setup({ [a.address]: 10_000n });
    expect(pool.highestPendingNonce(a.address)).toBeUndefined();
    await pool.add(tx(a, 0, MIN));
    await pool.add(tx(a, 3, MIN)); // 1 and 2 missing: a gap
    expect(pool.highestPendingNonce(a.address)).toBe(3);
    accounts.set(a.address, { balance: 10_000n, nonce: 4 }); // both committed
    await pool.revalidate();
    expect(pool.highestPendingNonce(a.address)).toBeUndefined();
  });

  it.each([
    [
      'a bad signature',
      (a: ReturnType<typeof kp>) => ({ ...tx(a, 0, MIN), signature: new Uint8Array(64) }),
      'CHAIN_BAD_SIGNATURE',
    ],
    ['another chain', (a: ReturnType<typeof kp>) => tx(a, 0, MIN, 1n, 'aitbc-other'), 'CHAIN_WRONG_CHAIN'],
    ['a low fee', (a: ReturnType<typeof kp>) => tx(a, 0, MIN - 1n), 'CHAIN_FEE_TOO_LOW'],
    ['a nonce too far ahead', (a: ReturnType<typeof kp>) => tx(a, 64, MIN), 'CHAIN_BAD_NONCE'],
    ['an overdraft', (a: ReturnType<typeof kp>) => tx(a, 0, MIN, 10_000n), 'CHAIN_INSUFFICIENT_FUNDS'],
  ])('rejects %s', async (_name, make, code) => {
    const a = kp();
    const { pool } = setup({ [a.address]: 10_000n });
    await expect(pool.add(make(a))).rejects.toMatchObject({ code });
    expect(pool.size).toBe(0);
  });

  it('refuses a used nonce before looking at the signature (add and addMany), and caches nothing for it', async () => {
    const a = kp();
    const { pool, accounts } = setup({ [a.address]: 10_000n });
    accounts.set(a.address, { balance: 10_000n, nonce: 2 });
    // A bad signature would give CHAIN_BAD_SIGNATURE if it were checked first.
    const replayed = { ...tx(a, 1, MIN), signature: new Uint8Array(64) };
    await expect(pool.add(replayed)).rejects.toMatchObject({ code: 'CHAIN_BAD_NONCE', details: { expected: 2 } });
    const fresh = tx(a, 2, MIN);
    const [r0, r1, r2] = await pool.addMany([replayed, tx(a, 0, MIN), fresh]);
    expect(r0).toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    expect(r1).toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    expect(r2).toMatchObject({ status: 'added' });
    expect(pool.signatureCache.size).toBe(1); // only the admitted one was verified
    expect(pool.size).toBe(1);
  });

  it('rejects a used nonce, and counts earlier pending spending against the balance', async () => {
    const a = kp();
    const { pool, accounts } = setup({ [a.address]: 1000n });
    accounts.set(a.address, { balance: 1000n, nonce: 3 });
    await expect(pool.add(tx(a, 2, MIN))).rejects.toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    await pool.add(tx(a, 3, MIN, 500n));
    await expect(pool.add(tx(a, 4, MIN, 401n))).rejects.toMatchObject({ code: 'CHAIN_INSUFFICIENT_FUNDS' });
    await pool.add(tx(a, 4, MIN, 300n));
  });

  it('replaces by fee only with the minimum bump', async () => {
    const a = kp();
    const { pool } = setup({ [a.address]: 100_000n });
    const first = tx(a, 0, 1000n);
    await pool.add(first);
    await expect(pool.add(tx(a, 0, 1099n, 2n))).rejects.toMatchObject({ code: 'MEMPOOL_REPLACEMENT_UNDERPRICED' });
    const better = tx(a, 0, 1100n, 2n);
    expect((await pool.add(better)).status).toBe('replaced');
    expect(pool.get(first.id)).toBeUndefined();
    expect(pool.get(better.id)).toBe(better);
    expect(pool.size).toBe(1);
  });

  it('txs() lists the held transactions oldest admission first, a replacement as a new admission', async () => {
    const a = kp();
    const b = kp();
    const { pool, accounts } = setup({ [a.address]: 100_000n, [b.address]: 100_000n });
    const a0 = tx(a, 0, 1000n);
    const b0 = tx(b, 0, 1000n);
    const a1 = tx(a, 1, 1000n);
    await pool.addMany([a0, b0, a1]);
    expect([...pool.txs()]).toEqual([a0, b0, a1]);
    const b0x = tx(b, 0, 2000n);
    await pool.add(b0x);
    expect([...pool.txs()]).toEqual([a0, a1, b0x]);
    accounts.set(a.address, { balance: 100_000n, nonce: 1 });
    await pool.revalidate();
    expect([...pool.txs()]).toEqual([a1, b0x]);
  });

  it('evicts the lowest fee when full, and refuses what pays less', async () => {
    const [a, b, c, d] = [kp(), kp(), kp(), kp()];
    const { pool } = setup(
      { [a.address]: 10_000n, [b.address]: 10_000n, [c.address]: 10_000n, [d.address]: 10_000n },
      { maxTxs: 3 },
    );
    const low = tx(a, 0, 150n);
    await pool.add(low);
    await pool.add(tx(b, 0, 300n));
    await pool.add(tx(c, 0, 400n));
    await expect(pool.add(tx(d, 0, 120n))).rejects.toMatchObject({ code: 'MEMPOOL_FULL' });
    await pool.add(tx(d, 0, 500n));
    expect(pool.size).toBe(3);
    expect(pool.get(low.id)).toBeUndefined();
  });

  it('selection matches the plain scan (highest next fee, the older transaction on ties) for many senders and limits', async () => {
    const senders = Array.from({ length: 12 }, kp);
    const { pool } = setup(Object.fromEntries(senders.map((s) => [s.address, 10n ** 9n])));
    const fees = [MIN, MIN + 1n, MIN + 5n, MIN + 5n, MIN + 9n];
    const make = (i: number, n: number) =>
      tx(senders[i]!, n, fees[(i * 7 + n * 3) % fees.length]!, BigInt(1 + ((i + n) % 3) * 1000));
    // Admitted nonce by nonce across senders, the senders in a shuffled order each round.
    const arrival = new Map<string, number>();
    for (let n = 0; n < 6; n++)
      for (let k = 0; k < senders.length; k++) {
        const i = (k * 5 + n * 7) % senders.length;
        const t = make(i, n);
        arrival.set(bytesToHex(t.id), arrival.size);
        await pool.add(t);
      }
    // The reference: scan every sender's next transaction for each slot.
    const reference = (maxTxs: number, maxBytes: number): SignedTx[] => {
      const runs = senders.map((_, i) => Array.from({ length: 6 }, (_, n) => pool.get(make(i, n).id)!));
      const heads = runs.map(() => 0);
      const out: SignedTx[] = [];
      let bytes = 0;
      const older = (a: SignedTx, b: SignedTx) => arrival.get(bytesToHex(a.id))! < arrival.get(bytesToHex(b.id))!;
      while (out.length < maxTxs) {
        let best = -1;
        for (let i = 0; i < runs.length; i++) {
          const t = runs[i]![heads[i]!];
          if (t === undefined) continue;
          const b = best < 0 ? undefined : runs[best]![heads[best]!]!;
          if (b === undefined || t.body.fee > b.body.fee || (t.body.fee === b.body.fee && older(t, b))) best = i;
        }
        if (best < 0) break;
        const t = runs[best]![heads[best]!]!;
        if (bytes + t.size > maxBytes) {
          runs[best] = [];
          continue;
        }
        out.push(t);
        bytes += t.size;
        heads[best]! += 1;
      }
      return out;
    };
    const size = pool.get(make(0, 0).id)!.size;
    for (const [maxTxs, maxBytes] of [
      [100, 1e9],
      [72, 1e9],
      [17, 1e9],
      [1, 1e9],
      [100, size * 20 + 3],
      [30, size * 5],
      [100, size - 1],
    ] as const)
      expect((await pool.select(maxTxs, maxBytes)).map((t) => t.id)).toEqual(
        reference(maxTxs, maxBytes).map((t) => t.id),
      );
  });

  it('equal fees: a backlog is taken oldest first, so no sender waits behind another sender’s whole run', async () => {
    const [a, b] = [kp(), kp()];
    const { pool } = setup({ [a.address]: 10_000n, [b.address]: 10_000n });
    const a0 = tx(a, 0, MIN);
    const b0 = tx(b, 0, MIN);
    const a1 = tx(a, 1, MIN);
    const b1 = tx(b, 1, MIN);
    for (const t of [a0, b0, a1, b1]) await pool.add(t);
    expect((await pool.select(3, 1e9)).map((t) => t.id)).toEqual([a0.id, b0.id, a1.id]);
    expect((await pool.select(4, 1e9)).map((t) => t.id)).toEqual([a0.id, b0.id, a1.id, b1.id]);
  });

  it('selects executable runs in nonce order, highest fee first across senders, within limits', async () => {
    const [a, b] = [kp(), kp()];
    const { pool, accounts } = setup({ [a.address]: 10_000n, [b.address]: 10_000n });
    const a0 = tx(a, 0, 110n);
    const a1 = tx(a, 1, 900n);
    const a3 = tx(a, 3, 999n); // gap at nonce 2: not executable yet
    const b0 = tx(b, 0, 500n);
    for (const t of [a3, a1, a0, b0]) await pool.add(t);
    expect((await pool.select(10, 1e9)).map((t) => t.id)).toEqual([b0.id, a0.id, a1.id]);
    expect((await pool.select(2, 1e9)).map((t) => t.id)).toEqual([b0.id, a0.id]);
    expect(await pool.select(10, b0.size + a0.size - 1)).toEqual([b0]);
    // after a block that included b0 and a0
    accounts.set(a.address, { balance: 9_000n, nonce: 1 });
    accounts.set(b.address, { balance: 9_000n, nonce: 1 });
    await pool.revalidate();
    expect(pool.size).toBe(2);
    expect((await pool.select(10, 1e9)).map((t) => t.id)).toEqual([a1.id]);
    // a sender who can no longer pay loses the transactions it cannot cover
    accounts.set(a.address, { balance: 500n, nonce: 1 });
    await pool.revalidate();
    expect(pool.get(a1.id)).toBeUndefined();
  });

  it('revalidation keeps the nonce-ordered run a lowered balance still covers and drops the rest', async () => {
    const a = kp();
    const { pool, accounts } = setup({ [a.address]: 10_000n });
    const run = [tx(a, 0, 100n, 100n), tx(a, 1, 100n, 100n), tx(a, 2, 100n, 100n), tx(a, 3, 100n, 100n)];
    for (const t of [...run].reverse()) await pool.add(t); // held out of order: the checks sort by nonce
    expect(pool.size).toBe(4);
    // a block included nonce 0, and a spend elsewhere left 500: nonces 1 and 2 (400) fit, 3 does not
    accounts.set(a.address, { balance: 500n, nonce: 1 });
    await pool.revalidate();
    expect((await pool.select(10, 1e9)).map((t) => t.body.nonce)).toEqual([1, 2]);
    // what the dropped nonce 3 spent no longer counts: a new nonce 3 costing the last 100 fits
    expect((await pool.add(tx(a, 3, 100n, 0n))).status).toBe('added');
    // a balance that covers everything keeps everything
    accounts.set(a.address, { balance: 10_000n, nonce: 1 });
    await pool.revalidate();
    expect(pool.size).toBe(3);
    // every nonce used on chain: nothing left
    accounts.set(a.address, { balance: 10_000n, nonce: 4 });
    await pool.revalidate();
    expect(pool.size).toBe(0);
    expect(await pool.select(10, 1e9)).toEqual([]);
  });

  it('addMany admits a batch in order with one result per transaction, verifying signatures together', async () => {
    const [a, b] = [kp(), kp()];
    const { pool } = setup({ [a.address]: 10_000n, [b.address]: 10_000n });
    const known = tx(b, 0, MIN);
    await pool.add(known);
    const a0 = tx(a, 0, MIN);
    const a1 = tx(a, 1, MIN);
    const forged = { ...tx(a, 2, MIN), signature: new Uint8Array(64) };
    const results = await pool.addMany([
      a1, // nonce 1 before 0: admission checks nonces against the account, so it waits in the pool
      a0,
      a0, // a duplicate inside the batch
      known,
      forged,
      tx(a, 3, MIN, 1n, 'aitbc-other'),
      tx(a, 4, MIN - 1n),
      tx(a, 64, MIN),
    ]);
    expect(results.map((r) => ('code' in r ? r.code : r.status))).toEqual([
      'added',
      'added',
      'known',
      'known',
      'CHAIN_BAD_SIGNATURE',
      'CHAIN_WRONG_CHAIN',
      'CHAIN_FEE_TOO_LOW',
      'CHAIN_BAD_NONCE',
    ]);
    expect(pool.size).toBe(3);
    expect(pool.signatureCache.has(a0.id, a0.signature)).toBe(true);
    expect(pool.signatureCache.has(forged.id, forged.signature)).toBe(false);
    expect(await pool.addMany([])).toEqual([]);
  });

  it('addManyJson reports transactions that do not decode, and both batch calls refuse oversized batches', async () => {
    const a = kp();
    const { pool } = setup({ [a.address]: 10_000n });
    const good = txToJson(tx(a, 0, MIN));
    const results = await pool.addManyJson([{ ...good, amount: '-1' }, JSON.parse(JSON.stringify(good)), 'nope']);
    expect(results.map((r) => ('code' in r ? r.code : r.status))).toEqual([
      'CHAIN_TX_MALFORMED',
      'added',
      'CHAIN_TX_MALFORMED',
    ]);
    const tooMany = Array.from({ length: MAX_ADD_BATCH + 1 }, () => good);
    await expect(pool.addManyJson(tooMany)).rejects.toMatchObject({ code: 'MEMPOOL_BATCH_TOO_LARGE' });
    await expect(pool.addMany(tooMany as never)).rejects.toMatchObject({ code: 'MEMPOOL_BATCH_TOO_LARGE' });
    await expect(pool.addMany('x' as never)).rejects.toMatchObject({ code: 'MEMPOOL_BAD_INPUT' });
    expect(pool.size).toBe(1);
  });

  it('checks funds against the earlier nonces only, through gaps, replacements, eviction and revalidation', async () => {
    const [a, b] = [kp(), kp()];
    const { pool, accounts } = setup({ [a.address]: 1000n, [b.address]: 10_000n }, { maxTxs: 3 });
    const code = async (t: SignedTx) =>
      pool.add(t).then(
        (r) => r.status,
        (e: { code: string }) => e.code,
      );
    expect(await code(tx(a, 0, 100n, 300n))).toBe('added'); // spends 400
    expect(await code(tx(a, 2, 100n, 400n))).toBe('added'); // 500 + 400 before it
    expect(await code(tx(a, 1, 100n, 100n))).toBe('added'); // a gap filled: 200 + 400 (nonce 2 comes after)
    expect(pool.size).toBe(3);
    // nonce 3 would follow 1,100 of pending spending
    accounts.set(b.address, { balance: 10_000n, nonce: 0 });
    const a2 = tx(a, 2, 110n, 0n);
    expect(await code(a2)).toBe('replaced'); // 110 + 600 before it; the pool now spends 710 for a
    const pending = () => pool.select(100, 1e9);
    expect((await pending()).map((t) => t.body.nonce)).toEqual([0, 1, 2]);
    // revalidation after a block that included nonces 0 and 1: 110 is left pending
    accounts.set(a.address, { balance: 400n, nonce: 2 });
    await pool.revalidate();
    expect(pool.size).toBe(1);
    expect(await code(tx(a, 3, 100n, 191n))).toBe('CHAIN_INSUFFICIENT_FUNDS'); // 291 + 110 > 400
    expect(await code(tx(a, 3, 100n, 190n))).toBe('added'); // 290 + 110 = 400
    expect(await code(tx(a, 4, 100n, 0n))).toBe('CHAIN_INSUFFICIENT_FUNDS');
    // eviction: the pool is full (3), b's fees are higher, so a's highest nonce goes
    expect(await code(tx(b, 0, 200n))).toBe('added');
    expect(await code(tx(b, 1, 200n))).toBe('added');
    expect(pool.size).toBe(3);
    expect((await pending()).filter((t) => t.body.from === a.address).map((t) => t.body.nonce)).toEqual([2]);
    // what the evicted nonce 3 spent is no longer counted: a new nonce 3 may spend the rest
    accounts.set(b.address, { balance: 10_000n, nonce: 2 });
    await pool.revalidate();
    expect(pool.size).toBe(1);
    expect(await code(tx(a, 3, 100n, 191n))).toBe('CHAIN_INSUFFICIENT_FUNDS');
    expect(await code(tx(a, 3, 100n, 190n))).toBe('added');
    expect(await code(tx(a, 4, 100n, 0n))).toBe('CHAIN_INSUFFICIENT_FUNDS');
  });

  it('refuses forgeries from a sender whose key and earlier transactions are cached', async () => {
    const a = kp();
    const { pool } = setup({ [a.address]: 10_000n });
    const t0 = txToJson(tx(a, 0, MIN));
    expect((await pool.addJson(JSON.parse(JSON.stringify(t0)))).status).toBe('added');
    const t1 = txToJson(tx(a, 1, MIN));
    // another transaction's signature, a changed body, a flipped signature bit
    await expect(pool.addJson({ ...t1, signature: t0.signature })).rejects.toMatchObject({
      code: 'CHAIN_BAD_SIGNATURE',
    });
    await expect(pool.addJson({ ...t1, amount: '2' })).rejects.toMatchObject({ code: 'CHAIN_BAD_SIGNATURE' });
    const sig = String(t1.signature);
    const flipped = `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`;
    await expect(pool.addJson({ ...t1, signature: flipped })).rejects.toMatchObject({ code: 'CHAIN_BAD_SIGNATURE' });
    expect(pool.size).toBe(1);
    expect((await pool.addJson(JSON.parse(JSON.stringify(t1)))).status).toBe('added');
  });
});
