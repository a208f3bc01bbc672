import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { type CoordinatorServices, type DevnetOfOne, startCoordinatorServices, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import {
  type AitbcClient,
  ApiError,
  type CoordinatorJob,
  createClient,
  createLocalSigner,
  type JobProgress,
  type Receipt,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-sdk-market-'));
const PRICE = 10n ** 18n;
const keys = { client: 'client-key', miner: 'miner-key', admin: 'admin-key', poolAdmin: 'pool-admin-key' };
const miner = generateKeyPair();
const minerAddress = addressFromPublicKey(miner.publicKey);

let node: DevnetOfOne;
let services: CoordinatorServices;
let client: AitbcClient;
let minerClient: AitbcClient;
let stopMiner = false;
let minerLoop: Promise<void>;

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
  services = await startCoordinatorServices({
    dataDir: join(dir, 'market-services'),
    nodeRpcUrl: node.rpcUrl,
    chainId: node.chainId,
    coordinatorSeed: node.coordinator.seed,
    coordinatorId: 'coord-sdk',
    coordinator: {
      port: 0,
      apiKeys: [
        { role: 'client', subject: node.faucet.address, hash: hashApiKey(keys.client) },
        { role: 'miner', subject: 'miner-1', hash: hashApiKey(keys.miner) },
        { role: 'admin', hash: hashApiKey(keys.admin) },
      ],
    },
    pool: { port: 0, apiKeys: [{ role: 'admin', hash: hashApiKey(keys.poolAdmin) }] },
    settler: { intervalMs: 100 },
    logLevel: false,
  });
  const { coordinatorUrl } = services;
  const poolUrl = services.poolUrl!;

  client = createClient({
    node: node.rpcUrl,
    coordinator: coordinatorUrl,
    pool: { url: poolUrl, apiKey: keys.poolAdmin },
    apiKey: keys.client,
    coordinatorAddress: node.coordinator.address,
    trust: { coordinatorKeys: [publicKeyFromSeed(node.coordinator.seed)] },
    retry: { baseDelayMs: 5 },
  });
  minerClient = createClient({ coordinator: coordinatorUrl, apiKey: keys.miner });
  const minerNode = createClient({ node: node.rpcUrl }).node;
  await minerClient.coordinator.miners.register({
    miner_id: 'miner-1',
    address: minerAddress,
    public_key: bytesToHex(miner.publicKey),
    capabilities: { job_kinds: ['hash'], cpu_cores: 2, ram_gb: 4 },
    price_per_unit: PRICE.toString(),
    max_concurrency: 1,
  });
  // The miner: long-polls through the SDK, fails jobs that ask for it, else works only once the
  // client's escrow is locked on chain (the coordinator's settler gives up on a job completed
  // before its escrow exists), then signs a receipt.
  minerLoop = (async () => {
    while (!stopMiner) {
      const a = await minerClient.coordinator.miners.poll({ maxWaitSeconds: 0.2 }).catch(() => null);
      if (a === null) continue;
      if ((a.input as { fail?: boolean }).fail === true) {
        await minerClient.coordinator.miners.fail(a.job_id, 'asked to fail');
        continue;
      }
      const paid = await until(
        async () => ((await minerNode.escrow(a.job_id).catch(() => undefined))?.status === 'locked' ? true : undefined),
        10_000,
      ).catch(() => false);
      if (!paid) {
        await minerClient.coordinator.miners.fail(a.job_id, 'no escrow');
        continue;
      }
      const receipt = serializeReceipt(
        signReceipt(
          createReceipt({
            jobId: a.job_id,
            provider: minerAddress,
            client: a.client,
            units: 1n,
            unitType: 'job',
            unitPrice: PRICE,
            startedAt: Date.now() - 5,
            completedAt: Date.now(),
            chainId: node.chainId,
          }),
          miner.seed,
        ),
      );
      await minerClient.coordinator.miners.submitResult(a.job_id, { output: { echo: a.input }, receipt });
    }
  })();
});

afterAll(async () => {
  stopMiner = true;
  await minerLoop;
  await services?.stop();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jobs.run: escrow → submit → wait → verified receipt (real node, coordinator, pool hub, settler)', () => {
  it('runs a paid job end to end with progress events, and the miner is paid on chain', async () => {
    const events: JobProgress['type'][] = [];
    const states: string[] = [];
    const maxPrice = 3n * PRICE;
    const run = await client.jobs.run({
      kind: 'hash',
      input: { data: 'aGk' },
      maxPrice,
      wallet: createLocalSigner(node.faucet.seed),
      onProgress: (e) => {
        events.push(e.type);
        if (e.type === 'state') states.push(e.job.state);
      },
    });
    expect(run.output).toEqual({ echo: { data: 'aGk' } });
    expect(run.job.state).toBe('COMPLETED');
    expect(run.verification.ok).toBe(true);
    expect(run.receipt).toMatchObject({ job_id: run.job.job_id, provider: minerAddress, client: node.faucet.address });
    expect(run.escrowTxId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(events.slice(0, 3)).toEqual(['submitted', 'escrow_submitted', 'escrow_locked']);
    expect(events.at(-1)).toBe('receipt_verified');
    expect(states.at(-1)).toBe('COMPLETED');
    // The coordinator settles: the miner gets the receipt's price.
    await until(async () => ((await client.node.escrow(run.job.job_id)).status === 'settled' ? true : undefined));
    expect(await client.node.balance(minerAddress)).toBe(PRICE);
    // A receipt page keeps the exact text, and the iterator yields it.
    const receipts: Receipt[] = [];
    for await (const r of client.jobs.receipts(run.job.job_id)) receipts.push(r);
    expect(receipts).toHaveLength(1);
    expect(client.receipts.verify(receipts[0]).ok).toBe(true);
  });

  it('a receipt under unpinned keys is refused (SDK_RECEIPT_UNTRUSTED); a failed job rejects with SDK_JOB_FAILED; a refused lock; abort cancels', async () => {
    const signer = createLocalSigner(node.faucet.seed);
    await expect(
      client.jobs.run({
        kind: 'hash',
        input: { data: 'eA' },
        maxPrice: PRICE,
        wallet: signer,
        trust: { coordinatorKeys: [generateKeyPair().publicKey] },
      }),
    ).rejects.toMatchObject({ code: 'SDK_RECEIPT_UNTRUSTED' });
    await expect(
      client.jobs.run({ kind: 'hash', input: { fail: true }, maxPrice: PRICE, wallet: signer }),
    ).rejects.toMatchObject({ code: 'SDK_JOB_FAILED', details: { state: 'FAILED' } });
    // A lock the chain refuses (fee under the minimum) surfaces the chain's code; the client's nonce
    // tracking rolls back, so the next lock (below) is not stuck behind a nonce gap.
    let refused: string | undefined;
    await expect(
      client.jobs.run({
        kind: 'unserved',
        input: null,
        maxPrice: 1n,
        wallet: signer,
        fee: 0n,
        onProgress: (e) => {
          if (e.type === 'submitted') refused = e.job.job_id;
        },
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^CHAIN_/) });
    expect((await client.jobs.get(refused!)).state).toBe('CANCELED'); // it would never be paid
    // Aborting while waiting (no miner serves this kind) rejects and cancels the job.
    const ac = new AbortController();
    let submitted: string | undefined;
    await expect(
      client.jobs.run({
        kind: 'unserved',
        input: null,
        maxPrice: 1n,
        wallet: signer,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.type === 'submitted') submitted = e.job.job_id;
          if (e.type === 'state') ac.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'SDK_ABORTED' });
    expect((await client.jobs.get(submitted!)).state).toBe('CANCELED');
    await expect(
      createClient({ coordinator: 'http://127.0.0.1:1', node: node.rpcUrl }).jobs.run({
        kind: 'hash',
        input: null,
        maxPrice: 1n,
        wallet: signer,
      }),
    ).rejects.toMatchObject({ code: 'SDK_BAD_CONFIG' });
  });
});

describe('marketplace: offers, bids, matches, and a job run under a bid', () => {
  it('matches a bid with an offer and runs a paid job at the matched price', async () => {
    const placed = await minerClient.coordinator.market.placeOffer({
      jobKinds: ['hash'],
      pricePerUnit: PRICE,
      slots: 2,
    });
    expect(placed.offer).toMatchObject({
      miner_id: 'miner-1',
      state: 'open',
      slots: 2,
      price_per_unit: PRICE.toString(),
    });
    const offers = [];
    for await (const o of client.coordinator.market.offers({ jobKind: 'hash' }, { limit: 1 })) offers.push(o);
    expect(offers.map((o) => o.offer_id)).toContain(placed.offer.offer_id);
    expect((await client.coordinator.market.offer(placed.offer.offer_id)).miner_id).toBe('miner-1');

    const { bid, matches } = await client.coordinator.market.placeBid({
      jobKind: 'hash',
      maxPricePerUnit: PRICE,
      quantity: 1,
    });
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ offer_id: placed.offer.offer_id, miner_id: 'miner-1', quantity: 1 });
    expect((await client.coordinator.market.bid(bid.bid_id)).matches).toHaveLength(1);
    const publicBids = [];
    for await (const b of client.coordinator.market.bids({ jobKind: 'hash' })) publicBids.push(b);
    expect(publicBids.every((b) => !('client' in b))).toBe(true);

    const run = await client.jobs.run({
      kind: 'hash',
      input: { data: 'YmlkZGVk' },
      maxPrice: PRICE,
      bidId: bid.bid_id,
      wallet: createLocalSigner(node.faucet.seed),
    });
    expect(run.job.market).toMatchObject({ bid_id: bid.bid_id, miner_id: 'miner-1', price_per_unit: PRICE.toString() });
    expect(run.verification.ok).toBe(true);
    expect((await client.coordinator.market.stats()).matches).toBeGreaterThanOrEqual(1);

    expect((await minerClient.coordinator.market.withdrawOffer(placed.offer.offer_id)).state).toBe('withdrawn');
    const second = await client.coordinator.market.placeBid({ jobKind: 'hash', maxPricePerUnit: 1n, quantity: 1 });
    expect((await client.coordinator.market.cancelBid(second.bid.bid_id)).state).toBe('canceled');
    await expect(client.coordinator.market.offer('off_00000000000000000000000000')).rejects.toMatchObject({
      code: 'COORD_MARKET_UNKNOWN_OFFER',
      status: 404,
    });
    await expect(client.coordinator.market.bid('nope')).rejects.toMatchObject({ code: 'SDK_BAD_INPUT' });
    await expect(
      client.coordinator.market.placeOffer({ jobKinds: ['hash'], pricePerUnit: 1n, slots: 1 }),
    ).rejects.toMatchObject({
      code: 'COORD_FORBIDDEN',
      status: 403,
    });
  });
});

describe('coordinator and pool hub clients', () => {
  it('submits idempotently, lists with an iterator, cancels, and types the server errors', async () => {
    const a = await client.jobs.submit({ kind: 'nope', input: 1, maxPrice: 5n }, { idempotencyKey: 'same-key' });
    const b = await client.jobs.submit({ kind: 'nope', input: 1, maxPrice: 5n }, { idempotencyKey: 'same-key' });
    expect(b.job_id).toBe(a.job_id);
    await client.jobs.submit({ kind: 'nope', input: 2, maxPrice: 5n });
    const listed: CoordinatorJob[] = [];
    for await (const j of client.jobs.list({ limit: 1 })) listed.push(j);
    expect(listed.length).toBeGreaterThanOrEqual(4);
    expect(new Set(listed.map((j) => j.job_id)).size).toBe(listed.length);
    await expect(client.jobs.result(a.job_id)).rejects.toMatchObject({ code: 'COORD_NOT_COMPLETED', status: 409 });
    expect((await client.jobs.cancel(a.job_id)).state).toBe('CANCELED');
    const unknown = await client.jobs.get('job_unknown').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ApiError);
    expect(unknown).toMatchObject({ code: 'COORD_UNKNOWN_JOB', status: 404, service: 'coordinator' });
    await expect(client.jobs.get('bad id!')).rejects.toMatchObject({ code: 'SDK_BAD_INPUT' });
    await expect(client.jobs.submit({ kind: 'hash', input: 1, maxPrice: -1n })).rejects.toMatchObject({
      code: 'SDK_BAD_INPUT',
    });
    const anonymous = createClient({ coordinator: anonymousUrl() });
    await expect(anonymous.jobs.list().next()).rejects.toMatchObject({ code: 'COORD_UNAUTHORIZED', status: 401 });
    expect(await client.coordinator.health()).toMatchObject({ status: 'ok' });
    expect(await client.coordinator.metrics()).toContain('coordinator_jobs_submitted_total');
    const admin = createClient({ coordinator: anonymousUrl(), apiKey: keys.admin });
    expect(await admin.coordinator.adminStats()).toMatchObject({ miners: 1 });
    await expect(client.coordinator.adminStats()).rejects.toMatchObject({ code: 'COORD_FORBIDDEN', status: 403 });
    // every client's jobs for an admin, in pages of one, and by state
    const mine: string[] = [];
    for await (const j of client.jobs.list()) mine.push(j.job_id);
    const all: string[] = [];
    for await (const j of admin.coordinator.adminJobs({ limit: 1 })) all.push(j.job_id);
    expect(mine.length).toBeGreaterThan(1);
    expect(all.sort()).toEqual([...mine].sort());
    const states = new Set<string>();
    for await (const j of admin.coordinator.adminJobs({ state: 'COMPLETED' })) states.add(j.state);
    expect([...states].every((x) => x === 'COMPLETED')).toBe(true);
    await expect(client.coordinator.adminJobs().next()).rejects.toMatchObject({ code: 'COORD_FORBIDDEN' });
  });

  it('logs in with a wallet signature (bearer token) and refuses a wrong key', async () => {
    const loginClient = createClient({ coordinator: anonymousUrl() });
    const session = await loginClient.login(createLocalSigner(node.faucet.seed));
    expect(session.token_type).toBe('Bearer');
    const mine: CoordinatorJob[] = [];
    for await (const j of loginClient.jobs.list({ maxItems: 2 })) mine.push(j);
    expect(mine.every((j) => j.client === node.faucet.address)).toBe(true);
    const liar = createLocalSigner(generateKeyPair().seed);
    const c = await loginClient.coordinator.challenge(node.faucet.address);
    await expect(
      loginClient.coordinator.login({
        address: node.faucet.address,
        nonce: c.nonce,
        publicKey: liar.publicKey,
        signature: await liar.signLogin(c.chain_id, { ...c.message }),
      }),
    ).rejects.toMatchObject({ code: 'COORD_LOGIN_FAILED', status: 401 });
  });

  it('drives every pool hub route', async () => {
    expect(await client.pool.health()).toMatchObject({ status: 'ok', miners: 1 });
    const match = await client.pool.match({ requirements: { job_kind: 'hash' }, top_k: 3 });
    expect(match.candidates[0]).toMatchObject({ miner_id: 'miner-1', address: minerAddress });
    expect(match.candidates[0]!.explanation.price).toBeDefined();
    const other = generateKeyPair();
    const reg = {
      miner_id: 'miner-2',
      address: addressFromPublicKey(other.publicKey),
      public_key: bytesToHex(other.publicKey),
      capabilities: { job_kinds: ['wasm'] },
      price_per_unit: '7',
      max_concurrency: 2,
    };
    expect(await client.pool.registerMiner(reg)).toMatchObject({ miner_id: 'miner-2', price_per_unit: '7' });
    expect(await client.pool.heartbeat('miner-2', { active_jobs: 0, latency_ms: 5 })).toMatchObject({
      status: { online: true },
    });
    expect((await client.pool.recordOutcome('miner-2', { success: true, latency_ms: 20 })).stats.completed).toBe(1);
    expect((await client.pool.setTrust('miner-2', 0.5)).trust).toBe(0.5);
    expect((await client.pool.miners()).map((m) => m.miner_id).sort()).toEqual(['miner-1', 'miner-2']);
    expect((await client.pool.miner('miner-2')).address).toBe(reg.address);
    await client.pool.removeMiner('miner-2');
    await expect(client.pool.miner('miner-2')).rejects.toMatchObject({ code: 'POOL_UNKNOWN_MINER', status: 404 });
    await expect(client.pool.match({ top_k: 1000 })).rejects.toMatchObject({ code: 'POOL_BAD_REQUEST', status: 400 });
    expect(await client.pool.metrics()).toContain('poolhub_miners_registered');
  });
});

function anonymousUrl(): string {
  return services.coordinatorUrl;
}
