import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { createPoolHub, hashApiKey } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { LevelKVStore } from '@aitbc/storage-level';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoordinatorServer,
  createCoordinatorServer,
  createReceiptHandler,
  JobEngine,
  Marketplace,
  type MarketplaceOptions,
} from '../src/index.js';
import { manualClock } from './fixtures.js';

const CHAIN = 'aitbc-devnet';
const KEYS = {
  client: 'client-key',
  client2: 'client2-key',
  miner0: 'miner0-key',
  miner1: 'miner1-key',
  admin: 'admin-key',
};

interface Rig {
  url: string;
  server: CoordinatorServer;
  engine: JobEngine;
  market: Marketplace;
  store: LevelKVStore;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Identities shared across a restart: the same keys and addresses come back. */
function identities() {
  const client = generateKeyPair();
  const client2 = generateKeyPair();
  return {
    coordinator: generateKeyPair(),
    client,
    clientAddress: addressFromPublicKey(client.publicKey),
    client2Address: addressFromPublicKey(client2.publicKey),
    miners: [generateKeyPair(), generateKeyPair()] as const,
  };
}

/** A coordinator with a marketplace on a real level database, served on 127.0.0.1. */
async function startRig(
  ids: ReturnType<typeof identities>,
  dir: string,
  clock: ReturnType<typeof manualClock>,
  marketOptions: Partial<MarketplaceOptions> = {},
): Promise<Rig> {
  const store = await LevelKVStore.open({ path: dir });
  const hub = createPoolHub({ store });
  await hub.open();
  const market = new Marketplace({ store, hub, now: clock.now, sweepIntervalMs: 3_600_000, ...marketOptions });
  await market.start();
  const engine = new JobEngine({
    store,
    hub,
    marketplace: market,
    receipts: createReceiptHandler({ chainId: CHAIN, coordinatorSeed: ids.coordinator.seed }),
  });
  await engine.start();
  const server = createCoordinatorServer({
    engine,
    hub,
    marketplace: market,
    chainId: CHAIN,
    coordinatorId: 'coord-test',
    port: 0,
    logLevel: false,
    apiKeys: [
      { role: 'client', subject: ids.clientAddress, hash: hashApiKey(KEYS.client) },
      { role: 'client', subject: ids.client2Address, hash: hashApiKey(KEYS.client2) },
      { role: 'miner', subject: 'miner-0', hash: hashApiKey(KEYS.miner0) },
      { role: 'miner', subject: 'miner-1', hash: hashApiKey(KEYS.miner1) },
      { role: 'admin', hash: hashApiKey(KEYS.admin) },
    ],
  });
  const { url } = await server.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    await engine.stop();
    await market.stop();
    await store.close();
  };
  cleanups.push(stop);
  return { url, server, engine, market, store, stop } as Rig & { stop: () => Promise<void> };
}

function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-market-'));
  cleanups.unshift(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function client(url: string) {
  return async (
    method: string,
    path: string,
    opts: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers['x-api-key'] = opts.key;
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: payload ?? null });
    const text = await res.text();
    const json =
      text.length > 0 && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    return { status: res.status, text, json };
  };
}

function registerBody(i: number, miner: KeyPair, overrides: Record<string, unknown> = {}) {
  return {
    miner_id: `miner-${i}`,
    address: addressFromPublicKey(miner.publicKey),
    public_key: bytesToHex(miner.publicKey),
    capabilities: {
      job_kinds: ['hash', 'llm.generate'],
      models: ['llama3:8b', 'mistral'],
      gpus: [{ model: 'A100', vram_gb: 80 }],
      cpu_cores: 16,
      ram_gb: 64,
      region: 'eu-west',
    },
    price_per_unit: '100',
    max_concurrency: 4,
    ...overrides,
  };
}

function receiptFor(ids: ReturnType<typeof identities>, jobId: string, i: 0 | 1, unitPrice: bigint): string {
  const miner = ids.miners[i];
  const now = Date.now();
  return serializeReceipt(
    signReceipt(
      createReceipt({
        jobId,
        provider: addressFromPublicKey(miner.publicKey),
        client: ids.clientAddress,
        units: 1n,
        unitType: 'job',
        unitPrice,
        startedAt: now - 10,
        completedAt: now,
        chainId: CHAIN,
      }),
      miner.seed,
    ),
  );
}

const offer = (over: Record<string, unknown> = {}) => ({
  job_kinds: ['llm.generate'],
  price_per_unit: '80',
  slots: 3,
  ...over,
});
const bid = (over: Record<string, unknown> = {}) => ({
  job_kind: 'llm.generate',
  requirements: { min_vram_gb: 40, models: ['llama3:8b'] },
  max_price_per_unit: '100',
  quantity: 2,
  ...over,
});

describe('marketplace over HTTP (real server on 127.0.0.1, LevelKVStore)', () => {
  it('matches a bid with the best offer at the offer’s price and runs a job on the matched miner', async () => {
    const ids = identities();
    const clock = manualClock();
    const rig = await startRig(ids, tmpDir(), clock);
    const call = client(rig.url);
    expect(
      (await call('POST', '/v1/miners/register', { key: KEYS.miner0, body: registerBody(0, ids.miners[0]) })).status,
    ).toBe(201);
    expect(
      (await call('POST', '/v1/miners/register', { key: KEYS.miner1, body: registerBody(1, ids.miners[1]) })).status,
    ).toBe(201);

    // Two offers; the cheaper one ranks first (same hardware, stats and load).
    const dear = await call('POST', '/v1/marketplace/offers', {
      key: KEYS.miner0,
      body: offer({ price_per_unit: '95' }),
    });
    expect(dear.status).toBe(201);
    expect(dear.json.offer).toMatchObject({
      miner_id: 'miner-0',
      job_kinds: ['llm.generate'],
      models: ['llama3:8b', 'mistral'],
      gpus: [{ model: 'A100', vram_gb: 80 }],
      region: 'eu-west',
      price_per_unit: '95',
      slots: 3,
      available: 3,
      state: 'open',
    });
    expect(dear.json.matches).toEqual([]);
    const cheap = await call('POST', '/v1/marketplace/offers', {
      key: KEYS.miner1,
      body: offer({ price_per_unit: '60', slots: 1 }),
    });
    clock.advance(1);
    const listed = await call('GET', '/v1/marketplace/offers?job_kind=llm.generate');
    expect(listed.json.items.map((o: { offer_id: string }) => o.offer_id)).toEqual([
      dear.json.offer.offer_id,
      cheap.json.offer.offer_id,
    ]);
    expect(listed.json.next_cursor).toBeNull();

    // A bid for 2 units: 1 from the cheap offer (all it has), 1 from the other, each at its own price.
    const placed = await call('POST', '/v1/marketplace/bids', {
      key: KEYS.client,
      body: bid(),
      headers: { 'idempotency-key': 'bid-1' },
    });
    expect(placed.status).toBe(201);
    const bidId = placed.json.bid.bid_id as string;
    expect(placed.json.bid).toMatchObject({
      state: 'filled',
      quantity: 2,
      filled: 2,
      used: 0,
      client: ids.clientAddress,
    });
    expect(
      placed.json.matches.map((m: { miner_id: string; price_per_unit: string; quantity: number }) => [
        m.miner_id,
        m.price_per_unit,
        m.quantity,
      ]),
    ).toEqual([
      ['miner-1', '60', 1],
      ['miner-0', '95', 1],
    ]);
    expect(placed.json.matches[0].score).toBeGreaterThan(placed.json.matches[1].score);
    const again = await call('POST', '/v1/marketplace/bids', {
      key: KEYS.client,
      body: bid(),
      headers: { 'idempotency-key': 'bid-1' },
    });
    expect(again.json.bid.bid_id).toBe(bidId);
    const conflict = await call('POST', '/v1/marketplace/bids', {
      key: KEYS.client,
      body: bid({ quantity: 3 }),
      headers: { 'idempotency-key': 'bid-1' },
    });
    expect(conflict.json.error.code).toBe('COORD_IDEMPOTENCY_CONFLICT');

    // Offers were taken from; the cheap one is exhausted and no longer listed.
    expect((await call('GET', `/v1/marketplace/offers/${cheap.json.offer.offer_id}`)).json).toMatchObject({
      available: 0,
      state: 'exhausted',
    });
    expect((await call('GET', '/v1/marketplace/offers')).json.items).toHaveLength(1);
    const stats = (await call('GET', '/v1/marketplace/stats')).json;
    expect(stats).toMatchObject({ offers_open: 1, bids_open: 0, matches: 2, units_matched: 2, volume: '155' });
    expect(stats.by_kind['llm.generate']).toMatchObject({
      matches: 2,
      median_match_price_per_unit: '60',
      median_offer_price_per_unit: '95',
    });

    // A filled bid is not an open listing; the owner sees the matches, others may not.
    expect((await call('GET', '/v1/marketplace/bids')).json.items).toEqual([]);
    expect((await call('GET', `/v1/marketplace/bids/${bidId}`, { key: KEYS.client })).json.matches).toHaveLength(2);
    expect((await call('GET', `/v1/marketplace/bids/${bidId}`, { key: KEYS.client2 })).json.error.code).toBe(
      'COORD_MARKET_NOT_OWNER',
    );

    // A job with the bid goes to the matched miner (miner-1 first: the oldest match with units left),
    // even though miner-0 is polling too.
    const poll0 = call('POST', '/v1/miners/poll', { key: KEYS.miner0, body: { max_wait_seconds: 0.5 } });
    const poll1 = call('POST', '/v1/miners/poll', { key: KEYS.miner1, body: { max_wait_seconds: 5 } });
    const job = await call('POST', '/v1/jobs', {
      key: KEYS.client,
      body: { kind: 'llm.generate', input: { prompt: 'hi' }, max_price: '1000', bid_id: bidId },
    });
    expect(job.status).toBe(201);
    expect(job.json.market).toMatchObject({ bid_id: bidId, miner_id: 'miner-1', price_per_unit: '60' });
    const assignment = await poll1;
    expect(assignment.json).toMatchObject({ job_id: job.json.job_id, market: { bid_id: bidId, price_per_unit: '60' } });
    expect((await poll0).status).toBe(204);
    // The receipt may not charge more than the matched price per unit.
    const over = await call('POST', `/v1/miners/${job.json.job_id}/result`, {
      key: KEYS.miner1,
      body: { output: { text: 'hello' }, receipt: receiptFor(ids, job.json.job_id, 1, 61n) },
    });
    expect(over.status).toBe(422);
    expect(over.json.error).toMatchObject({ code: 'COORD_RECEIPT_INVALID', details: { field: 'unit_price' } });
    const done = await call('POST', `/v1/miners/${job.json.job_id}/result`, {
      key: KEYS.miner1,
      body: { output: { text: 'hello' }, receipt: receiptFor(ids, job.json.job_id, 1, 60n) },
    });
    expect(done.json.state).toBe('COMPLETED');

    // Units are used up one per job; the bid has 2.
    const job2 = await call('POST', '/v1/jobs', {
      key: KEYS.client,
      body: { kind: 'llm.generate', input: 2, max_price: '1000', bid_id: bidId },
    });
    expect(job2.json.market.miner_id).toBe('miner-0');
    const job3 = await call('POST', '/v1/jobs', {
      key: KEYS.client,
      body: { kind: 'llm.generate', input: 3, max_price: '1000', bid_id: bidId },
    });
    expect(job3.status).toBe(409);
    expect(job3.json.error.code).toBe('COORD_MARKET_NO_UNITS');
    const wrongKind = await call('POST', '/v1/jobs', {
      key: KEYS.client,
      body: { kind: 'hash', input: 3, max_price: '1', bid_id: bidId },
    });
    expect(wrongKind.json.error.code).toBe('COORD_MARKET_BID_MISMATCH');
    const notMine = await call('POST', '/v1/jobs', {
      key: KEYS.client2,
      body: { kind: 'llm.generate', input: 3, max_price: '1', bid_id: bidId },
    });
    expect(notMine.json.error.code).toBe('COORD_MARKET_NOT_OWNER');

    const metrics = (await call('GET', '/metrics')).text;
    expect(metrics).toContain('coordinator_market_matches_total 2');
    expect(metrics).toContain('coordinator_market_units_matched_total 2');
    expect(metrics).toContain('coordinator_market_offers_open 1');
  });

  it('fills open bids with a new offer (oldest first), never above the bid’s price or outside its requirements', async () => {
    const ids = identities();
    const clock = manualClock();
    const rig = await startRig(ids, tmpDir(), clock);
    const call = client(rig.url);
    await call('POST', '/v1/miners/register', { key: KEYS.miner0, body: registerBody(0, ids.miners[0]) });
    const first = (await call('POST', '/v1/marketplace/bids', { key: KEYS.client, body: bid({ quantity: 2 }) })).json;
    clock.advance(5);
    const second = (await call('POST', '/v1/marketplace/bids', { key: KEYS.client2, body: bid({ quantity: 2 }) })).json;
    const tooCheap = (
      await call('POST', '/v1/marketplace/bids', { key: KEYS.client2, body: bid({ max_price_per_unit: '10' }) })
    ).json;
    const tooBig = (
      await call('POST', '/v1/marketplace/bids', {
        key: KEYS.client2,
        body: bid({ requirements: { min_vram_gb: 100 } }),
      })
    ).json;
    expect(first.matches).toEqual([]);
    const publicBids = (await call('GET', '/v1/marketplace/bids?job_kind=llm.generate')).json;
    expect(publicBids.items).toHaveLength(4);
    for (const b of publicBids.items) {
      expect(b).not.toHaveProperty('client');
      expect(b).not.toHaveProperty('matches');
    }

    const placed = await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer({ slots: 3 }) });
    expect(placed.json.matches.map((m: { bid_id: string; quantity: number }) => [m.bid_id, m.quantity])).toEqual([
      [first.bid.bid_id, 2],
      [second.bid.bid_id, 1],
    ]);
    expect(placed.json.offer).toMatchObject({ available: 0, state: 'exhausted' });
    const open = (await call('GET', '/v1/marketplace/bids')).json.items.map((b: { bid_id: string }) => b.bid_id);
    expect(open).toEqual([second.bid.bid_id, tooCheap.bid.bid_id, tooBig.bid.bid_id]);

    // Canceling a bid gives its unused units back to the offer, which reopens.
    const canceled = await call('DELETE', `/v1/marketplace/bids/${first.bid.bid_id}`, { key: KEYS.client });
    expect(canceled.json).toMatchObject({ state: 'canceled', used: 0 });
    expect((await call('GET', `/v1/marketplace/offers/${placed.json.offer.offer_id}`)).json).toMatchObject({
      available: 2,
      state: 'open',
    });
    // The sweep re-matches open bids with it.
    await rig.market.sweep();
    expect((await call('GET', `/v1/marketplace/bids/${second.bid.bid_id}`, { key: KEYS.client2 })).json).toMatchObject({
      state: 'filled',
      filled: 2,
    });
  });

  it('refuses bad requests with stable codes and keeps serving', async () => {
    const ids = identities();
    const clock = manualClock();
    const rig = await startRig(ids, tmpDir(), clock, { maxOffersPerMiner: 2, maxBidsPerClient: 1 });
    const call = client(rig.url);
    await call('POST', '/v1/miners/register', { key: KEYS.miner0, body: registerBody(0, ids.miners[0]) });
    await call('POST', '/v1/miners/register', { key: KEYS.miner1, body: registerBody(1, ids.miners[1]) });
    const cases: [string, string, string, { key?: string; body?: unknown; raw?: string }, number, string][] = [
      [
        'malformed JSON',
        'POST',
        '/v1/marketplace/offers',
        { key: KEYS.miner0, raw: '{"job_kinds":' },
        400,
        'COORD_BAD_JSON',
      ],
      [
        'a numeric price',
        'POST',
        '/v1/marketplace/offers',
        { key: KEYS.miner0, body: offer({ price_per_unit: 80 }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'a negative price',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.client, body: bid({ max_price_per_unit: '-1' }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'zero slots',
        'POST',
        '/v1/marketplace/offers',
        { key: KEYS.miner0, body: offer({ slots: 0 }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'an unregistered kind',
        'POST',
        '/v1/marketplace/offers',
        { key: KEYS.miner0, body: offer({ job_kinds: ['wasm'] }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'an unknown field',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.client, body: bid({ priority: 1 }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'a bad requirement',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.client, body: bid({ requirements: { min_vram_gb: 'big' } }) },
        400,
        'POOL_BAD_REQUEST',
      ],
      [
        'a ttl too short',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.client, body: bid({ ttl_ms: 5 }) },
        400,
        'COORD_BAD_REQUEST',
      ],
      [
        'an oversized body',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.client, body: bid({ pad: 'x'.repeat(20_000) }) },
        413,
        'COORD_BODY_TOO_LARGE',
      ],
      ['no credentials', 'POST', '/v1/marketplace/bids', { body: bid() }, 401, 'COORD_UNAUTHORIZED'],
      [
        'a client placing an offer',
        'POST',
        '/v1/marketplace/offers',
        { key: KEYS.client, body: offer() },
        403,
        'COORD_FORBIDDEN',
      ],
      [
        'a miner placing a bid',
        'POST',
        '/v1/marketplace/bids',
        { key: KEYS.miner0, body: bid() },
        403,
        'COORD_FORBIDDEN',
      ],
      [
        'an unknown offer',
        'GET',
        '/v1/marketplace/offers/off_0000000000000000000000000000',
        {},
        404,
        'COORD_MARKET_UNKNOWN_OFFER',
      ],
      [
        'an unknown bid',
        'DELETE',
        '/v1/marketplace/bids/bid_0000000000000000000000000000',
        { key: KEYS.client },
        404,
        'COORD_MARKET_UNKNOWN_BID',
      ],
      ['a bad cursor', 'GET', '/v1/marketplace/offers?cursor=nope', {}, 400, 'COORD_BAD_CURSOR'],
      ['a bad limit', 'GET', '/v1/marketplace/bids?limit=0', {}, 400, 'COORD_BAD_REQUEST'],
      ['a bad filter', 'GET', '/v1/marketplace/offers?min_vram_gb=lots', {}, 400, 'COORD_BAD_REQUEST'],
      [
        'a bid id of the wrong form',
        'POST',
        '/v1/jobs',
        { key: KEYS.client, body: { kind: 'hash', input: 1, max_price: '1', bid_id: 'x' } },
        400,
        'COORD_BAD_REQUEST',
      ],
    ];
    for (const [name, method, path, opts, status, code] of cases) {
      const res = await call(method, path, opts);
      expect([name, res.status, res.json?.error?.code]).toEqual([name, status, code]);
    }

    // Ownership and limits.
    const o1 = (await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer() })).json.offer;
    await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer() });
    const third = await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer() });
    expect([third.status, third.json.error.code]).toEqual([429, 'COORD_MARKET_LIMIT']);
    const notOwner = await call('DELETE', `/v1/marketplace/offers/${o1.offer_id}`, { key: KEYS.miner1 });
    expect([notOwner.status, notOwner.json.error.code]).toEqual([403, 'COORD_MARKET_NOT_OWNER']);
    expect((await call('DELETE', `/v1/marketplace/offers/${o1.offer_id}`, { key: KEYS.miner0 })).json.state).toBe(
      'withdrawn',
    );
    const twice = await call('DELETE', `/v1/marketplace/offers/${o1.offer_id}`, { key: KEYS.miner0 });
    expect([twice.status, twice.json.error.code]).toEqual([409, 'COORD_MARKET_CLOSED']);
    const b1 = (
      await call('POST', '/v1/marketplace/bids', {
        key: KEYS.client,
        body: bid({ max_price_per_unit: '1', ttl_ms: 2_000 }),
      })
    ).json.bid;
    expect((await call('POST', '/v1/marketplace/bids', { key: KEYS.client, body: bid() })).json.error.code).toBe(
      'COORD_MARKET_LIMIT',
    );
    expect((await call('DELETE', `/v1/marketplace/bids/${b1.bid_id}`, { key: KEYS.client2 })).json.error.code).toBe(
      'COORD_MARKET_NOT_OWNER',
    );

    // Expiry: after its ttl the bid is closed (also before the sweep notices) and takes no jobs.
    clock.advance(2_000);
    const late = await call('POST', '/v1/jobs', {
      key: KEYS.client,
      body: { kind: 'llm.generate', input: 1, max_price: '1', bid_id: b1.bid_id },
    });
    expect([late.status, late.json.error.code]).toEqual([409, 'COORD_MARKET_CLOSED']);
    await rig.market.sweep();
    expect((await call('GET', `/v1/marketplace/bids/${b1.bid_id}`, { key: KEYS.client })).json.state).toBe('expired');
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('pages listings with a cursor and filters offers', async () => {
    const ids = identities();
    const clock = manualClock();
    const rig = await startRig(ids, tmpDir(), clock);
    const call = client(rig.url);
    await call('POST', '/v1/miners/register', { key: KEYS.miner0, body: registerBody(0, ids.miners[0]) });
    const made: string[] = [];
    for (const price of ['10', '20', '30', '40', '50']) {
      clock.advance(1);
      made.push(
        (await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer({ price_per_unit: price }) }))
          .json.offer.offer_id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const q: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
      const page = (await call('GET', `/v1/marketplace/offers${q}`)).json;
      seen.push(...page.items.map((o: { offer_id: string }) => o.offer_id));
      cursor = page.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(made);
    const cheap = (
      await call('GET', '/v1/marketplace/offers?max_price_per_unit=25&model=llama3:8b&region=eu-west&min_vram_gb=80')
    ).json;
    expect(cheap.items.map((o: { price_per_unit: string }) => o.price_per_unit)).toEqual(['10', '20']);
    expect((await call('GET', '/v1/marketplace/offers?job_kind=hash')).json.items).toEqual([]);
    expect((await call('GET', '/v1/marketplace/offers?miner_id=miner-1')).json.items).toEqual([]);
    // Concurrent bids with one Idempotency-Key make one bid.
    const same = await Promise.all(
      [1, 2, 3].map(() =>
        call('POST', '/v1/marketplace/bids', {
          key: KEYS.client,
          body: bid({ max_price_per_unit: '1' }),
          headers: { 'idempotency-key': 'once' },
        }),
      ),
    );
    expect(new Set(same.map((r) => r.json.bid.bid_id)).size).toBe(1);
    expect((await call('GET', '/v1/marketplace/bids')).json.items).toHaveLength(1);
  });

  it('keeps offers, bids, matches and figures across a restart on the same level database', async () => {
    const ids = identities();
    const clock = manualClock();
    const dir = tmpDir();
    const first = (await startRig(ids, dir, clock)) as Rig & { stop: () => Promise<void> };
    let call = client(first.url);
    await call('POST', '/v1/miners/register', { key: KEYS.miner0, body: registerBody(0, ids.miners[0]) });
    const o = (await call('POST', '/v1/marketplace/offers', { key: KEYS.miner0, body: offer({ slots: 5 }) })).json
      .offer;
    const open = (
      await call('POST', '/v1/marketplace/bids', { key: KEYS.client2, body: bid({ max_price_per_unit: '5' }) })
    ).json.bid;
    const b = (
      await call('POST', '/v1/marketplace/bids', {
        key: KEYS.client,
        body: bid({ quantity: 2 }),
        headers: { 'idempotency-key': 'restart-bid' },
      })
    ).json.bid;
    const job = (
      await call('POST', '/v1/jobs', {
        key: KEYS.client,
        body: { kind: 'llm.generate', input: 1, max_price: '100', bid_id: b.bid_id },
      })
    ).json;
    expect(job.market.bid_id).toBe(b.bid_id);
    // A bid that a later offer fills is persisted with its match too.
    const waiting = (
      await call('POST', '/v1/marketplace/bids', {
        key: KEYS.client2,
        body: { job_kind: 'hash', max_price_per_unit: '50', quantity: 1 },
      })
    ).json.bid;
    expect(waiting.state).toBe('open');
    const hashOffer = (
      await call('POST', '/v1/marketplace/offers', {
        key: KEYS.miner0,
        body: { job_kinds: ['hash'], price_per_unit: '30', slots: 1 },
      })
    ).json;
    expect(hashOffer.matches).toHaveLength(1);
    await first.stop();

    const second = await startRig(ids, dir, clock);
    call = client(second.url);
    expect((await call('GET', `/v1/marketplace/offers/${o.offer_id}`)).json).toMatchObject({
      available: 3,
      state: 'open',
    });
    expect((await call('GET', '/v1/marketplace/bids')).json.items.map((x: { bid_id: string }) => x.bid_id)).toEqual([
      open.bid_id,
    ]);
    const restored = (await call('GET', `/v1/marketplace/bids/${b.bid_id}`, { key: KEYS.client })).json;
    expect(restored).toMatchObject({ state: 'filled', filled: 2, used: 1 });
    expect(restored.matches).toMatchObject([{ offer_id: o.offer_id, quantity: 2, used: 1, price_per_unit: '80' }]);
    const filledLater = (await call('GET', `/v1/marketplace/bids/${waiting.bid_id}`, { key: KEYS.client2 })).json;
    expect(filledLater).toMatchObject({ state: 'filled', filled: 1 });
    expect(filledLater.matches).toMatchObject([{ offer_id: hashOffer.offer.offer_id, price_per_unit: '30' }]);
    expect((await call('GET', '/v1/marketplace/stats')).json).toMatchObject({
      matches: 2,
      units_matched: 3,
      volume: '190',
      offers_open: 1,
      bids_open: 1,
    });
    // The idempotency key still answers with the same bid, and the last unit is still usable once.
    const again = await call('POST', '/v1/marketplace/bids', {
      key: KEYS.client,
      body: bid({ quantity: 2 }),
      headers: { 'idempotency-key': 'restart-bid' },
    });
    expect(again.json.bid.bid_id).toBe(b.bid_id);
    expect((await call('GET', `/v1/jobs/${job.job_id}`, { key: KEYS.client })).json.market.offer_id).toBe(o.offer_id);
    const body = { kind: 'llm.generate', input: 2, max_price: '100', bid_id: b.bid_id };
    expect((await call('POST', '/v1/jobs', { key: KEYS.client, body })).status).toBe(201);
    expect((await call('POST', '/v1/jobs', { key: KEYS.client, body })).json.error.code).toBe('COORD_MARKET_NO_UNITS');
  });
});

describe('jobs bought through a bid (engine)', () => {
  it('wait for the matched miner, then go to any eligible miner after marketPreferenceMs', async () => {
    const clock = manualClock();
    const dir = tmpDir();
    const store = await LevelKVStore.open({ path: dir });
    cleanups.push(async () => store.close());
    const hub = createPoolHub({ now: clock.now, heartbeatTimeoutMs: 3_600_000 });
    const market = new Marketplace({ store, hub, now: clock.now, sweepIntervalMs: 3_600_000 });
    await market.start();
    cleanups.push(async () => market.stop());
    const engine = new JobEngine({
      store,
      hub,
      marketplace: market,
      now: clock.now,
      sweepIntervalMs: 3_600_000,
      marketPreferenceMs: 5_000,
      receipts: { verifyAndAttest: (job) => ({ receiptId: `r-${job.id}`, attestedJson: '{}' }) },
    });
    await engine.start();
    cleanups.push(async () => engine.stop());
    for (const [i, keys] of [generateKeyPair(), generateKeyPair()].entries()) {
      await hub.registry.register({
        id: `m${i}`,
        address: addressFromPublicKey(keys.publicKey),
        publicKey: keys.publicKey,
        pricePerUnit: 50n,
        maxConcurrency: 1,
        capabilities: { gpus: [], cpuCores: 4, ramGb: 8, models: [], jobKinds: ['hash'], region: 'local' },
      });
    }
    await market.placeOffer('m0', { jobKinds: ['hash'], pricePerUnit: 40n, slots: 2 });
    const clientAddress = addressFromPublicKey(generateKeyPair().publicKey);
    const { bid } = await market.placeBid(clientAddress, { jobKind: 'hash', maxPricePerUnit: 45n, quantity: 2 });
    expect(bid.state).toBe('filled');

    // Only m1 polls: the job waits for m0 while the preference lasts…
    const poll1 = engine.poll('m1', { maxWaitMs: 60_000 });
    const job = await engine.submit(clientAddress, { kind: 'hash', input: 1, maxPrice: 100n, bidId: bid.id });
    expect(job.market).toMatchObject({ bidId: bid.id, minerId: 'm0', pricePerUnit: 40n });
    await engine.sweep(); // dispatch decides synchronously: an assignment would show at once
    expect((await engine.get(job.id))!.state).toBe('QUEUED');
    // …then any eligible miner may take it (still under the matched terms).
    clock.advance(5_000);
    await engine.sweep();
    const assignment = await poll1;
    expect(assignment).toMatchObject({ jobId: job.id, market: { minerId: 'm0', pricePerUnit: 40n } });
    // The matched miner gets the next one at once when it is waiting.
    const poll0 = engine.poll('m0', { maxWaitMs: 60_000 });
    const second = await engine.submit(clientAddress, { kind: 'hash', input: 2, maxPrice: 100n, bidId: bid.id });
    expect((await poll0)?.jobId).toBe(second.id);
    // A coordinator without a marketplace refuses bid ids.
    const plain = new JobEngine({
      store,
      hub,
      now: clock.now,
      sweepIntervalMs: 3_600_000,
      receipts: { verifyAndAttest: () => ({ receiptId: 'r', attestedJson: '{}' }) },
    });
    await plain.start();
    await expect(
      plain.submit(clientAddress, { kind: 'hash', input: 3, maxPrice: 1n, bidId: bid.id }),
    ).rejects.toMatchObject({ code: 'COORD_BAD_REQUEST', details: { field: 'bid_id' } });
    await plain.stop();
  });
});
