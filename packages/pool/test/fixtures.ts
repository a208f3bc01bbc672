import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import type { MinerCapabilities, MinerRegistration } from '../src/index.js';

/** A registration with a fresh key; override any field. */
export function registration(
  id: string,
  overrides: Partial<Omit<MinerRegistration, 'capabilities'>> & { capabilities?: Partial<MinerCapabilities> } = {},
): MinerRegistration {
  const { publicKey } = generateKeyPair();
  const { capabilities, ...rest } = overrides;
  return {
    id,
    address: addressFromPublicKey(overrides.publicKey ?? publicKey),
    publicKey,
    pricePerUnit: 100n,
    maxConcurrency: 4,
    ...rest,
    capabilities: {
      gpus: [{ model: 'RTX 4090', vramGb: 24 }],
      cpuCores: 16,
      ramGb: 64,
      models: ['llama3:8b'],
      jobKinds: ['wasm', 'hash'],
      region: 'eu-west',
      ...capabilities,
    },
  };
}

/** A controllable clock. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}
