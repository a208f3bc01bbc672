import { MemoryKVStore } from '@aitbc/chain-core';
import { AitbcError, addressFromPublicKey, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { createPoolHub, type MinerRegistration, type PoolHub } from '@aitbc/pool';
import { JobEngine, type JobEngineOptions, type ReceiptHandler } from '../src/index.js';

/** A controllable clock. */
export function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** A miner identity plus its pool registration. */
export function minerIdentity(
  id: string,
  overrides: Partial<MinerRegistration> = {},
): { keys: KeyPair; registration: MinerRegistration } {
  const keys = generateKeyPair();
  return {
    keys,
    registration: {
      id,
      address: addressFromPublicKey(keys.publicKey),
      publicKey: keys.publicKey,
      pricePerUnit: 10n,
      maxConcurrency: 2,
      capabilities: { gpus: [], cpuCores: 8, ramGb: 16, models: [], jobKinds: ['hash', 'wasm'], region: 'local' },
      ...overrides,
    },
  };
}

/**
 * A receipt handler for engine tests that checks what the engine must pass it (job, miner) and
 * accepts a receipt of the form `{ job_id, provider }`; the real one lives in receiptHandler.ts.
 */
export const structuralReceipts: ReceiptHandler = {
  verifyAndAttest(job, miner, receipt) {
    const r = receipt as { job_id?: unknown; provider?: unknown };
    if (r?.job_id !== job.id || r.provider !== miner.address) {
      throw new AitbcError('COORD_RECEIPT_INVALID', 'receipt does not match the job');
    }
    return { receiptId: `rcpt_${job.id}`, attestedJson: JSON.stringify({ ...r, attested: true }) };
  },
};

export interface EngineRig {
  engine: JobEngine;
  hub: PoolHub;
  store: MemoryKVStore;
  clock: ReturnType<typeof manualClock>;
  client: string;
}

export async function startEngine(
  options: Partial<JobEngineOptions> = {},
  store = new MemoryKVStore(),
  hub?: PoolHub,
): Promise<EngineRig> {
  const clock = manualClock();
  const theHub = hub ?? createPoolHub({ now: clock.now, heartbeatTimeoutMs: 60_000 });
  const engine = new JobEngine({
    store,
    hub: theHub,
    receipts: structuralReceipts,
    now: clock.now,
    sweepIntervalMs: 3_600_000,
    ...options,
  });
  await engine.start();
  return { engine, hub: theHub, store, clock, client: addressFromPublicKey(generateKeyPair().publicKey) };
}
