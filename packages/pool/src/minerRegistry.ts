import type { KVStore } from '@aitbc/chain-core';
import { AitbcError, bytesEqual, bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '@aitbc/crypto';
import { CandidateIndex } from './candidateIndex.js';
import { type MinerFeatures, minerFeatures } from './scoring.js';
import type { Heartbeat, MatchRequest, MinerRecord, MinerRegistration, MinerStats, MinerStatus } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Entry {
  registration: MinerRegistration;
  status: Mutable<MinerStatus>;
  stats: Mutable<MinerStats>;
  trust: number;
  registeredAt: number;
  /** The record handed to scoring; rebuilt when the registration changes. */
  view: MinerRecord;
  /** Derived once per registration for the hot path of matching. */
  features: MinerFeatures;
  /** Slot in the candidate index. */
  slot: number;
}

/**
 * Options of {@link MinerRegistry}.
 *
 * @example
 * ```ts
 * import { MinerRegistry, type MinerRegistryOptions } from '@aitbc/pool';
 * const options: MinerRegistryOptions = { heartbeatTimeoutMs: 15_000, maxMiners: 10_000, latencySmoothing: 0.3 };
 * const registry = new MinerRegistry(options);
 * ```
 */
export interface MinerRegistryOptions {
  /** A miner whose last heartbeat is older than this is offline (ms, default 30 000). */
  readonly heartbeatTimeoutMs?: number;
  /** Clock in ms since epoch (default `Date.now`); injectable for tests and simulations. */
  readonly now?: () => number;
  /** Persists registrations, stats and trust (not live status). Omit for a memory-only registry. */
  readonly store?: KVStore;
  /** Maximum registered miners (default 100 000). */
  readonly maxMiners?: number;
  /** Weight of a new latency report in the moving average (0–1, default 0.2). */
  readonly latencySmoothing?: number;
}

const KEY_PREFIX = utf8ToBytes('pool/miner/');
const KEY_END = utf8ToBytes('pool/miner0'); // '0' follows '/' in ASCII: the end of the prefix range

function storeKey(id: string): Uint8Array {
  const idBytes = utf8ToBytes(id);
  const key = new Uint8Array(KEY_PREFIX.length + idBytes.length);
  key.set(KEY_PREFIX);
  key.set(idBytes, KEY_PREFIX.length);
  return key;
}

interface StoredMiner {
  v: 1;
  id: string;
  address: string;
  publicKey: string;
  capabilities: MinerRegistration['capabilities'];
  pricePerUnit: string;
  maxConcurrency: number;
  stats: MinerStats;
  trust: number;
  registeredAt: number;
}

function clampUnit(n: number): number {
  return Math.min(1, Math.max(0, n));
}

/**
 * The miner registry of a pool hub: registrations, live status from heartbeats (a miner that misses
 * heartbeats for `heartbeatTimeoutMs` is offline), outcome statistics and operator trust.
 * Registrations, stats and trust persist to the optional `store`; live status is rebuilt from heartbeats.
 *
 * @example
 * ```ts
 * const registry = new MinerRegistry({ heartbeatTimeoutMs: 15_000 });
 * await registry.open();
 * await registry.register(registration);
 * registry.heartbeat(registration.id, { activeJobs: 1, latencyMs: 120 });
 * ```
 */
export class MinerRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #index = new CandidateIndex<Entry>();
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #store: KVStore | undefined;
  readonly #maxMiners: number;
  readonly #smoothing: number;

  constructor(options: MinerRegistryOptions = {}) {
    this.#timeoutMs = options.heartbeatTimeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#store = options.store;
    this.#maxMiners = options.maxMiners ?? 100_000;
    this.#smoothing = options.latencySmoothing ?? 0.2;
    if (!(this.#timeoutMs > 0)) throw new AitbcError('POOL_BAD_CONFIG', 'heartbeatTimeoutMs must be positive');
    if (!(this.#smoothing > 0 && this.#smoothing <= 1)) {
      throw new AitbcError('POOL_BAD_CONFIG', 'latencySmoothing must be in (0, 1]');
    }
  }

  /** Loads persisted miners from the store (no-op without a store). They start offline. */
  async open(): Promise<void> {
    if (this.#store === undefined) return;
    for await (const [, value] of this.#store.iterate({ gte: KEY_PREFIX, lt: KEY_END })) {
      const s = JSON.parse(bytesToUtf8(value)) as StoredMiner;
      const registration: MinerRegistration = {
        id: s.id,
        address: s.address,
        publicKey: hexToBytes(s.publicKey, 32),
        capabilities: s.capabilities,
        pricePerUnit: BigInt(s.pricePerUnit),
        maxConcurrency: s.maxConcurrency,
      };
      this.#insert(registration, { ...s.stats }, s.trust, s.registeredAt, 0);
    }
  }

  /** Number of registered miners. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers a miner, or updates the registration of a known id (stats and trust are kept). The
   * registration counts as a heartbeat.
   * @throws AitbcError `POOL_MINER_KEY_MISMATCH` when a known id comes back with another public key,
   * `POOL_REGISTRY_FULL` at `maxMiners`.
   */
  async register(registration: MinerRegistration): Promise<MinerRecord> {
    const now = this.#now();
    const existing = this.#entries.get(registration.id);
    if (existing !== undefined) {
      if (!bytesEqual(existing.registration.publicKey, registration.publicKey)) {
        throw new AitbcError('POOL_MINER_KEY_MISMATCH', 'miner id is registered with another public key', {
          details: { minerId: registration.id },
        });
      }
      this.#unindex(existing);
    } else if (this.#entries.size >= this.#maxMiners) {
      throw new AitbcError('POOL_REGISTRY_FULL', `registry holds the maximum of ${this.#maxMiners} miners`);
    }
    const entry = this.#insert(
      registration,
      existing?.stats ?? { completed: 0, failed: 0 },
      existing?.trust ?? 0.5,
      existing?.registeredAt ?? now,
      now,
      existing?.status,
    );
    await this.#persist(entry);
    return this.#snapshot(entry);
  }

  /**
   * Records a heartbeat with live status.
   * @throws AitbcError `POOL_UNKNOWN_MINER`.
   */
  heartbeat(minerId: string, heartbeat: Heartbeat = {}): MinerRecord {
    const entry = this.#require(minerId);
    this.#applyHeartbeat(entry, heartbeat);
    return this.#snapshot(entry);
  }

  #applyHeartbeat(entry: Entry, heartbeat: Heartbeat): void {
    const s = entry.status;
    s.lastHeartbeatAt = this.#now();
    s.online = true;
    if (heartbeat.queueLength !== undefined) s.queueLength = heartbeat.queueLength;
    if (heartbeat.activeJobs !== undefined) s.activeJobs = heartbeat.activeJobs;
    if (heartbeat.utilization !== undefined) s.utilization = clampUnit(heartbeat.utilization);
    if (heartbeat.latencyMs !== undefined) this.#observeLatency(s, heartbeat.latencyMs);
    this.#index.setStatus(entry.slot, s.lastHeartbeatAt, s.activeJobs);
  }

  /**
   * Records the outcome of a job run by a miner (feeds the success-rate and latency terms).
   * @throws AitbcError `POOL_UNKNOWN_MINER`.
   */
  async recordOutcome(minerId: string, outcome: { success: boolean; latencyMs?: number }): Promise<MinerRecord> {
    await this.countOutcome(minerId, outcome);
    return this.#snapshot(this.#require(minerId));
  }

  /**
   * Sets the operator trust of a miner, in [0, 1].
   * @throws AitbcError `POOL_UNKNOWN_MINER`, `POOL_BAD_REQUEST` for a value outside [0, 1].
   */
  async setTrust(minerId: string, trust: number): Promise<MinerRecord> {
    if (typeof trust !== 'number' || !(trust >= 0 && trust <= 1)) {
      throw new AitbcError('POOL_BAD_REQUEST', 'trust must be a number in [0, 1]');
    }
    const entry = this.#require(minerId);
    entry.trust = trust;
    entry.view = this.#view(entry);
    await this.#persist(entry);
    return this.#snapshot(entry);
  }

  /** Removes a miner. Returns whether it was registered. */
  async remove(minerId: string): Promise<boolean> {
    const entry = this.#entries.get(minerId);
    if (entry === undefined) return false;
    this.#unindex(entry);
    this.#entries.delete(minerId);
    await this.#store?.del(storeKey(minerId));
    return true;
  }

  /** A copy of one miner's record, or `undefined`. */
  get(minerId: string): MinerRecord | undefined {
    const entry = this.#entries.get(minerId);
    if (entry === undefined) return undefined;
    this.#refresh(entry, this.#now());
    return this.#snapshot(entry);
  }

  /** Whether a miner is registered and its last heartbeat is within the timeout (refreshes its `online`). */
  isOnline(minerId: string): boolean {
    const entry = this.#entries.get(minerId);
    if (entry === undefined) return false;
    this.#refresh(entry, this.#now());
    return entry.status.online;
  }

  /**
   * The live record of a miner (not a copy, `online` not refreshed): a cheap read for hot paths
   * that only look. Callers must not mutate it; use {@link get} for a copy.
   */
  peek(minerId: string): MinerRecord | undefined {
    return this.#entries.get(minerId)?.view;
  }

  /** Copies of all records in id order, optionally only those online. */
  list(options: { onlineOnly?: boolean } = {}): MinerRecord[] {
    const now = this.#now();
    const out: MinerRecord[] = [];
    for (const entry of this.#entries.values()) {
      this.#refresh(entry, now);
      if (options.onlineOnly && !entry.status.online) continue;
      out.push(this.#snapshot(entry));
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Miners online now. */
  onlineCount(): number {
    const now = this.#now();
    let n = 0;
    for (const entry of this.#entries.values()) {
      this.#refresh(entry, now);
      if (entry.status.online) n++;
    }
    return n;
  }

  /**
   * Internal fast path for matching: the live records (not copies) of the miners that accept
   * `jobKind` (all miners when omitted), with `online` refreshed. Callers must not mutate them.
   * @internal
   */
  liveCandidates(jobKind: string | undefined): MinerRecord[] {
    const now = this.#now();
    const out: MinerRecord[] = [];
    if (jobKind === undefined) {
      for (const entry of this.#entries.values()) {
        this.#refresh(entry, now);
        out.push(entry.view);
      }
      return out;
    }
    for (const entry of this.#index.items(jobKind)) {
      this.#refresh(entry, now);
      out.push(entry.view);
    }
    return out;
  }

  /**
   * Internal fast path for ranking: visits, with their cached features and `online` refreshed, the
   * live records of the miners accepting the request's job kind that pass the index's quick filters
   * (a superset of the eligible ones: callers still apply `isEligibleWith`). Returns how many miners
   * of that kind (all, without a kind) are online. Visitors must not mutate the records.
   * @internal
   */
  scanCandidates(request: MatchRequest, visit: (miner: MinerRecord, features: MinerFeatures) => void): number {
    return this.#index.scan(request, this.#now(), this.#timeoutMs, (entry) => {
      entry.status.online = true;
      visit(entry.view, entry.features);
    });
  }

  /**
   * A heartbeat that returns nothing: the same update as {@link MinerRegistry.heartbeat | heartbeat} without the copy of the
   * record, for hot paths (a coordinator touching miners on every poll).
   * @throws AitbcError `POOL_UNKNOWN_MINER`.
   */
  touch(minerId: string, heartbeat: Heartbeat = {}): void {
    this.#applyHeartbeat(this.#require(minerId), heartbeat);
  }

  /**
   * Records an outcome like {@link recordOutcome} without returning a copy of the record.
   * @throws AitbcError `POOL_UNKNOWN_MINER`.
   */
  async countOutcome(minerId: string, outcome: { success: boolean; latencyMs?: number }): Promise<void> {
    const entry = this.#require(minerId);
    if (outcome.success) entry.stats.completed++;
    else entry.stats.failed++;
    if (outcome.latencyMs !== undefined) this.#observeLatency(entry.status, outcome.latencyMs);
    await this.#persist(entry);
  }

  #insert(
    registration: MinerRegistration,
    stats: Mutable<MinerStats>,
    trust: number,
    registeredAt: number,
    lastHeartbeatAt: number,
    previous?: Mutable<MinerStatus>,
  ): Entry {
    const status: Mutable<MinerStatus> = previous ?? {
      online: false,
      lastHeartbeatAt,
      queueLength: 0,
      activeJobs: 0,
      latencyMs: 0,
      utilization: 0,
    };
    if (lastHeartbeatAt > 0) {
      status.lastHeartbeatAt = lastHeartbeatAt;
      status.online = true;
    }
    const entry = { registration, status, stats, trust, registeredAt } as Entry;
    entry.view = this.#view(entry);
    entry.features = minerFeatures(entry.view);
    this.#entries.set(registration.id, entry);
    entry.slot = this.#index.add(entry, registration, entry.features);
    this.#index.setStatus(entry.slot, status.lastHeartbeatAt, status.activeJobs);
    return entry;
  }

  #unindex(entry: Entry): void {
    this.#index.remove(entry.slot, entry.registration);
  }

  #view(entry: Entry): MinerRecord {
    // An explicit literal (not a spread) so every view shares one fast hidden class: matching reads
    // these records 10k times per query. It shares the mutable status/stats objects, so heartbeats
    // need no rebuild.
    const r = entry.registration;
    return {
      id: r.id,
      address: r.address,
      publicKey: r.publicKey,
      capabilities: r.capabilities,
      pricePerUnit: r.pricePerUnit,
      maxConcurrency: r.maxConcurrency,
      status: entry.status,
      stats: entry.stats,
      trust: entry.trust,
      registeredAt: entry.registeredAt,
    };
  }

  #refresh(entry: Entry, now: number): void {
    entry.status.online = entry.status.lastHeartbeatAt > 0 && now - entry.status.lastHeartbeatAt <= this.#timeoutMs;
  }

  #observeLatency(status: Mutable<MinerStatus>, latencyMs: number): void {
    if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) return;
    status.latencyMs =
      status.latencyMs === 0 ? latencyMs : status.latencyMs + this.#smoothing * (latencyMs - status.latencyMs);
  }

  #require(minerId: string): Entry {
    const entry = this.#entries.get(minerId);
    if (entry === undefined) {
      throw new AitbcError('POOL_UNKNOWN_MINER', 'no miner is registered with this id', { details: { minerId } });
    }
    return entry;
  }

  #snapshot(entry: Entry): MinerRecord {
    return structuredClone(entry.view);
  }

  async #persist(entry: Entry): Promise<void> {
    if (this.#store === undefined) return;
    const r = entry.registration;
    const stored: StoredMiner = {
      v: 1,
      id: r.id,
      address: r.address,
      publicKey: bytesToHex(r.publicKey),
      capabilities: r.capabilities,
      pricePerUnit: r.pricePerUnit.toString(),
      maxConcurrency: r.maxConcurrency,
      stats: { ...entry.stats },
      trust: entry.trust,
      registeredAt: entry.registeredAt,
    };
    await this.#store.put(storeKey(r.id), utf8ToBytes(JSON.stringify(stored)));
  }
}
