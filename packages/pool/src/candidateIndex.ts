import type { MinerFeatures } from './scoring.js';
import type { MatchRequest, MinerRegistration } from './types.js';

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** Models interned beyond this many have no bit: the quick filter then leaves them to the full check. */
const MODEL_BITS = 30;
const initialCapacity = 1024;

/**
 * The matching index of a registry: miners by job kind, and the fields every hard filter reads kept
 * in flat typed arrays by slot (struct of arrays: heartbeat time, active jobs, concurrency, VRAM,
 * GPUs, RAM, cores, price, a model bitmask, a region id). A scan rejects most ineligible miners from
 * these columns without touching their records; the survivors still go through the full
 * `isEligibleWith`, so the quick filter only ever skips miners that would fail it.
 * @internal
 */
export class CandidateIndex<T> {
  #capacity = initialCapacity;
  #lastHeartbeat = new Float64Array(initialCapacity);
  #active = new Float64Array(initialCapacity);
  #maxConcurrency = new Float64Array(initialCapacity);
  #vram = new Float64Array(initialCapacity);
  #gpus = new Float64Array(initialCapacity);
  #ram = new Float64Array(initialCapacity);
  #cores = new Float64Array(initialCapacity);
  /** Price as a number, NaN when above 2^53 (then the price filter is left to the full check). */
  #price = new Float64Array(initialCapacity);
  #modelBits = new Int32Array(initialCapacity);
  #region = new Int32Array(initialCapacity);
  readonly #items: (T | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #byKind = new Map<string, number[]>();
  readonly #all: number[] = [];
  readonly #modelIds = new Map<string, number>();
  readonly #regionIds = new Map<string, number>();

  /** Indexes a miner; returns its slot. */
  add(item: T, registration: MinerRegistration, features: MinerFeatures): number {
    const slot = this.#free.pop() ?? this.#items.length;
    if (slot >= this.#capacity) this.#grow();
    this.#items[slot] = item;
    const caps = registration.capabilities;
    this.#maxConcurrency[slot] = registration.maxConcurrency;
    this.#vram[slot] = features.maxVramGb;
    this.#gpus[slot] = caps.gpus.length;
    this.#ram[slot] = caps.ramGb;
    this.#cores[slot] = caps.cpuCores;
    this.#price[slot] = features.priceExact ? features.priceNumber : Number.NaN;
    let bits = 0;
    for (const m of caps.models) {
      let id = this.#modelIds.get(m);
      if (id === undefined) {
        id = this.#modelIds.size;
        this.#modelIds.set(m, id);
      }
      if (id < MODEL_BITS) bits |= 1 << id;
    }
    this.#modelBits[slot] = bits;
    let region = this.#regionIds.get(caps.region);
    if (region === undefined) {
      region = this.#regionIds.size;
      this.#regionIds.set(caps.region, region);
    }
    this.#region[slot] = region;
    this.#all.push(slot);
    for (const kind of caps.jobKinds) {
      const list = this.#byKind.get(kind);
      if (list === undefined) this.#byKind.set(kind, [slot]);
      else list.push(slot);
    }
    return slot;
  }

  /** Removes a miner indexed by {@link CandidateIndex.add}. */
  remove(slot: number, registration: MinerRegistration): void {
    const drop = (list: number[]) => {
      const i = list.indexOf(slot);
      if (i >= 0) {
        list[i] = list[list.length - 1]!;
        list.pop();
      }
    };
    drop(this.#all);
    for (const kind of registration.capabilities.jobKinds) {
      const list = this.#byKind.get(kind);
      if (list === undefined) continue;
      drop(list);
      if (list.length === 0) this.#byKind.delete(kind);
    }
    this.#items[slot] = undefined;
    this.#free.push(slot);
  }

  /** Mirrors the live status fields the filters read. */
  setStatus(slot: number, lastHeartbeatAt: number, activeJobs: number): void {
    this.#lastHeartbeat[slot] = lastHeartbeatAt;
    this.#active[slot] = activeJobs;
  }

  /** The items accepting `jobKind` (all when omitted). */
  *items(jobKind: string | undefined): IterableIterator<T> {
    const list = jobKind === undefined ? this.#all : this.#byKind.get(jobKind);
    if (list === undefined) return;
    for (const slot of list) yield this.#items[slot]!;
  }

  /**
   * Visits the miners accepting the request's job kind that pass the quick filters (online, a free
   * slot, VRAM, GPUs, RAM, cores, price, models, region); returns how many of the kind's miners are
   * online (`onlineAt(slot)` semantics: a heartbeat within `timeoutMs` of `now`).
   */
  scan(request: MatchRequest, now: number, timeoutMs: number, visit: (item: T, online: boolean) => void): number {
    const req = request.requirements;
    const list = req.jobKind === undefined ? this.#all : this.#byKind.get(req.jobKind);
    if (list === undefined) return 0;
    const minVram = req.minVramGb ?? 0;
    const minGpus = req.minGpus ?? 0;
    const minRam = req.minRamGb ?? 0;
    const minCores = req.minCpuCores ?? 0;
    const max = req.maxPricePerUnit;
    const maxPrice = max === undefined ? Number.POSITIVE_INFINITY : max <= MAX_EXACT ? Number(max) : Number.NaN;
    let modelMask = 0;
    let noOneServes = false;
    for (const m of req.models ?? []) {
      const id = this.#modelIds.get(m);
      if (id === undefined) noOneServes = true;
      else if (id < MODEL_BITS) modelMask |= 1 << id;
    }
    let regionMask = -1; // all regions
    let regionUnknown = false;
    if (req.regions !== undefined && req.regions.length > 0) {
      regionMask = 0;
      for (const r of req.regions) {
        const id = this.#regionIds.get(r);
        if (id === undefined) continue;
        if (id < 31) regionMask |= 1 << id;
        else regionUnknown = true; // too many regions for the mask: leave it to the full check
      }
      if (regionUnknown) regionMask = -1;
    }
    const lastHb = this.#lastHeartbeat;
    const active = this.#active;
    const conc = this.#maxConcurrency;
    const vram = this.#vram;
    const gpus = this.#gpus;
    const ram = this.#ram;
    const cores = this.#cores;
    const price = this.#price;
    const bits = this.#modelBits;
    const region = this.#region;
    let online = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      const hb = lastHb[s]!;
      const isOnline = hb > 0 && now - hb <= timeoutMs;
      if (!isOnline) continue;
      online++;
      if (noOneServes) continue;
      if (active[s]! >= conc[s]!) continue;
      if (vram[s]! < minVram || gpus[s]! < minGpus || ram[s]! < minRam || cores[s]! < minCores) continue;
      const p = price[s]!;
      if (p > maxPrice) continue; // NaN on either side compares false: left to the full check
      if ((bits[s]! & modelMask) !== modelMask) continue;
      const r = region[s]!;
      if (r < 31 && (regionMask & (1 << r)) === 0) continue;
      visit(this.#items[s]!, true);
    }
    return online;
  }

  #grow(): void {
    const cap = this.#capacity * 2;
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.#lastHeartbeat = grow64(this.#lastHeartbeat);
    this.#active = grow64(this.#active);
    this.#maxConcurrency = grow64(this.#maxConcurrency);
    this.#vram = grow64(this.#vram);
    this.#gpus = grow64(this.#gpus);
    this.#ram = grow64(this.#ram);
    this.#cores = grow64(this.#cores);
    this.#price = grow64(this.#price);
    this.#modelBits = grow32(this.#modelBits);
    this.#region = grow32(this.#region);
    this.#capacity = cap;
  }
}
