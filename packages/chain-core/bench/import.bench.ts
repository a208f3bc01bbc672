/**
 * What a validator spends per 1,000-transfer block, CPU time of the process, LevelKVStore, 20,200
 * accounts, signatures already verified (the node's signature cache, as after admission or gossip):
 * the proposer builds then imports its block; the others validate the proposal then import it, and
 * a node that never saw it (block sync) imports it cold. Importing a block this chain built or
 * validated reuses its staged execution, so "import after validate" against "import cold" is the
 * execution saved. Medians of 12 blocks after a warm-up one, the order of
 * the validate-then-import and cold-import samples alternating.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, generateKeyPair, sha256, utf8ToBytes } from '@aitbc/crypto';
import { LevelKVStore } from '@aitbc/storage-level';
import { type BenchResult, emit } from '../../../bench/harness.ts';
import {
  blockFromJson,
  blockHash,
  blockToJson,
  type Consensus,
  createChain,
  DEFAULT_PARAMS,
  type Genesis,
  SignatureCache,
  signTx,
} from '../src/index.js';

const vals = [generateKeyPair()];
const senders = Array.from({ length: 200 }, () => generateKeyPair());
const recipients = Array.from({ length: 20_000 }, (_, i) => addressFromPublicKey(sha256(utf8ToBytes(`r${i}`))));
const genesis: Genesis = {
  chainId: 'aitbc-ab',
  genesisTime: 1_700_000_000_000,
  validators: vals.map((v) => ({ publicKey: v.publicKey, power: 1, name: 'v' })),
  allocations: [
    ...senders.map((s) => ({ address: addressFromPublicKey(s.publicKey), amount: 10n ** 30n })),
    ...recipients.map((r) => ({ address: r, amount: 1n })),
  ],
  params: { ...DEFAULT_PARAMS, maxBlockTxs: 5000 },
};
const consensus: Consensus = { verifyProposer() {}, verifyCommit() {} };
const dirs: string[] = [];
const sigs = new SignatureCache();
const open = async () => {
  const d = mkdtempSync(join(tmpdir(), 'aitbc-ab-'));
  dirs.push(d);
  const c = createChain({ store: await LevelKVStore.open({ path: d }), genesis, consensus, signatureCache: sigs });
  await c.open();
  return c;
};
const builder = await open();
const warm = await open();
const cold = await open();
const nonces = senders.map(() => 0);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rows: Record<string, number[]> = {
  build: [],
  validate: [],
  'import after validate': [],
  'import cold': [],
  'proposer import after build': [],
};
let lastCommit = null as null | { height: number; round: number; blockHash: Uint8Array; signatures: never[] };
for (let b = 0; b < 13; b++) {
  const txs = Array.from({ length: 1000 }, (_, k) => {
    const s = k % 200;
    return signTx(
      {
        type: 'transfer',
        chainId: genesis.chainId,
        from: addressFromPublicKey(senders[s]!.publicKey),
        nonce: nonces[s]!++,
        fee: DEFAULT_PARAMS.minFee,
        to: recipients[(b * 1000 + k * 7) % recipients.length]!,
        amount: 1n,
      },
      senders[s]!.seed,
    );
  });
  for (const tx of txs) sigs.add(tx.id, tx.signature); // verified at admission, as on a node
  let t = cpu();
  const block = await builder.buildBlock({
    round: 0,
    timestamp: builder.head.timestamp + 1000,
    proposerSeed: vals[0]!.seed,
    lastCommit,
    txs,
  });
  rows.build!.push(cpu() - t);
  const commit = {
    height: block.header.height,
    round: 0,
    blockHash: blockHash(block.header),
    signatures: [] as never[],
  };
  const wire = JSON.parse(JSON.stringify(blockToJson(block)));
  const viaValidate = async () => {
    // As a validator does: the decided proposal is imported as the object it validated.
    const proposal = blockFromJson(wire);
    t = cpu();
    await warm.validateBlock(proposal);
    rows.validate!.push(cpu() - t);
    t = cpu();
    await warm.importBlock(proposal, commit);
    rows['import after validate']!.push(cpu() - t);
  };
  const coldImport = async () => {
    t = cpu();
    await cold.importBlock(blockFromJson(wire), commit);
    rows['import cold']!.push(cpu() - t);
  };
  // Alternate the order: the stores' background threads count in whichever sample runs next.
  if (b % 2 === 0) {
    await viaValidate();
    await coldImport();
  } else {
    await coldImport();
    await viaValidate();
  }
  t = cpu();
  await builder.importBlock(block, commit);
  rows['proposer import after build']!.push(cpu() - t);
  lastCommit = commit;
}
const med = (a: number[]) => a.slice(1).sort((x, y) => x - y)[(a.length - 1) >> 1]!;
const out: BenchResult[] = Object.entries(rows).map(([name, v]) => ({
  group: 'chain-core',
  name: `1,000-transfer block, LevelKVStore: ${name}`,
  opsPerSec: 1000 / (med(v) / 1000),
  note: `${med(v).toFixed(1)} ms CPU per block (tx/s of CPU)`,
}));
for (const d of dirs) rmSync(d, { recursive: true, force: true });
emit(out);
