import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Account,
  createMempool,
  DEFAULT_PARAMS,
  type SignedTx,
  signTx,
  txIdHex,
  txToJson,
} from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, isAitbcError } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalTxJournal } from '../src/localTxJournal.js';
import { TxJournal } from '../src/txJournal.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-journal-'));
  dirs.push(dir);
  return join(dir, 'data', 'tx-journal.ndjson');
};

const CHAIN = 'journal-test';
const sender = generateKeyPair();
const from = addressFromPublicKey(sender.publicKey);
const to = addressFromPublicKey(generateKeyPair().publicKey);
const transfer = (nonce: number, amount = 1n): SignedTx =>
  signTx({ type: 'transfer', chainId: CHAIN, from, nonce, fee: DEFAULT_PARAMS.minFee, to, amount }, sender.seed);

/** A mempool over an account table the test moves forward (as blocks would). */
function pool() {
  const accounts = new Map<string, Account>([[from, { balance: 10n ** 30n, nonce: 0 }]]);
  const mempool = createMempool({
    chainId: CHAIN,
    minFee: DEFAULT_PARAMS.minFee,
    account: async (a) => accounts.get(a) ?? { balance: 0n, nonce: 0 },
  });
  /** "Includes" nonces below `nonce`: the account moves on, the mempool drops them. */
  const include = async (nonce: number) => {
    accounts.set(from, { balance: 10n ** 30n, nonce });
    await mempool.revalidate();
  };
  return { mempool, include };
}

describe('TxJournal (file)', () => {
  it('reads back what was appended, in order, across reopen', async () => {
    const path = tempFile();
    const a = new TxJournal({ path });
    expect(await a.open()).toEqual({ records: [], skipped: 0 });
    await Promise.all([a.append([{ n: 1 }]), a.append([{ n: 2 }, { n: 3 }])]); // one group commit
    await a.append([{ n: 4 }]);
    await a.close();
    const b = new TxJournal({ path });
    const { records, skipped } = await b.open();
    expect(records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(skipped).toBe(0);
    expect(b.records).toBe(4);
    await b.close();
  });

  it('skips a torn last record (a crash mid-write), truncates it away and appends cleanly after it', async () => {
    const path = tempFile();
    const a = new TxJournal({ path });
    await a.open();
    await a.append([{ n: 1 }, { n: 2 }]);
    await a.close();
    const whole = readFileSync(path);
    appendFileSync(path, '0badc0de {"n":3,"pad'); // the next record, cut off by the crash
    const b = new TxJournal({ path });
    expect(await b.open()).toEqual({ records: [{ n: 1 }, { n: 2 }], skipped: 1 });
    expect(statSync(path).size).toBe(whole.length);
    await b.append([{ n: 4 }]);
    await b.close();
    const c = new TxJournal({ path });
    expect((await c.open()).records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
    await c.close();
  });

  it('skips a corrupt record in the middle and keeps the records around it', async () => {
    const path = tempFile();
    const a = new TxJournal({ path });
    await a.open();
    await a.append([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await a.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"n":2', '"n":7'); // a flipped byte: the checksum no longer matches
    writeFileSync(path, lines.join('\n'));
    const b = new TxJournal({ path });
    expect(await b.open()).toEqual({ records: [{ n: 1 }, { n: 3 }], skipped: 1 });
    await b.close();
  });

  it('refuses an append past maxBytes with NODE_JOURNAL_FULL and writes nothing of it', async () => {
    const path = tempFile();
    const a = new TxJournal({ path, maxBytes: 200 });
    await a.open();
    await a.append([{ pad: 'x'.repeat(100) }]);
    const err = await a.append([{ pad: 'y'.repeat(100) }]).catch((e: unknown) => e);
    expect(isAitbcError(err) && err.code).toBe('NODE_JOURNAL_FULL');
    await a.close();
    const b = new TxJournal({ path });
    expect((await b.open()).records).toHaveLength(1);
    await b.close();
  });

  it('rewrites atomically; appends queued before a rewrite are not lost by it', async () => {
    const path = tempFile();
    const a = new TxJournal({ path });
    await a.open();
    await a.append([{ n: 1 }]);
    const queued = a.append([{ n: 2 }]);
    const rewritten = a.rewrite(() => [{ n: 9 }]); // computed when it runs: after { n: 2 } is written
    const after = a.append([{ n: 3 }]);
    await Promise.all([queued, rewritten, after]);
    await a.close();
    const b = new TxJournal({ path });
    expect((await b.open()).records).toEqual([{ n: 9 }, { n: 3 }]);
    await b.close();
  });

  it('fails with NODE_JOURNAL_IO when the directory cannot be created, and NODE_JOURNAL_CLOSED when closed', async () => {
    const blocker = tempFile();
    writeFileSync(join(blocker, '..', '..', 'file'), 'not a directory');
    const bad = new TxJournal({ path: join(blocker, '..', '..', 'file', 'journal') });
    const err = await bad.open().catch((e: unknown) => e);
    expect(isAitbcError(err) && err.code).toBe('NODE_JOURNAL_IO');
    const closed = new TxJournal({ path: tempFile() });
    const e2 = await closed.append([{ n: 1 }]).catch((e: unknown) => e);
    expect(isAitbcError(e2) && e2.code).toBe('NODE_JOURNAL_CLOSED');
  });
});

describe('createLocalTxJournal', () => {
  it('replays journaled transactions into a fresh mempool after a restart', async () => {
    const path = tempFile();
    const first = pool();
    const a = createLocalTxJournal({ path, mempool: first.mempool });
    await a.start();
    const txs = [0, 1, 2].map((n) => transfer(n));
    await first.mempool.addMany(txs);
    await a.persist(txs.map((tx) => ({ tx })));
    await a.persist([{ tx: txs[0]! }]); // again (a client retry): not journaled twice
    expect(a.records).toBe(3);
    // no stop(): the process died
    const second = pool();
    const b = createLocalTxJournal({ path, mempool: second.mempool });
    expect(await b.start()).toEqual({ replayed: 3, dropped: 0, skipped: 0 });
    expect([...second.mempool.txs()].map(txIdHex)).toEqual(txs.map(txIdHex));
    await b.stop();
  });

  it('drops at replay what blocks included meanwhile, and keeps a torn tail from losing the rest', async () => {
    const path = tempFile();
    const first = pool();
    const a = createLocalTxJournal({ path, mempool: first.mempool });
    await a.start();
    const txs = [0, 1, 2, 3].map((n) => transfer(n));
    await first.mempool.addMany(txs);
    await a.persist(txs.map((tx) => ({ tx })));
    await a.stop();
    appendFileSync(path, '12345678 {"type":"tra');
    const second = pool();
    await second.include(2); // nonces 0 and 1 are in blocks now
    const b = createLocalTxJournal({ path, mempool: second.mempool });
    expect(await b.start()).toEqual({ replayed: 2, dropped: 2, skipped: 1 });
    expect([...second.mempool.txs()].map((t) => t.body.nonce)).toEqual([2, 3]);
    expect(b.records).toBe(2); // rewritten at start to what is still pending
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
    await b.stop();
  });

  it('compacts once included transactions dominate, keeping the pending ones', async () => {
    const path = tempFile();
    const { mempool, include } = pool();
    const j = createLocalTxJournal({ path, mempool, minCompactRecords: 4 });
    await j.start();
    const txs = [0, 1, 2, 3, 4, 5].map((n) => transfer(n));
    await mempool.addMany(txs);
    await j.persist(txs.map((tx) => ({ tx })));
    await include(2);
    await j.compact(); // 2 of 6 included: not yet
    expect(j.records).toBe(6);
    await include(5);
    await j.compact(); // 5 of 6 included
    expect(j.records).toBe(1);
    expect([...j.ids()]).toEqual([txIdHex(txs[5]!)]);
    await j.stop();
    const again = pool();
    await again.include(5);
    const k = createLocalTxJournal({ path, mempool: again.mempool });
    expect(await k.start()).toEqual({ replayed: 1, dropped: 0, skipped: 0 });
    await k.stop();
  });

  it('compacts to make room when the journal is full, then appends', async () => {
    const path = tempFile();
    const { mempool, include } = pool();
    const size = Buffer.byteLength(JSON.stringify(txToJson(transfer(0)) as JsonObject)) + 10;
    const j = createLocalTxJournal({ path, mempool, maxBytes: 3 * size });
    await j.start();
    const txs = [0, 1, 2, 3].map((n) => transfer(n));
    await mempool.addMany(txs);
    await j.persist(txs.slice(0, 3).map((tx) => ({ tx })));
    await include(2);
    await j.persist([{ tx: txs[3]! }]); // full: the two included ones are compacted away first
    expect([...j.ids()]).toEqual([txs[2]!, txs[3]!].map(txIdHex));
    await include(3);
    const err = await j.persist([{ tx: transfer(9) }]).catch(() => undefined); // fits after compaction
    expect(err).toBeUndefined();
    await j.stop();
  });
});
