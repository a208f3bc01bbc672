/**
 * Ledger throughput. Targets (issue 3): mempool admission (decode + verify + insert) ≥ 8,000 tx/s on
 * one core; execution of 1,000-transfer blocks with pre-verified signatures, state-root update
 * included, with 100,000 accounts in state: ≥ 20,000 tx/s in memory, ≥ 8,000 tx/s with LevelKVStore.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, generateKeyPair, sha256, utf8ToBytes } from '@aitbc/crypto';
import { LevelKVStore } from '@aitbc/storage-level';
import { type BenchResult, emit } from '../../../bench/harness.ts';
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
const senders = Array.from({ length: 200 }, () => generateKeyPair());
const addresses = senders.map((s) => addressFromPublicKey(s.publicKey));
const recipients = Array.from({ length: 100_000 }, (_, i) => addressFromPublicKey(sha256(utf8ToBytes(`r${i}`))));

// Mempool admission: decode the wire JSON, verify the signature, insert.
{
  const wire = senders.flatMap((s, i) =>
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
            amount: 1n,
          },
          s.seed,
        ),
      ),
    ),
  );
  const accounts = new Map<string, Account>(addresses.map((a) => [a, { balance: 10n ** 30n, nonce: 0 }]));
  const pool = createMempool({
    chainId: CHAIN,
    minFee: DEFAULT_PARAMS.minFee,
    account: async (a) => accounts.get(a)!,
    maxPerSender: 64,
  });
  const t = performance.now();
  for (const w of wire) await pool.addJson(JSON.parse(JSON.stringify(w)));
  const rate = wire.length / ((performance.now() - t) / 1000);
  rows.push({
    group: 'chain-core',
    name: 'mempool admission (JSON decode + verify + insert), one core',
    opsPerSec: rate,
    note: 'target ≥ 8,000 tx/s',
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
  for (const txs of blocks) {
    const t = performance.now();
    const s = new LedgerState(tree);
    for (const tx of txs) await executeTx(s, tx, ctx);
    await s.flush();
    await store.batch(tree.commitOps(), { sync: true });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  rows.push({
    group: 'chain-core',
    name: `execute 1,000-transfer blocks, 100k accounts, ${label}`,
    opsPerSec: 1000 / (median / 1000),
    note: `${median.toFixed(0)} ms per block; ${target}`,
  });
}

await execution(new MemoryKVStore(), 'in memory', 'target ≥ 20,000 tx/s');
const dir = mkdtempSync(join(tmpdir(), 'aitbc-ledger-bench-'));
const level = await LevelKVStore.open({ path: dir });
await execution(level, 'LevelKVStore', 'target ≥ 8,000 tx/s');
await level.close();
rmSync(dir, { recursive: true, force: true });
emit(rows);
