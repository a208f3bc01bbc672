import { AitbcError } from '@aitbc/crypto';
import { matchRequestFromJson } from '@aitbc/pool';
import type {
  Bid,
  BidInput,
  BidRequirements,
  MarketMatch,
  MarketStats,
  Offer,
  OfferFilter,
  OfferInput,
} from './marketplace.js';
import { requirementsToJson } from './wire.js';

const AMOUNT_RE = /^(0|[1-9][0-9]{0,77})$/;

function bad(field: string, expected: string): AitbcError {
  return new AitbcError('COORD_BAD_REQUEST', `${field} must be ${expected}`, { details: { field } });
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'a JSON object');
  return body as Record<string, unknown>;
}

function only(o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw new AitbcError('COORD_BAD_REQUEST', `unknown field body.${k}`, { details: { field: `body.${k}` } });
  }
}

function amount(o: Record<string, unknown>, key: string): bigint {
  const v = o[key];
  if (typeof v !== 'string' || !AMOUNT_RE.test(v)) throw bad(`body.${key}`, 'a decimal string of base units');
  return BigInt(v);
}

function int(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(`body.${key}`, 'an integer');
  return v;
}

function strings(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(`body.${key}`, 'an array of strings');
  return v as string[];
}

/**
 * Parses `POST /v1/marketplace/offers`: `{job_kinds, models?, price_per_unit, slots, ttl_ms?}`.
 * @throws AitbcError `COORD_BAD_REQUEST` naming the field.
 *
 * @example
 * ```ts
 * import { offerInputFromJson } from '@aitbc/coordinator';
 * const input = offerInputFromJson({ job_kinds: ['wasm'], price_per_unit: '300', slots: 4 });
 * await market.placeOffer(minerId, input);
 * ```
 */
export function offerInputFromJson(body: unknown): OfferInput {
  const o = object(body);
  only(o, ['job_kinds', 'models', 'price_per_unit', 'slots', 'ttl_ms']);
  return {
    jobKinds: strings(o, 'job_kinds'),
    ...(o.models !== undefined ? { models: strings(o, 'models') } : {}),
    pricePerUnit: amount(o, 'price_per_unit'),
    slots: int(o, 'slots'),
    ...(o.ttl_ms !== undefined ? { ttlMs: int(o, 'ttl_ms') } : {}),
  };
}

/**
 * Parses `POST /v1/marketplace/bids`: `{job_kind, requirements?, max_price_per_unit, quantity, ttl_ms?}`;
 * requirements are the pool's (`min_vram_gb`, `min_gpus`, `min_ram_gb`, `min_cpu_cores`, `models`,
 * `regions`), without `job_kind` and `max_price_per_unit` (fields of the bid).
 * @throws AitbcError `COORD_BAD_REQUEST` (or `POOL_BAD_REQUEST` for a bad requirement) naming the field.
 *
 * @example
 * ```ts
 * import { bidInputFromJson } from '@aitbc/coordinator';
 * const input = bidInputFromJson({ job_kind: 'wasm', requirements: { min_vram_gb: 8 }, max_price_per_unit: '500', quantity: 2 });
 * await market.placeBid(clientAddress, input);
 * ```
 */
export function bidInputFromJson(body: unknown): BidInput {
  const o = object(body);
  only(o, ['job_kind', 'requirements', 'max_price_per_unit', 'quantity', 'ttl_ms']);
  if (typeof o.job_kind !== 'string') throw bad('body.job_kind', 'a string');
  let requirements: BidRequirements | undefined;
  if (o.requirements !== undefined) {
    const r = object(o.requirements);
    for (const k of ['job_kind', 'max_price_per_unit'])
      if (k in r) throw bad(`body.requirements.${k}`, `absent (it is body.${k})`);
    const { jobKind: _k, maxPricePerUnit: _p, ...rest } = matchRequestFromJson({ requirements: r }).requirements;
    requirements = rest;
  }
  return {
    jobKind: o.job_kind,
    maxPricePerUnit: amount(o, 'max_price_per_unit'),
    quantity: int(o, 'quantity'),
    ...(requirements !== undefined ? { requirements } : {}),
    ...(o.ttl_ms !== undefined ? { ttlMs: int(o, 'ttl_ms') } : {}),
  };
}

/**
 * Parses the query of `GET /v1/marketplace/offers`: `job_kind, miner_id, region, model, min_vram_gb,
 * max_price_per_unit` (all optional).
 *
 * @example
 * ```ts
 * import { offerFilterFromQuery } from '@aitbc/coordinator';
 * const filter = offerFilterFromQuery({ job_kind: 'wasm', max_price_per_unit: '400' }); // from req.query
 * const page = market.listOffers(filter);
 * ```
 */
export function offerFilterFromQuery(query: Record<string, string | undefined>): OfferFilter {
  const f: { -readonly [K in keyof OfferFilter]: OfferFilter[K] } = {};
  for (const [key, prop] of [
    ['job_kind', 'jobKind'],
    ['miner_id', 'minerId'],
    ['region', 'region'],
    ['model', 'model'],
  ] as const) {
    const v = query[key];
    if (v === undefined) continue;
    if (!/^[\x21-\x7e]{1,128}$/.test(v)) throw bad(key, 'a label of printable ASCII');
    f[prop] = v;
  }
  if (query.min_vram_gb !== undefined) {
    const n = Number(query.min_vram_gb);
    if (!(n >= 0 && n <= 16_384)) throw bad('min_vram_gb', 'a number in [0, 16384]');
    f.minVramGb = n;
  }
  if (query.max_price_per_unit !== undefined) {
    if (!AMOUNT_RE.test(query.max_price_per_unit)) throw bad('max_price_per_unit', 'a decimal string of base units');
    f.maxPricePerUnit = BigInt(query.max_price_per_unit);
  }
  return f;
}

/**
 * The public JSON form of an offer.
 *
 * @example
 * ```ts
 * import { offerToJson } from '@aitbc/coordinator';
 * const items = market.listOffers({ jobKind: 'wasm' }).items.map(offerToJson); // price_per_unit as a decimal string
 * ```
 */
export function offerToJson(o: Offer): Record<string, unknown> {
  return {
    offer_id: o.id,
    miner_id: o.minerId,
    job_kinds: o.jobKinds,
    models: o.models,
    gpus: o.gpus.map((g) => ({ model: g.model, vram_gb: g.vramGb })),
    cpu_cores: o.cpuCores,
    ram_gb: o.ramGb,
    region: o.region,
    price_per_unit: o.pricePerUnit.toString(),
    slots: o.slots,
    available: o.available,
    state: o.state,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    expires_at: o.expiresAt,
  };
}

/**
 * The public JSON form of a bid: no client address, no usage, no matches.
 *
 * @example
 * ```ts
 * import { bidToPublicJson } from '@aitbc/coordinator';
 * const items = market.listBids({ jobKind: 'wasm' }).items.map(bidToPublicJson); // no client address
 * ```
 */
export function bidToPublicJson(b: Bid): Record<string, unknown> {
  return {
    bid_id: b.id,
    job_kind: b.jobKind,
    requirements: requirementsToJson(b.requirements),
    max_price_per_unit: b.maxPricePerUnit.toString(),
    quantity: b.quantity,
    filled: b.filled,
    state: b.state,
    created_at: b.createdAt,
    expires_at: b.expiresAt,
  };
}

/**
 * The JSON form of a match.
 *
 * @example
 * ```ts
 * import { matchToJson } from '@aitbc/coordinator';
 * market.onMatch((m) => broadcast(JSON.stringify(matchToJson(m))));
 * ```
 */
export function matchToJson(m: MarketMatch): Record<string, unknown> {
  return {
    match_id: m.id,
    bid_id: m.bidId,
    offer_id: m.offerId,
    miner_id: m.minerId,
    job_kind: m.jobKind,
    price_per_unit: m.pricePerUnit.toString(),
    quantity: m.quantity,
    used: m.used,
    score: m.score,
    created_at: m.createdAt,
  };
}

/**
 * The owner's JSON form of a bid: the public fields plus client, units used and matches.
 *
 * @example
 * ```ts
 * import { bidToJson } from '@aitbc/coordinator';
 * const bid = await market.getBid(bidId);
 * if (bid?.client === caller) reply.send(bidToJson(bid, await market.matchesOf(bid)));
 * ```
 */
export function bidToJson(b: Bid, matches: readonly MarketMatch[]): Record<string, unknown> {
  return {
    ...bidToPublicJson(b),
    client: b.client,
    used: b.used,
    updated_at: b.updatedAt,
    matches: matches.map(matchToJson),
  };
}

/**
 * The JSON form of the market statistics (amounts as decimal strings).
 *
 * @example
 * ```ts
 * import { marketStatsToJson } from '@aitbc/coordinator';
 * reply.send(marketStatsToJson(market.stats())); // volume and prices as decimal strings
 * ```
 */
export function marketStatsToJson(s: MarketStats): Record<string, unknown> {
  return {
    offers_open: s.offersOpen,
    bids_open: s.bidsOpen,
    matches: s.matches,
    units_matched: s.unitsMatched,
    volume: s.volume.toString(),
    by_kind: Object.fromEntries(
      Object.entries(s.byKind).map(([kind, k]) => [
        kind,
        {
          offers_open: k.offersOpen,
          bids_open: k.bidsOpen,
          matches: k.matches,
          units_matched: k.unitsMatched,
          volume: k.volume.toString(),
          median_match_price_per_unit: k.medianMatchPrice?.toString() ?? null,
          median_offer_price_per_unit: k.medianOfferPrice?.toString() ?? null,
        },
      ]),
    ),
  };
}
