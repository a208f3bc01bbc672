/**
 * Ledger throughput. Targets (issue 3): mempool admission (decode + verify + insert) ≥ 8,000 tx/s on
 * one core — reported with the raw node:crypto Ed25519 verify rate measured in the same run, the
 * ceiling of one-core admission on this machine — and batch admission (`addManyJson`, signatures on
 * the thread pool); execution of 1,000-transfer blocks with pre-verified signatures, state-root update
 * included, with 100,000 accounts in state: ≥ 20,000 tx/s in memory, ≥ 8,000 tx/s with LevelKVStore.
 *
 * `AITBC_BENCH_CASES=admission` (or `execution`) runs only that group; default both.
 */
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, generateKeyPair, sha256, utf8ToBytes } from '@aitbc/crypto';
import { LevelKVStore } from '@aitbc/storage-level';
import { type BenchResult, emit, measure } from '../../../bench/harness.ts';
import {
  type Account,
  createMempool,
  DEFAULT_PARAMS,
  executeTx,
  type KVStore,
  LedgerState,
  MemoryKVStore,
  SparseMerkleTree,
  signTx,
  txToJson,
} from '../src/index.js';

const CHAIN = 'aitbc-bench';
const rows: BenchResult[] = [];
const cases = (process.env.AITBC_BENCH_CASES ?? 'admission,execution').split(',');
const senders = Array.from({ length: 200 }, () => generateKeyPair());
const addresses = senders.map((s) => addressFromPublicKey(s.publicKey));
const recipients = Array.from({ length: 100_000 }, (_, i) => addressFromPublicKey(sha256(utf8ToBytes(`r${i}`))));

// Mempool admission: decode the wire JSON, verify the signature, insert.
if (cases.includes('admission')) {
  // Six sets (one per round of each case, different amounts so different signatures): each round decodes wire
  // text it never saw (txFromJson returns an already decoded transaction for a wire form seen before).
  const wireOf = (round: number) =>
    senders.flatMap((s, i) =>
      Array.from({ length: 20 }, (_, n) =>
        txToJson(
          signTx(
            {
              type: 'transfer',
              chainId: CHAIN,
              from: addresses[i]!,
              nonce: n,
              fee: DEFAULT_PARAMS.minFee,
              to: recipients[n]!,
              amount: BigInt(round + 1),
            },
            s.seed,
          ),
        ),
      ),
    );
  const rounds = [0, 1, 2, 3, 4, 5].map((round) => wireOf(round).map((w) => JSON.stringify(w)));
  const accounts = new Map<string, Account>(addresses.map((a) => [a, { balance: 10n ** 30n, nonce: 0 }]));
  const newPool = () =>
    createMempool({
      chainId: CHAIN,
      minFee: DEFAULT_PARAMS.minFee,
      account: async (a) => accounts.get(a)!,
      maxPerSender: 64,
    });
  const texts = rounds[0]!;
  // The ceiling: raw node:crypto verify of messages of the same size, cached key object, one core.
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msgs = texts.map((t) => Buffer.from(t));
  const sigs = msgs.map((m) => nodeSign(null, m, privateKey));
  let r = 0;
  const raw = measure(() => {
    const j = r++ % msgs.length;
    nodeVerify(null, msgs[j]!, publicKey, sigs[j]!);
  });
  rows.push({ group: 'chain-core', name: 'reference: raw node:crypto Ed25519 verify, one core', opsPerSec: raw });
  const admit = async (batch: boolean): Promise<number> => {
    const rates: number[] = [];
    for (let round = 0; round < 3; round++) {
      const texts = rounds[round + (batch ? 3 : 0)]!;
      const pool = newPool(); // a fresh pool (and signature cache) each round: every signature is verified
      const t = performance.now();
      if (batch) {
        for (let i = 0; i < texts.length; i += 1000)
          await pool.addManyJson(texts.slice(i, i + 1000).map((x) => JSON.parse(x)));
      } else {
        for (const x of texts) await pool.addJson(JSON.parse(x));
      }
      rates.push(texts.length / ((performance.now() - t) / 1000));
      if (pool.size !== texts.length) throw new Error('not every transaction was admitted');
    }
    return rates.sort((a, b) => a - b)[1]!;
  };
  const one = await admit(false);
  rows.push({
    group: 'chain-core',
    name: 'mempool admission (JSON decode + verify + insert), one core',
    opsPerSec: one,
    note: `target ≥ 8,000 tx/s; ${((100 * one) / raw).toFixed(0)}% of raw verify`,
  });
  const many = await admit(true);
  rows.push({
    group: 'chain-core',
    name: 'mempool addManyJson, 1,000 per batch (verify on the thread pool)',
    opsPerSec: many,
    note: `${((100 * many) / raw).toFixed(0)}% of one-core raw verify`,
  });
}

// Block execution with 100k accounts in state.
async function execution(store: KVStore, label: string, target: string): Promise<void> {
  const tree = new SparseMerkleTree(store);
  const state = new LedgerState(tree);
  for (let i = 0; i < recipients.length; i++) state.setAccount(recipients[i]!, { balance: BigInt(i), nonce: 0 });
  for (const a of addresses) state.setAccount(a, { balance: 10n ** 30n, nonce: 0 });
  await state.flush();
  await store.batch(tree.commitOps(), { sync: true });
  const nonces = addresses.map(() => 0);
  const block = () =>
    Array.from({ length: 1000 }, (_, k) => {
      const s = k % senders.length;
      return signTx(
        {
          type: 'transfer',
          chainId: CHAIN,
          from: addresses[s]!,
          nonce: nonces[s]!++,
          fee: DEFAULT_PARAMS.minFee,
          to: recipients[(k * 97 + nonces[s]!) % recipients.length]!,
          amount: 1n,
        },
        senders[s]!.seed,
      );
    });
  const blocks = Array.from({ length: 6 }, block); // signed up front: signatures are pre-verified
  const ctx = { chainId: CHAIN, height: 1, params: DEFAULT_PARAMS };
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (const txs of blocks) {
    const t = performance.now();
    const c = process.cpuUsage();
    const s = new LedgerState(tree);
    for (const tx of txs) await executeTx(s, tx, ctx);
    await s.flush();
    await store.batch(tree.commitOps(), { sync: true });
    times.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  // CPU time of the process (GC threads and the store's included): what a block costs when the
  // shared machine hands out only part of a core.
  const cpu = cpuTimes[Math.floor(cpuTimes.length / 2)]!;
  rows.push({
    group: 'chain-core',
    name: `execute 1,000-transfer blocks, 100k accounts, ${label}`,
    opsPerSec: 1000 / (median / 1000),
    note: `${median.toFixed(0)} ms per block (${cpu.toFixed(0)} ms CPU); ${target}`,
  });
}

if (cases.includes('execution')) {
  await execution(new MemoryKVStore(), 'in memory', 'target ≥ 20,000 tx/s');
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-ledger-bench-'));
  const level = await LevelKVStore.open({ path: dir });
  await execution(level, 'LevelKVStore', 'target ≥ 8,000 tx/s');
  await level.close();
  rmSync(dir, { recursive: true, force: true });
}
emit(rows);
