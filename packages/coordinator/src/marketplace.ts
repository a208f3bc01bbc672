import type { BatchOp, KVStore } from '@aitbc/chain-core';
import {
  AitbcError,
  bytesToHex,
  bytesToUtf8,
  canonicalize,
  isAddress,
  randomBytes,
  sha256,
  utf8ToBytes,
} from '@aitbc/crypto';
import {
  type GpuInfo,
  type MatchRequest,
  type MatchRequirements,
  type MinerRecord,
  minerFeatures,
  type PoolHub,
  rankMiners,
} from '@aitbc/pool';
import { GroupCommit } from './groupCommit.js';
import type { JobMarketTerms } from './job.js';

/**
 * An offer's state: `open` (units available), `exhausted` (all matched; reopens if a bid releases units), `withdrawn`, `expired`.
 *
 * @example
 * ```ts
 * import type { OfferState } from '@aitbc/coordinator';
 * const state: OfferState | undefined = (await market.getOffer(offerId))?.state;
 * if (state === 'exhausted') console.log('every unit is matched (it reopens if a bid releases units)');
 * ```
 */
export type OfferState = 'open' | 'exhausted' | 'withdrawn' | 'expired';

/**
 * A bid's state: `open` (units left to match), `filled`, `canceled`, `expired`.
 *
 * @example
 * ```ts
 * import type { BidState } from '@aitbc/coordinator';
 * const state: BidState | undefined = (await market.getBid(bidId))?.state;
 * if (state === 'open' || state === 'filled') console.log('the bid can still be used for jobs');
 * ```
 */
export type BidState = 'open' | 'filled' | 'canceled' | 'expired';

/**
 * A miner's published capacity and price.
 *
 * @example
 * ```ts
 * import type { Offer } from '@aitbc/coordinator';
 * const { items }: { items: Offer[] } = market.listOffers({ jobKind: 'llm.generate', region: 'eu-west' });
 * for (const o of items) console.log(o.id, o.minerId, o.pricePerUnit, `${o.available}/${o.slots}`);
 * ```
 */
export interface Offer {
  readonly id: string;
  readonly minerId: string;
  /** Job kinds offered (a subset of the miner's registered kinds). */
  readonly jobKinds: readonly string[];
  /** Models offered (a subset of the registered models; all of them by default). */
  readonly models: readonly string[];
  /** Hardware and region, copied from the miner's registration when the offer was placed. */
  readonly gpus: readonly GpuInfo[];
  readonly cpuCores: number;
  readonly ramGb: number;
  readonly region: string;
  /** Price per unit of work, base units: what a matched bid pays. */
  readonly pricePerUnit: bigint;
  /** Units offered in total, and not matched yet. */
  readonly slots: number;
  readonly available: number;
  readonly state: OfferState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
}

/**
 * What a miner sends to place an offer.
 *
 * @example
 * ```ts
 * import type { OfferInput } from '@aitbc/coordinator';
 * const input: OfferInput = { jobKinds: ['llm.generate'], models: ['llama3:8b'], pricePerUnit: 300n, slots: 10, ttlMs: 3_600_000 };
 * const { offer, matches } = await market.placeOffer('gpu-box-1', input);
 * ```
 */
export interface OfferInput {
  readonly jobKinds: readonly string[];
  readonly models?: readonly string[];
  readonly pricePerUnit: bigint;
  readonly slots: number;
  /** Lifetime, ms (default `defaultTtlMs`, at most `maxTtlMs`). */
  readonly ttlMs?: number;
}

/**
 * Requirements of a bid: the pool's hard requirements minus the job kind and price, which are fields of the bid.
 *
 * @example
 * ```ts
 * import type { BidRequirements } from '@aitbc/coordinator';
 * const requirements: BidRequirements = { minVramGb: 40, models: ['llama3:8b'], regions: ['eu-west'] };
 * await market.placeBid(clientAddress, { jobKind: 'llm.generate', requirements, maxPricePerUnit: 400n, quantity: 5 });
 * ```
 */
export type BidRequirements = Omit<MatchRequirements, 'jobKind' | 'maxPricePerUnit'>;

/**
 * A client's demand.
 *
 * @example
 * ```ts
 * import type { Bid } from '@aitbc/coordinator';
 * const { bid }: { bid: Bid } = await market.placeBid(clientAddress, { jobKind: 'wasm', maxPricePerUnit: 500n, quantity: 3 });
 * console.log(bid.id, bid.state, `${bid.filled}/${bid.quantity} matched, ${bid.used} used`);
 * ```
 */
export interface Bid {
  readonly id: string;
  /** The client's `ait1…` address (private: not in public listings). */
  readonly client: string;
  readonly jobKind: string;
  readonly requirements: BidRequirements;
  /** The most the client pays per unit, base units. */
  readonly maxPricePerUnit: bigint;
  /** Units (jobs) wanted, matched so far, and used by submitted jobs. */
  readonly quantity: number;
  readonly filled: number;
  readonly used: number;
  readonly state: BidState;
  /** Ids of the bid's matches, oldest first (private). */
  readonly matchIds: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
}

/**
 * What a client sends to place a bid.
 *
 * @example
 * ```ts
 * import type { BidInput } from '@aitbc/coordinator';
 * const input: BidInput = { jobKind: 'wasm', requirements: { minGpus: 1 }, maxPricePerUnit: 500n, quantity: 3 };
 * const { bid, matches } = await market.placeBid(clientAddress, input, 'bid-order-7');
 * ```
 */
export interface BidInput {
  readonly jobKind: string;
  readonly requirements?: BidRequirements;
  readonly maxPricePerUnit: bigint;
  readonly quantity: number;
  readonly ttlMs?: number;
}

/**
 * Units of one offer matched to one bid, at the offer's price.
 *
 * @example
 * ```ts
 * import type { MarketMatch } from '@aitbc/coordinator';
 * const matches: MarketMatch[] = await market.matchesOf(bid);
 * for (const m of matches) console.log(m.minerId, m.pricePerUnit, `${m.used}/${m.quantity}`, m.score.toFixed(2));
 * ```
 */
export interface MarketMatch {
  readonly id: string;
  readonly bidId: string;
  readonly offerId: string;
  readonly minerId: string;
  readonly jobKind: string;
  /** The offer's price per unit (pay-as-asked: never more than the bid's maximum). */
  readonly pricePerUnit: bigint;
  readonly quantity: number;
  /** Units used by jobs submitted with the bid. */
  readonly used: number;
  /** The pool score of the offer for the bid when matched, in [0, 1]. */
  readonly score: number;
  readonly createdAt: number;
}

/**
 * Public market figures.
 *
 * @example
 * ```ts
 * import type { MarketStats } from '@aitbc/coordinator';
 * const stats: MarketStats = market.stats();
 * console.log(stats.offersOpen, stats.bidsOpen, stats.volume, stats.byKind.wasm?.medianMatchPrice);
 * ```
 */
export interface MarketStats {
  readonly offersOpen: number;
  readonly bidsOpen: number;
  readonly matches: number;
  readonly unitsMatched: number;
  /** Σ price × units over every match, base units. */
  readonly volume: bigint;
  readonly byKind: Readonly<
    Record<
      string,
      {
        readonly offersOpen: number;
        readonly bidsOpen: number;
        readonly matches: number;
        readonly unitsMatched: number;
        readonly volume: bigint;
        /** Median price per unit of the kind's last 256 matches (`null` before the first). */
        readonly medianMatchPrice: bigint | null;
        /** Median price per unit of the kind's open offers (`null` with none). */
        readonly medianOfferPrice: bigint | null;
      }
    >
  >;
}

/**
 * Filters of {@link Marketplace.listOffers}.
 *
 * @example
 * ```ts
 * import type { OfferFilter } from '@aitbc/coordinator';
 * const filter: OfferFilter = { jobKind: 'llm.generate', model: 'llama3:8b', minVramGb: 24, maxPricePerUnit: 400n };
 * const page = market.listOffers(filter, { limit: 20 });
 * ```
 */
export interface OfferFilter {
  readonly jobKind?: string;
  readonly minerId?: string;
  readonly region?: string;
  readonly model?: string;
  readonly minVramGb?: number;
  readonly maxPricePerUnit?: bigint;
}

/**
 * Options of {@link Marketplace}.
 *
 * @example
 * ```ts
 * import { Marketplace, type MarketplaceOptions } from '@aitbc/coordinator';
 * const options: MarketplaceOptions = { store, hub, maxOffersPerMiner: 4, defaultTtlMs: 30 * 60_000 };
 * const market = new Marketplace(options);
 * await market.start();
 * ```
 */
export interface MarketplaceOptions {
  /** Where offers, bids and matches persist (the coordinator's store). */
  readonly store: KVStore;
  /** The pool hub: offers come from its registered miners and are ranked with its scoring. */
  readonly hub: PoolHub;
  readonly now?: () => number;
  /** Open offers per miner (default 16) and in total (default 10 000). */
  readonly maxOffersPerMiner?: number;
  readonly maxOffers?: number;
  /** Live bids per client (default 64) and in total (default 10 000). */
  readonly maxBidsPerClient?: number;
  readonly maxBids?: number;
  /** Most units in one offer or bid (default 10 000). */
  readonly maxUnits?: number;
  /** Lifetime of offers and bids: default 1 h, at most 7 days (ms). */
  readonly defaultTtlMs?: number;
  readonly maxTtlMs?: number;
  /** Interval of the sweep that expires offers and bids and re-matches open bids (ms, default 1 000). */
  readonly sweepIntervalMs?: number;
}

/**
 * Listener for new matches.
 *
 * @example
 * ```ts
 * import type { MatchListener } from '@aitbc/coordinator';
 * const onMatch: MatchListener = (m) => console.log(`bid ${m.bidId} ↔ offer ${m.offerId}: ${m.quantity} × ${m.pricePerUnit}`);
 * const unsubscribe = market.onMatch(onMatch);
 * ```
 */
export type MatchListener = (match: MarketMatch) => void;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const enc = (s: string) => utf8ToBytes(s);
const OFFER = 'coord/market/offer/';
const BID = 'coord/market/bid/';
const MATCH = 'coord/market/match/';
const LIVE_OFFER = 'coord/market/live/offer/';
const LIVE_BID = 'coord/market/live/bid/';
const STATS_KEY = enc('coord/market/stats');
const EMPTY = new Uint8Array(0);
const RECENT_PRICES = 256;
const KIND_RE = /^[a-z][a-z0-9._-]{0,63}$/;
const LABEL_RE = /^[\x21-\x7e]{1,128}$/;
const IDEMPOTENCY_RE = /^[\x21-\x7e]{1,128}$/;
/** Offer, bid and match ids: a prefix, the creation time (12 hex digits, so ids sort by time) and 64 random bits. */
const ID_RE = /^(off|bid|mat)_[0-9a-f]{28}$/;

function newId(prefix: 'off' | 'bid' | 'mat', now: number): string {
  return `${prefix}_${now.toString(16).padStart(12, '0')}${bytesToHex(randomBytes(8))}`;
}

function bad(field: string, message: string): AitbcError {
  return new AitbcError('COORD_BAD_REQUEST', `${field} ${message}`, { details: { field } });
}

/** JSON with bigints as decimal strings (the stored form of every market record). */
function toJson(value: unknown): Uint8Array {
  return enc(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

function parseOffer(bytes: Uint8Array): Mutable<Offer> {
  const o = JSON.parse(bytesToUtf8(bytes)) as Mutable<Offer> & { pricePerUnit: string };
  return { ...o, pricePerUnit: BigInt(o.pricePerUnit) };
}

function parseBid(bytes: Uint8Array): Mutable<Bid> {
  const b = JSON.parse(bytesToUtf8(bytes)) as Mutable<Bid> & { maxPricePerUnit: string };
  return { ...b, maxPricePerUnit: BigInt(b.maxPricePerUnit) };
}

function parseMatch(bytes: Uint8Array): Mutable<MarketMatch> {
  const m = JSON.parse(bytesToUtf8(bytes)) as Mutable<MarketMatch> & { pricePerUnit: string };
  return { ...m, pricePerUnit: BigInt(m.pricePerUnit) };
}

function median(values: readonly bigint[]): bigint | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.floor((s.length - 1) / 2)]!;
}

interface StoredStats {
  matches: number;
  unitsMatched: number;
  volume: string;
  byKind: Record<string, { matches: number; unitsMatched: number; volume: string; recent: string[] }>;
}

/**
 * The coordinator's marketplace (DESIGN.md §5): **offers** (a registered miner's capacity and price:
 * job kinds, models, hardware and region from its registration, price per unit, units, expiry) and
 * **bids** (a client's demand: job kind, requirements, maximum price per unit, units, expiry), with
 * matching.
 *
 * Matching runs when a bid is placed, when an offer is placed, and on every sweep for bids still
 * open. Each offer is ranked for a bid by the pool hub's own `rankMiners` — the same hard filters
 * (online, a free slot, kind, VRAM, GPUs, RAM, cores, models, regions, price ≤ the bid's maximum) and
 * the same six-term score as `/v1/match` — as the miner's live record with the offer's kinds,
 * models and price. The best offers fill the bid in score order; a match records the units
 * (`min(bid remaining, offer available)`) at the **offer's price** (pay-as-asked: the miner gets what
 * it asked, the client never pays more than its maximum), and takes them from the offer. A new offer
 * fills open bids oldest first. Every change (offer, bid, matches, stats) is one atomic, fsync'd
 * batch on the store; `start()` reloads live offers and bids.
 *
 * A job submitted with `bidId` uses one matched unit (in the same batch as the job) and is
 * dispatched to the matched miner first. When a bid expires or is canceled, its unused matched
 * units go back to their offers.
 *
 * @example
 * ```ts
 * const market = new Marketplace({ store, hub });
 * await market.start();
 * await market.placeOffer('gpu-1', { jobKinds: ['llm.generate'], pricePerUnit: 90n, slots: 10 });
 * const { bid, matches } = await market.placeBid(client, { jobKind: 'llm.generate', maxPricePerUnit: 100n, quantity: 2 });
 * ```
 */
export class Marketplace {
  readonly #store: KVStore;
  readonly #writer: GroupCommit;
  readonly #hub: PoolHub;
  readonly #now: () => number;
  readonly #limits: {
    offersPerMiner: number;
    offers: number;
    bidsPerClient: number;
    bids: number;
    units: number;
    defaultTtl: number;
    maxTtl: number;
  };
  readonly #sweepIntervalMs: number;
  /** Live offers (open or exhausted) and bids (open or filled, not expired), by id; Maps keep creation order. */
  readonly #offers = new Map<string, Mutable<Offer>>();
  readonly #bids = new Map<string, Mutable<Bid>>();
  /** Matches of live bids. */
  readonly #matches = new Map<string, Mutable<MarketMatch>>();
  readonly #stats: StoredStats = { matches: 0, unitsMatched: 0, volume: '0', byKind: {} };
  readonly #listeners = new Set<MatchListener>();
  /** Bid placements in flight by client and idempotency key. */
  readonly #placing = new Map<string, Promise<{ bid: Bid; matches: MarketMatch[] }>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = false;

  constructor(options: MarketplaceOptions) {
    this.#store = options.store;
    this.#writer = new GroupCommit(options.store);
    this.#hub = options.hub;
    this.#now = options.now ?? Date.now;
    this.#limits = {
      offersPerMiner: options.maxOffersPerMiner ?? 16,
      offers: options.maxOffers ?? 10_000,
      bidsPerClient: options.maxBidsPerClient ?? 64,
      bids: options.maxBids ?? 10_000,
      units: options.maxUnits ?? 10_000,
      defaultTtl: options.defaultTtlMs ?? 3_600_000,
      maxTtl: options.maxTtlMs ?? 7 * 86_400_000,
    };
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1_000;
    for (const [name, v] of Object.entries(this.#limits)) {
      if (!Number.isSafeInteger(v) || v <= 0)
        throw new AitbcError('COORD_BAD_CONFIG', `marketplace ${name} must be a positive integer`);
    }
  }

  /** Loads live offers, bids and their matches, and starts the sweep. */
  async start(): Promise<void> {
    if (this.#started) return;
    const offerIds = await this.#liveIds(LIVE_OFFER);
    for (const v of await this.#store.getMany(offerIds.map((id) => enc(OFFER + id)))) {
      if (v === undefined) continue;
      const o = parseOffer(v);
      this.#offers.set(o.id, o);
    }
    const bidIds = await this.#liveIds(LIVE_BID);
    for (const v of await this.#store.getMany(bidIds.map((id) => enc(BID + id)))) {
      if (v === undefined) continue;
      const b = parseBid(v);
      this.#bids.set(b.id, b);
    }
    const matchIds = [...this.#bids.values()].flatMap((b) => b.matchIds);
    for (const v of await this.#store.getMany(matchIds.map((id) => enc(MATCH + id)))) {
      if (v === undefined) continue;
      const m = parseMatch(v);
      this.#matches.set(m.id, m);
    }
    const stats = await this.#store.get(STATS_KEY);
    if (stats !== undefined) Object.assign(this.#stats, JSON.parse(bytesToUtf8(stats)) as StoredStats);
    this.#started = true;
    this.#timer = setInterval(() => void this.sweep().catch(() => undefined), this.#sweepIntervalMs);
    this.#timer.unref?.();
  }

  /** Stops the sweep. State stays in the store. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#started = false;
  }

  /** Subscribes to new matches; returns the unsubscribe function. */
  onMatch(listener: MatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Places an offer for a registered miner and fills open bids with it (oldest first).
   * @throws AitbcError `COORD_UNKNOWN_MINER`, `COORD_BAD_REQUEST` (a kind or model the miner did
   * not register, a bad price, units or ttl), `COORD_MARKET_LIMIT` (open offers of the miner or in total).
   */
  async placeOffer(minerId: string, input: OfferInput): Promise<{ offer: Offer; matches: MarketMatch[] }> {
    this.#requireStarted();
    const miner = this.#hub.registry.peek(minerId);
    if (miner === undefined)
      throw new AitbcError('COORD_UNKNOWN_MINER', 'register the miner first', { details: { minerId } });
    const caps = miner.capabilities;
    const kinds = this.#labels(input.jobKinds, 'job_kinds', 32, KIND_RE);
    if (kinds.length === 0) throw bad('job_kinds', 'must name at least one job kind');
    for (const k of kinds)
      if (!caps.jobKinds.includes(k)) throw bad('job_kinds', `names "${k}", which the miner did not register`);
    const models = input.models === undefined ? [...caps.models] : this.#labels(input.models, 'models', 256, LABEL_RE);
    for (const m of models)
      if (!caps.models.includes(m)) throw bad('models', `names "${m}", which the miner did not register`);
    this.#price(input.pricePerUnit, 'price_per_unit');
    this.#units(input.slots, 'slots');
    const now = this.#now();
    const ttl = this.#ttl(input.ttlMs);
    let mine = 0;
    for (const o of this.#offers.values()) if (o.minerId === minerId && o.state === 'open') mine++;
    if (mine >= this.#limits.offersPerMiner)
      throw this.#limit(`a miner may have ${this.#limits.offersPerMiner} open offers`, this.#limits.offersPerMiner);
    if (this.#offers.size >= this.#limits.offers)
      throw this.#limit(`the market holds the maximum of ${this.#limits.offers} offers`, this.#limits.offers);
    const offer: Mutable<Offer> = {
      id: newId('off', now),
      minerId,
      jobKinds: kinds,
      models,
      gpus: caps.gpus.map((g) => ({ model: g.model, vramGb: g.vramGb })),
      cpuCores: caps.cpuCores,
      ramGb: caps.ramGb,
      region: caps.region,
      pricePerUnit: input.pricePerUnit,
      slots: input.slots,
      available: input.slots,
      state: 'open',
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttl,
    };
    this.#offers.set(offer.id, offer);
    const ops: BatchOp[] = [{ type: 'put', key: enc(LIVE_OFFER + offer.id), value: EMPTY }];
    const matches: Mutable<MarketMatch>[] = [];
    for (const bid of this.#bids.values()) {
      if (offer.available === 0) break;
      if (bid.state !== 'open' || !offer.jobKinds.includes(bid.jobKind) || bid.expiresAt <= now) continue;
      const made = this.#fill(bid, [offer], now, ops);
      if (made.length > 0) {
        matches.push(...made);
        ops.push(this.#bidOp(bid));
      }
    }
    ops.push(this.#offerOp(offer));
    await this.#commit(ops, matches);
    return { offer: { ...offer }, matches: matches.map((m) => ({ ...m })) };
  }

  /**
   * Withdraws an open or exhausted offer of this miner (its existing matches stay valid).
   * @throws AitbcError `COORD_MARKET_UNKNOWN_OFFER`, `COORD_MARKET_NOT_OWNER`, `COORD_MARKET_CLOSED`.
   */
  async withdrawOffer(minerId: string, offerId: string): Promise<Offer> {
    this.#requireStarted();
    const offer = this.#offers.get(offerId);
    if (offer === undefined) {
      const stored = ID_RE.test(offerId) ? await this.#store.get(enc(OFFER + offerId)) : undefined;
      if (stored === undefined)
        throw new AitbcError('COORD_MARKET_UNKNOWN_OFFER', 'no such offer', { details: { offerId } });
      const o = parseOffer(stored);
      if (o.minerId !== minerId) throw this.#notOwner('offer');
      throw new AitbcError('COORD_MARKET_CLOSED', `the offer is ${o.state}`, { details: { state: o.state } });
    }
    if (offer.minerId !== minerId) throw this.#notOwner('offer');
    this.#closeOffer(offer, 'withdrawn', this.#now());
    await this.#commit([this.#offerOp(offer), { type: 'del', key: enc(LIVE_OFFER + offer.id) }], []);
    return { ...offer };
  }

  /**
   * Places a bid and matches it at once with the best-ranked offers. With an idempotency key, the
   * same request returns the same bid; the same key with another request is `COORD_IDEMPOTENCY_CONFLICT`.
   * @throws AitbcError `COORD_BAD_REQUEST`, `COORD_MARKET_LIMIT`, `COORD_IDEMPOTENCY_CONFLICT`.
   */
  async placeBid(
    client: string,
    input: BidInput,
    idempotencyKey?: string,
  ): Promise<{ bid: Bid; matches: MarketMatch[] }> {
    if (idempotencyKey === undefined) return this.#placeBid(client, input, undefined);
    // Concurrent requests with one key wait for the first instead of racing it to a second bid.
    const slot = `${client}\n${idempotencyKey}`;
    const inFlight = this.#placing.get(slot);
    if (inFlight !== undefined) {
      await inFlight.catch(() => undefined);
      return this.#placeBid(client, input, idempotencyKey);
    }
    const placing = this.#placeBid(client, input, idempotencyKey);
    this.#placing.set(slot, placing);
    try {
      return await placing;
    } finally {
      this.#placing.delete(slot);
    }
  }

  async #placeBid(
    client: string,
    input: BidInput,
    idempotencyKey: string | undefined,
  ): Promise<{ bid: Bid; matches: MarketMatch[] }> {
    this.#requireStarted();
    if (!isAddress(client)) throw bad('client', 'must be an ait1… address');
    if (typeof input.jobKind !== 'string' || !KIND_RE.test(input.jobKind))
      throw bad('job_kind', 'must match [a-z][a-z0-9._-]{0,63}');
    this.#price(input.maxPricePerUnit, 'max_price_per_unit');
    this.#units(input.quantity, 'quantity');
    const ttl = this.#ttl(input.ttlMs);
    const requirements = input.requirements ?? {};
    let idemKey: Uint8Array | undefined;
    let requestHash: string | undefined;
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_RE.test(idempotencyKey))
        throw bad('Idempotency-Key', 'must be 1–128 printable ASCII characters');
      idemKey = enc(`coord/market/idem/${client}/${bytesToHex(sha256(enc(idempotencyKey)))}`);
      requestHash = bytesToHex(
        sha256(
          canonicalize(
            JSON.parse(
              JSON.stringify({ client, input: { ...input, requirements } }, (_k, v) =>
                typeof v === 'bigint' ? v.toString() : v,
              ),
            ),
          ),
        ),
      );
      const previous = await this.#store.get(idemKey);
      if (previous !== undefined) {
        const rec = JSON.parse(bytesToUtf8(previous)) as { bidId: string; requestHash: string };
        if (rec.requestHash !== requestHash)
          throw new AitbcError('COORD_IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used for a different request');
        const bid = await this.getBid(rec.bidId);
        if (bid !== undefined) return { bid, matches: await this.matchesOf(bid) };
      }
    }
    let mine = 0;
    for (const b of this.#bids.values()) if (b.client === client) mine++;
    if (mine >= this.#limits.bidsPerClient)
      throw this.#limit(`a client may have ${this.#limits.bidsPerClient} live bids`, this.#limits.bidsPerClient);
    if (this.#bids.size >= this.#limits.bids)
      throw this.#limit(`the market holds the maximum of ${this.#limits.bids} bids`, this.#limits.bids);
    const now = this.#now();
    const bid: Mutable<Bid> = {
      id: newId('bid', now),
      client,
      jobKind: input.jobKind,
      requirements,
      maxPricePerUnit: input.maxPricePerUnit,
      quantity: input.quantity,
      filled: 0,
      used: 0,
      state: 'open',
      matchIds: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttl,
    };
    this.#bids.set(bid.id, bid);
    const ops: BatchOp[] = [{ type: 'put', key: enc(LIVE_BID + bid.id), value: EMPTY }];
    if (idemKey !== undefined) ops.push({ type: 'put', key: idemKey, value: toJson({ bidId: bid.id, requestHash }) });
    const matches = this.#fill(bid, this.#openOffersOf(bid.jobKind, now), now, ops);
    ops.push(this.#bidOp(bid));
    await this.#commit(ops, matches);
    return { bid: this.#copyBid(bid), matches: matches.map((m) => ({ ...m })) };
  }

  /**
   * Cancels a live bid of this client; its unused matched units go back to their offers.
   * @throws AitbcError `COORD_MARKET_UNKNOWN_BID`, `COORD_MARKET_NOT_OWNER`, `COORD_MARKET_CLOSED`.
   */
  async cancelBid(client: string, bidId: string): Promise<Bid> {
    this.#requireStarted();
    const bid = this.#bids.get(bidId);
    if (bid === undefined) {
      const stored = await this.getBid(bidId);
      if (stored === undefined) throw new AitbcError('COORD_MARKET_UNKNOWN_BID', 'no such bid', { details: { bidId } });
      if (stored.client !== client) throw this.#notOwner('bid');
      throw new AitbcError('COORD_MARKET_CLOSED', `the bid is ${stored.state}`, { details: { state: stored.state } });
    }
    if (bid.client !== client) throw this.#notOwner('bid');
    const ops: BatchOp[] = [];
    this.#closeBid(bid, 'canceled', this.#now(), ops);
    await this.#commit(ops, []);
    return this.#copyBid(bid);
  }

  /** An offer by id (live ones from memory, closed ones from the store). */
  async getOffer(offerId: string): Promise<Offer | undefined> {
    const live = this.#offers.get(offerId);
    if (live !== undefined) return { ...live };
    if (!ID_RE.test(offerId)) return undefined;
    const v = await this.#store.get(enc(OFFER + offerId));
    return v === undefined ? undefined : parseOffer(v);
  }

  /** A bid by id (with its private fields: check the owner before showing it). */
  async getBid(bidId: string): Promise<Bid | undefined> {
    const live = this.#bids.get(bidId);
    if (live !== undefined) return this.#copyBid(live);
    if (!ID_RE.test(bidId)) return undefined;
    const v = await this.#store.get(enc(BID + bidId));
    return v === undefined ? undefined : parseBid(v);
  }

  /** The matches of a bid, oldest first. */
  async matchesOf(bid: Bid): Promise<MarketMatch[]> {
    const out: MarketMatch[] = [];
    const missing: string[] = [];
    for (const id of bid.matchIds) {
      const m = this.#matches.get(id);
      if (m === undefined) missing.push(id);
    }
    const stored = new Map<string, MarketMatch>();
    for (const v of await this.#store.getMany(missing.map((id) => enc(MATCH + id)))) {
      if (v === undefined) continue;
      const m = parseMatch(v);
      stored.set(m.id, m);
    }
    for (const id of bid.matchIds) {
      const m = this.#matches.get(id) ?? stored.get(id);
      if (m !== undefined) out.push({ ...m });
    }
    return out;
  }

  /** Open offers (units available, not expired) by id (= creation) order, filtered, cursor-paged. */
  listOffers(filter: OfferFilter, options: { cursor?: string; limit?: number } = {}): PageOf<Offer> {
    const now = this.#now();
    return this.#page(
      this.#offers.values(),
      (o) =>
        o.state === 'open' &&
        o.expiresAt > now &&
        (filter.jobKind === undefined || o.jobKinds.includes(filter.jobKind)) &&
        (filter.minerId === undefined || o.minerId === filter.minerId) &&
        (filter.region === undefined || o.region === filter.region) &&
        (filter.model === undefined || o.models.includes(filter.model)) &&
        (filter.minVramGb === undefined || o.gpus.some((g) => g.vramGb >= filter.minVramGb!)) &&
        (filter.maxPricePerUnit === undefined || o.pricePerUnit <= filter.maxPricePerUnit),
      (o) => ({ ...o }),
      options,
    );
  }

  /** Open bids (units left to match, not expired) by id order, optionally of one job kind, cursor-paged. */
  listBids(filter: { jobKind?: string }, options: { cursor?: string; limit?: number } = {}): PageOf<Bid> {
    const now = this.#now();
    return this.#page(
      this.#bids.values(),
      (b) => b.state === 'open' && b.expiresAt > now && (filter.jobKind === undefined || b.jobKind === filter.jobKind),
      (b) => this.#copyBid(b),
      options,
    );
  }

  /** Open offers and bids, matches, units, volume, and median prices per job kind. */
  stats(): MarketStats {
    const now = this.#now();
    const byKind: Record<string, Mutable<MarketStats['byKind'][string]>> = {};
    const offerPrices: Record<string, bigint[]> = {};
    const kind = (k: string) => {
      const s = this.#stats.byKind[k];
      byKind[k] ??= {
        offersOpen: 0,
        bidsOpen: 0,
        matches: s?.matches ?? 0,
        unitsMatched: s?.unitsMatched ?? 0,
        volume: BigInt(s?.volume ?? '0'),
        medianMatchPrice: median((s?.recent ?? []).map((p) => BigInt(p))),
        medianOfferPrice: null,
      };
      return byKind[k];
    };
    for (const k of Object.keys(this.#stats.byKind)) kind(k);
    let offersOpen = 0;
    for (const o of this.#offers.values()) {
      if (o.state !== 'open' || o.expiresAt <= now) continue;
      offersOpen++;
      for (const k of o.jobKinds) {
        kind(k).offersOpen++;
        const prices = offerPrices[k] ?? [];
        prices.push(o.pricePerUnit);
        offerPrices[k] = prices;
      }
    }
    let bidsOpen = 0;
    for (const b of this.#bids.values()) {
      if (b.state !== 'open' || b.expiresAt <= now) continue;
      bidsOpen++;
      kind(b.jobKind).bidsOpen++;
    }
    for (const [k, prices] of Object.entries(offerPrices)) kind(k).medianOfferPrice = median(prices);
    return {
      offersOpen,
      bidsOpen,
      matches: this.#stats.matches,
      unitsMatched: this.#stats.unitsMatched,
      volume: BigInt(this.#stats.volume),
      byKind,
    };
  }

  /**
   * Takes one matched unit of a client's bid for a job of `jobKind`, from its oldest match with units
   * left. Returns the terms and the ops that record it (to be written in the job's batch), and
   * `release` to undo it if that batch fails.
   * @throws AitbcError `COORD_MARKET_UNKNOWN_BID`, `COORD_MARKET_NOT_OWNER`, `COORD_MARKET_CLOSED`
   * (canceled or expired), `COORD_MARKET_BID_MISMATCH` (another job kind), `COORD_MARKET_NO_UNITS`.
   * @internal
   */
  async reserveUnit(
    client: string,
    bidId: string,
    jobKind: string,
  ): Promise<{ terms: JobMarketTerms; ops: BatchOp[]; release: () => void }> {
    this.#requireStarted();
    const bid = this.#bids.get(bidId);
    if (bid === undefined || bid.expiresAt <= this.#now()) {
      const stored = bid ?? (await this.getBid(bidId));
      if (stored === undefined) throw new AitbcError('COORD_MARKET_UNKNOWN_BID', 'no such bid', { details: { bidId } });
      if (stored.client !== client) throw this.#notOwner('bid');
      const state = bid !== undefined ? 'expired' : stored.state;
      throw new AitbcError('COORD_MARKET_CLOSED', `the bid is ${state}`, { details: { state } });
    }
    if (bid.client !== client) throw this.#notOwner('bid');
    if (bid.jobKind !== jobKind)
      throw new AitbcError('COORD_MARKET_BID_MISMATCH', `the bid is for job kind "${bid.jobKind}"`, {
        details: { field: 'kind', bidJobKind: bid.jobKind },
      });
    const match = bid.matchIds.map((id) => this.#matches.get(id)).find((m) => m !== undefined && m.used < m.quantity);
    if (match === undefined)
      throw new AitbcError('COORD_MARKET_NO_UNITS', 'the bid has no matched units left', {
        details: { filled: bid.filled, used: bid.used, quantity: bid.quantity },
      });
    match.used++;
    bid.used++;
    bid.updatedAt = this.#now();
    return {
      terms: {
        bidId: bid.id,
        matchId: match.id,
        offerId: match.offerId,
        minerId: match.minerId,
        pricePerUnit: match.pricePerUnit,
      },
      ops: [this.#matchOp(match), this.#bidOp(bid)],
      release: () => {
        match.used--;
        bid.used--;
      },
    };
  }

  /** Expires offers and bids past their deadline and re-matches open bids (oldest first, 64 per sweep). */
  async sweep(): Promise<void> {
    if (!this.#started) return;
    const now = this.#now();
    const ops: BatchOp[] = [];
    for (const offer of [...this.#offers.values()]) {
      if (offer.expiresAt <= now) {
        this.#closeOffer(offer, 'expired', now);
        ops.push(this.#offerOp(offer), { type: 'del', key: enc(LIVE_OFFER + offer.id) });
      }
    }
    for (const bid of [...this.#bids.values()]) if (bid.expiresAt <= now) this.#closeBid(bid, 'expired', now, ops);
    const matches: Mutable<MarketMatch>[] = [];
    let tried = 0;
    for (const bid of this.#bids.values()) {
      if (tried >= 64) break;
      if (bid.state !== 'open') continue;
      const offers = this.#openOffersOf(bid.jobKind, now);
      if (offers.length === 0) continue;
      tried++;
      const made = this.#fill(bid, offers, now, ops);
      if (made.length > 0) {
        matches.push(...made);
        ops.push(this.#bidOp(bid));
      }
    }
    if (ops.length > 0) await this.#commit(ops, matches);
  }

  // --- internals ---------------------------------------------------------------------------------

  /** Ranks `offers` for `bid` with the pool's filters and scoring and fills the bid in score order. */
  #fill(bid: Mutable<Bid>, offers: readonly Mutable<Offer>[], now: number, ops: BatchOp[]): Mutable<MarketMatch>[] {
    const made: Mutable<MarketMatch>[] = [];
    if (bid.state !== 'open' || offers.length === 0) return made;
    const byId = new Map<string, Mutable<Offer>>();
    const candidates: MinerRecord[] = [];
    for (const offer of offers) {
      if (offer.state !== 'open' || offer.available === 0 || offer.expiresAt <= now) continue;
      // Cheap pre-filter (the ranking applies it again): a bid never pays more than its maximum.
      if (offer.pricePerUnit > bid.maxPricePerUnit) continue;
      const registry = this.#hub.registry;
      if (!registry.isOnline(offer.minerId)) continue; // refreshes the live record's `online`
      const miner = registry.peek(offer.minerId); // the live record, read only
      if (miner === undefined) continue;
      byId.set(offer.id, offer);
      // The offer as the pool sees a miner: its kinds, models and price, with the miner's hardware
      // and live status, stats and trust. The id is the offer's, so one miner's offers rank apart.
      candidates.push({
        ...miner,
        id: offer.id,
        pricePerUnit: offer.pricePerUnit,
        capabilities: { ...miner.capabilities, jobKinds: offer.jobKinds, models: offer.models },
      });
    }
    if (candidates.length === 0) return made;
    const request: MatchRequest = {
      requirements: { ...bid.requirements, jobKind: bid.jobKind, maxPricePerUnit: bid.maxPricePerUnit },
    };
    const { ranked } = rankMiners(
      (visit) => {
        for (const c of candidates) visit(c, minerFeatures(c));
        return undefined;
      },
      request,
      this.#hub.weights,
      { topK: candidates.length },
    );
    for (const { miner, score } of ranked) {
      const remaining = bid.quantity - bid.filled;
      if (remaining === 0) break;
      const offer = byId.get(miner.id)!;
      const quantity = Math.min(remaining, offer.available);
      if (quantity === 0) continue;
      const match: Mutable<MarketMatch> = {
        id: newId('mat', now),
        bidId: bid.id,
        offerId: offer.id,
        minerId: offer.minerId,
        jobKind: bid.jobKind,
        pricePerUnit: offer.pricePerUnit,
        quantity,
        used: 0,
        score,
        createdAt: now,
      };
      offer.available -= quantity;
      offer.updatedAt = now;
      if (offer.available === 0) offer.state = 'exhausted';
      bid.filled += quantity;
      bid.updatedAt = now;
      bid.matchIds = [...bid.matchIds, match.id];
      if (bid.filled === bid.quantity) bid.state = 'filled';
      this.#matches.set(match.id, match);
      this.#record(match);
      ops.push(this.#matchOp(match), this.#offerOp(offer));
      made.push(match);
    }
    return made;
  }

  #openOffersOf(jobKind: string, now: number): Mutable<Offer>[] {
    const out: Mutable<Offer>[] = [];
    for (const o of this.#offers.values())
      if (o.state === 'open' && o.expiresAt > now && o.jobKinds.includes(jobKind)) out.push(o);
    return out;
  }

  #closeOffer(offer: Mutable<Offer>, state: 'withdrawn' | 'expired', now: number): void {
    offer.state = state;
    offer.updatedAt = now;
    this.#offers.delete(offer.id);
  }

  /** Ends a bid; unused matched units go back to their offers (reopening exhausted ones). */
  #closeBid(bid: Mutable<Bid>, state: 'canceled' | 'expired', now: number, ops: BatchOp[]): void {
    bid.state = state;
    bid.updatedAt = now;
    for (const id of bid.matchIds) {
      const match = this.#matches.get(id);
      if (match === undefined) continue;
      const unused = match.quantity - match.used;
      const offer = this.#offers.get(match.offerId);
      if (unused > 0 && offer !== undefined && offer.expiresAt > now) {
        offer.available += unused;
        offer.updatedAt = now;
        if (offer.state === 'exhausted') offer.state = 'open';
        ops.push(this.#offerOp(offer));
      }
      this.#matches.delete(id);
    }
    this.#bids.delete(bid.id);
    ops.push(this.#bidOp(bid), { type: 'del', key: enc(LIVE_BID + bid.id) });
  }

  #record(match: MarketMatch): void {
    const value = match.pricePerUnit * BigInt(match.quantity);
    const s = this.#stats;
    s.matches++;
    s.unitsMatched += match.quantity;
    s.volume = (BigInt(s.volume) + value).toString();
    const k = s.byKind[match.jobKind] ?? { matches: 0, unitsMatched: 0, volume: '0', recent: [] };
    s.byKind[match.jobKind] = k;
    k.matches++;
    k.unitsMatched += match.quantity;
    k.volume = (BigInt(k.volume) + value).toString();
    k.recent.push(match.pricePerUnit.toString());
    if (k.recent.length > RECENT_PRICES) k.recent.splice(0, k.recent.length - RECENT_PRICES);
  }

  async #commit(ops: BatchOp[], matches: readonly MarketMatch[]): Promise<void> {
    if (matches.length > 0) ops.push({ type: 'put', key: STATS_KEY, value: toJson(this.#stats) });
    await this.#writer.write(ops);
    for (const m of matches) {
      for (const l of this.#listeners) {
        try {
          l({ ...m });
        } catch {
          // a listener's failure never breaks the market
        }
      }
    }
  }

  #page<T extends { id: string }, R>(
    values: Iterable<T>,
    keep: (v: T) => boolean,
    copy: (v: T) => R,
    options: { cursor?: string; limit?: number },
  ): PageOf<R> {
    const limit = options.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) throw bad('limit', 'must be an integer in [1, 500]');
    const cursor = options.cursor;
    if (cursor !== undefined && !ID_RE.test(cursor))
      throw new AitbcError('COORD_BAD_CURSOR', 'cursor is not one this server issued');
    // Maps iterate in insertion order, which is id order (ids start with the creation time).
    const items: R[] = [];
    let last: string | undefined;
    for (const v of values) {
      if (cursor !== undefined && v.id <= cursor) continue;
      if (!keep(v)) continue;
      if (items.length === limit) return { items, nextCursor: last ?? null };
      items.push(copy(v));
      last = v.id;
    }
    return { items, nextCursor: null };
  }

  async #liveIds(prefix: string): Promise<string[]> {
    const ids: string[] = [];
    const end = `${prefix.slice(0, -1)}0`; // '0' follows '/'
    for await (const [key] of this.#store.iterate({ gte: enc(prefix), lt: enc(end) }))
      ids.push(bytesToUtf8(key).slice(prefix.length));
    return ids;
  }

  #offerOp(o: Offer): BatchOp {
    return { type: 'put', key: enc(OFFER + o.id), value: toJson(o) };
  }

  #bidOp(b: Bid): BatchOp {
    return { type: 'put', key: enc(BID + b.id), value: toJson(b) };
  }

  #matchOp(m: MarketMatch): BatchOp {
    return { type: 'put', key: enc(MATCH + m.id), value: toJson(m) };
  }

  #copyBid(b: Bid): Bid {
    return { ...b, matchIds: [...b.matchIds] };
  }

  #labels(values: readonly string[], field: string, max: number, re: RegExp): string[] {
    if (!Array.isArray(values) || values.length > max) throw bad(field, `must be an array of at most ${max} names`);
    const out: string[] = [];
    for (const v of values) {
      if (typeof v !== 'string' || !re.test(v)) throw bad(field, `has an invalid entry`);
      if (!out.includes(v)) out.push(v);
    }
    return out;
  }

  #price(value: bigint, field: string): void {
    if (typeof value !== 'bigint' || value < 0n || value >= 10n ** 78n)
      throw bad(field, 'must be a non-negative amount of base units');
  }

  #units(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 1 || value > this.#limits.units)
      throw bad(field, `must be an integer in [1, ${this.#limits.units}]`);
  }

  #ttl(ttlMs: number | undefined): number {
    const ttl = ttlMs ?? this.#limits.defaultTtl;
    if (!Number.isSafeInteger(ttl) || ttl < 1_000 || ttl > this.#limits.maxTtl)
      throw bad('ttl_ms', `must be an integer in [1000, ${this.#limits.maxTtl}]`);
    return ttl;
  }

  #limit(message: string, limit: number): AitbcError {
    return new AitbcError('COORD_MARKET_LIMIT', message, { details: { limit } });
  }

  #notOwner(what: 'offer' | 'bid'): AitbcError {
    return new AitbcError('COORD_MARKET_NOT_OWNER', `this ${what} belongs to someone else`);
  }

  #requireStarted(): void {
    if (!this.#started) throw new AitbcError('COORD_NOT_STARTED', 'the marketplace is not started');
  }
}

/**
 * A page of a listing.
 *
 * @example
 * ```ts
 * import type { Offer, PageOf } from '@aitbc/coordinator';
 * let cursor: string | undefined;
 * do {
 *   const page: PageOf<Offer> = market.listOffers({ jobKind: 'wasm' }, cursor === undefined ? {} : { cursor });
 *   for (const o of page.items) console.log(o.id);
 *   cursor = page.nextCursor ?? undefined;
 * } while (cursor !== undefined);
 * ```
 */
export interface PageOf<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}
