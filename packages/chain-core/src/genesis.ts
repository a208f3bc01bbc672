import {
  AitbcError,
  addressFromPublicKey,
  bytesToHex,
  canonicalize,
  hexToBytes,
  isAddress,
  isValidPublicKey,
  sha256,
  toHex0x,
} from '@aitbc/crypto';

/**
 * Chain parameters fixed at genesis. Counters and sizes are bounded numbers.
 *
 * @example
 * ```ts
 * import { type ChainParams, DEFAULT_PARAMS } from '@aitbc/chain-core';
 * const params: ChainParams = { ...DEFAULT_PARAMS, blockTimeMs: 500, minFee: 0n };
 * ```
 */
export interface ChainParams {
  /** Target time between blocks when there is work (ms). */
  readonly blockTimeMs: number;
  /** Most transactions in one block. */
  readonly maxBlockTxs: number;
  /** Most bytes of transactions (wire size) in one block. */
  readonly maxBlockBytes: number;
  /** Smallest fee a transaction may pay (base units). */
  readonly minFee: bigint;
  /** Largest transaction (wire bytes). */
  readonly maxTxBytes: number;
  /** Longest an empty chain waits before an empty block (ms). */
  readonly emptyBlockIntervalMs: number;
}

/**
 * A genesis validator. `power` is a positive integer (< 2^53).
 *
 * @example
 * ```ts
 * import type { GenesisValidator } from '@aitbc/chain-core';
 * import { generateKeyPair } from '@aitbc/crypto';
 * const validator: GenesisValidator = { publicKey: generateKeyPair().publicKey, power: 1, name: 'v0' };
 * ```
 */
export interface GenesisValidator {
  readonly publicKey: Uint8Array;
  readonly power: number;
  readonly name: string;
}

/**
 * A genesis balance.
 *
 * @example
 * ```ts
 * import type { GenesisAllocation } from '@aitbc/chain-core';
 * const allocation: GenesisAllocation = { address: 'ait1…', amount: 1_000_000_000_000_000_000n };
 * ```
 */
export interface GenesisAllocation {
  readonly address: string;
  readonly amount: bigint;
}

/**
 * The genesis of a chain (DESIGN.md §2).
 *
 * @example
 * ```ts
 * import { DEFAULT_PARAMS, type Genesis } from '@aitbc/chain-core';
 * const genesis: Genesis = {
 *   chainId: 'aitbc-devnet',
 *   genesisTime: Date.parse('2026-01-01T00:00:00Z'),
 *   validators: [{ publicKey, power: 1, name: 'v0' }],
 *   allocations: [{ address, amount: 10n ** 21n }],
 *   params: DEFAULT_PARAMS,
 * };
 * ```
 */
export interface Genesis {
  readonly chainId: string;
  /** ms since epoch. */
  readonly genesisTime: number;
  readonly validators: readonly GenesisValidator[];
  readonly allocations: readonly GenesisAllocation[];
  readonly params: ChainParams;
}

/**
 * Defaults for parameters a genesis file leaves out.
 *
 * @example
 * ```ts
 * import { DEFAULT_PARAMS } from '@aitbc/chain-core';
 * const params = { ...DEFAULT_PARAMS, blockTimeMs: 200 }; // fast devnet blocks
 * ```
 */
export const DEFAULT_PARAMS: ChainParams = Object.freeze({
  blockTimeMs: 1000,
  maxBlockTxs: 5000,
  maxBlockBytes: 4 * 1024 * 1024,
  minFee: 1_000_000_000_000n,
  maxTxBytes: 96 * 1024,
  emptyBlockIntervalMs: 10_000,
});

const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;

function bad(field: string, expected: string): AitbcError {
  return new AitbcError('CHAIN_BAD_GENESIS', `genesis.${field} must be ${expected}`, { details: { field } });
}

function intIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw bad(field, `an integer in [${min}, ${max}]`);
  return v;
}

/**
 * Parses and validates a genesis file: chain id, time, 1–100 validators (valid, distinct keys,
 * positive power, names), allocations (valid distinct addresses, amounts), and parameters in range.
 * @throws AitbcError `CHAIN_BAD_GENESIS` naming the field.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { genesisFromJson } from '@aitbc/chain-core';
 * const genesis = genesisFromJson(JSON.parse(await readFile('genesis.json', 'utf8')));
 * ```
 */
export function genesisFromJson(json: unknown): Genesis {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('', 'a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.chainId !== 'string' || !CHAIN_ID_RE.test(o.chainId))
    throw bad('chainId', 'a chain id ([A-Za-z0-9][A-Za-z0-9._-]{0,63})');
  const genesisTime = intIn(o.genesisTime, 'genesisTime', 0, 8.64e15);
  if (!Array.isArray(o.validators) || o.validators.length === 0 || o.validators.length > 100)
    throw bad('validators', 'an array of 1–100 validators');
  const seen = new Set<string>();
  const validators = o.validators.map((v: unknown, i): GenesisValidator => {
    const r = v as Record<string, unknown>;
    const field = `validators[${i}]`;
    if (typeof r?.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(r.publicKey))
      throw bad(`${field}.publicKey`, '64 lowercase hex digits');
    const publicKey = hexToBytes(r.publicKey);
    if (!isValidPublicKey(publicKey)) throw bad(`${field}.publicKey`, 'a valid Ed25519 public key');
    if (seen.has(r.publicKey)) throw bad(`${field}.publicKey`, 'distinct from the other validators');
    seen.add(r.publicKey);
    if (typeof r.name !== 'string' || r.name.length === 0 || r.name.length > 64)
      throw bad(`${field}.name`, '1–64 characters');
    return { publicKey, power: intIn(r.power, `${field}.power`, 1, 2 ** 40), name: r.name };
  });
  if (!Array.isArray(o.allocations) || o.allocations.length > 100_000)
    throw bad('allocations', 'an array of at most 100,000 allocations');
  const funded = new Set<string>();
  const allocations = o.allocations.map((a: unknown, i): GenesisAllocation => {
    const r = a as Record<string, unknown>;
    if (typeof r?.address !== 'string' || !isAddress(r.address))
      throw bad(`allocations[${i}].address`, 'a valid lowercase ait1… address');
    if (funded.has(r.address)) throw bad(`allocations[${i}].address`, 'listed once');
    funded.add(r.address);
    if (typeof r.amount !== 'string' || !DECIMAL_RE.test(r.amount))
      throw bad(`allocations[${i}].amount`, 'a decimal string of base units');
    return { address: r.address, amount: BigInt(r.amount) };
  });
  const p = (o.params ?? {}) as Record<string, unknown>;
  if (typeof p !== 'object' || Array.isArray(p)) throw bad('params', 'an object');
  const minFee =
    p.minFee === undefined
      ? DEFAULT_PARAMS.minFee
      : typeof p.minFee === 'string' && DECIMAL_RE.test(p.minFee)
        ? BigInt(p.minFee)
        : undefined;
  if (minFee === undefined) throw bad('params.minFee', 'a decimal string of base units');
  const params: ChainParams = {
    blockTimeMs:
      p.blockTimeMs === undefined
        ? DEFAULT_PARAMS.blockTimeMs
        : intIn(p.blockTimeMs, 'params.blockTimeMs', 10, 600_000),
    maxBlockTxs:
      p.maxBlockTxs === undefined ? DEFAULT_PARAMS.maxBlockTxs : intIn(p.maxBlockTxs, 'params.maxBlockTxs', 1, 100_000),
    maxBlockBytes:
      p.maxBlockBytes === undefined
        ? DEFAULT_PARAMS.maxBlockBytes
        : intIn(p.maxBlockBytes, 'params.maxBlockBytes', 1024, 64 * 1024 * 1024),
    minFee,
    maxTxBytes:
      p.maxTxBytes === undefined ? DEFAULT_PARAMS.maxTxBytes : intIn(p.maxTxBytes, 'params.maxTxBytes', 256, 96 * 1024),
    emptyBlockIntervalMs:
      p.emptyBlockIntervalMs === undefined
        ? DEFAULT_PARAMS.emptyBlockIntervalMs
        : intIn(p.emptyBlockIntervalMs, 'params.emptyBlockIntervalMs', 10, 3_600_000),
  };
  return { chainId: o.chainId, genesisTime, validators, allocations, params };
}

/**
 * The genesis in its JSON form (amounts as decimal strings, keys as hex).
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { genesisToJson } from '@aitbc/chain-core';
 * await writeFile('genesis.json', JSON.stringify(genesisToJson(genesis), null, 2));
 * ```
 */
export function genesisToJson(g: Genesis): Record<string, unknown> {
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    validators: g.validators.map((v) => ({ publicKey: bytesToHex(v.publicKey), power: v.power, name: v.name })),
    allocations: g.allocations.map((a) => ({ address: a.address, amount: a.amount.toString() })),
    params: { ...g.params, minFee: g.params.minFee.toString() },
  };
}

/**
 * SHA-256 of the canonical (RFC 8785) JSON of the genesis: the chain's identity beside its id.
 *
 * @example
 * ```ts
 * import { genesisHash } from '@aitbc/chain-core';
 * import { bytesEqual } from '@aitbc/crypto';
 * const sameChain = bytesEqual(genesisHash(genesis), chain.genesisHash);
 * ```
 */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(canonicalize(genesisToJson(g) as never));
}

/**
 * The genesis hash in wire form (`0x` + hex).
 *
 * @example
 * ```ts
 * import { genesisHashHex } from '@aitbc/chain-core';
 * console.log(`joining ${genesis.chainId} (${genesisHashHex(genesis)})`);
 * ```
 */
export function genesisHashHex(g: Genesis): string {
  return toHex0x(genesisHash(g));
}

/**
 * The address of each genesis validator, in order.
 *
 * @example
 * ```ts
 * import { validatorAddresses } from '@aitbc/chain-core';
 * const [first] = validatorAddresses(genesis); // 'ait1…' of validators[0]
 * ```
 */
export function validatorAddresses(g: Genesis): string[] {
  return g.validators.map((v) => addressFromPublicKey(v.publicKey));
}
