/** Receipts: verify with one miner signature + one attestation (target ≥ 3k/s), canonicalize, parse, sign. */
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { type BenchResult, emit, measure, measureAsync } from '../../../bench/harness.ts';
import {
  attestReceipt,
  canonicalizeReceipt,
  createReceipt,
  parseReceiptJson,
  serializeReceipt,
  signReceipt,
  verifyReceipt,
  verifyReceiptAsync,
} from '../src/index.js';

const miner = generateKeyPair();
const coordinator = generateKeyPair();
const receipt = attestReceipt(
  signReceipt(
    createReceipt({
      jobId: 'job_0123456789abcdef0123456789abcdef',
      provider: addressFromPublicKey(miner.publicKey),
      client: addressFromPublicKey(generateKeyPair().publicKey),
      units: 1200n,
      unitType: 'gpu_ms',
      unitPrice: 10n ** 14n,
      startedAt: Date.now() - 1200,
      completedAt: Date.now(),
      chainId: 'aitbc-devnet',
      model: 'llama3:8b',
      metadata: { prompt_tokens: 412, completion_tokens: 128, runner: 'ollama', note: 'naïve café' },
    }),
    miner.seed,
  ),
  coordinator.seed,
);
const keys = { minerKeys: [miner.publicKey], coordinatorKeys: [coordinator.publicKey] };
const wire = serializeReceipt(receipt);

const verifyRate = measure(() => verifyReceipt(receipt, keys));
const batch = Array.from({ length: 200 }, () => receipt);
const asyncRate = await measureAsync(() => Promise.all(batch.map((r) => verifyReceiptAsync(r, keys))), {
  opsPerCall: batch.length,
});
const rows: BenchResult[] = [
  {
    group: 'receipts',
    name: 'verifyReceipt (1 signature + 1 attestation), one thread',
    opsPerSec: verifyRate,
    note: 'target ≥ 3k/s',
  },
  {
    group: 'receipts',
    name: 'verifyReceiptAsync, 200 concurrent (thread pool)',
    opsPerSec: asyncRate,
    note: `target ≥ 3k/s; ${(asyncRate / verifyRate).toFixed(2)}× one thread`,
  },
  {
    group: 'receipts',
    name: 'parseReceiptJson + verifyReceipt',
    opsPerSec: measure(() => verifyReceipt(parseReceiptJson(wire), keys)),
  },
  { group: 'receipts', name: 'canonicalizeReceipt', opsPerSec: measure(() => canonicalizeReceipt(receipt)) },
  { group: 'receipts', name: 'parseReceiptJson', opsPerSec: measure(() => parseReceiptJson(wire)) },
  {
    group: 'receipts',
    name: 'signReceipt',
    opsPerSec: measure(() => signReceipt(receipt, miner.seed, miner.publicKey)),
  },
];
emit(rows);
