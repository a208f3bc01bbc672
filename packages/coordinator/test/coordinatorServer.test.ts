import { MemoryKVStore } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToBase64url, bytesToHex, generateKeyPair, signMessage } from '@aitbc/crypto';
import { createPoolHub, hashApiKey } from '@aitbc/pool';
import { createReceipt, parseReceiptJson, serializeReceipt, signReceipt, verifyReceipt } from '@aitbc/receipts';
import { afterEach, describe, expect, it } from 'vitest';
import { type CoordinatorServer, createCoordinatorServer, createReceiptHandler, JobEngine } from '../src/index.js';

const CHAIN = 'aitbc-devnet';
const servers: { server: CoordinatorServer; engine: JobEngine }[] = [];
afterEach(async () => {
  while (servers.length > 0) {
    const { server, engine } = servers.pop()!;
    await server.stop();
    await engine.stop();
  }
});

async function setup() {
  const coordinator = generateKeyPair();
  const client = generateKeyPair();
  const clientAddress = addressFromPublicKey(client.publicKey);
  const miners = [generateKeyPair(), generateKeyPair()];
  const hub = createPoolHub();
  const engine = new JobEngine({
    store: new MemoryKVStore(),
    hub,
    receipts: createReceiptHandler({ chainId: CHAIN, coordinatorSeed: coordinator.seed }),
    leaseMs: 10_000,
  });
  await engine.start();
  const keys = { client: 'client-key', miner0: 'miner0-key', miner1: 'miner1-key', admin: 'admin-key' };
  const server = createCoordinatorServer({
    engine,
    hub,
    chainId: CHAIN,
    coordinatorId: 'coord-test',
    port: 0,
    logLevel: false,
    apiKeys: [
      { role: 'client', subject: clientAddress, hash: hashApiKey(keys.client) },
      { role: 'miner', subject: 'miner-0', hash: hashApiKey(keys.miner0) },
      { role: 'miner', subject: 'miner-1', hash: hashApiKey(keys.miner1) },
      { role: 'admin', hash: hashApiKey(keys.admin) },
    ],
  });
  servers.push({ server, engine });
  const { url } = await server.start();
  const call = async (
    method: string,
    path: string,
    opts: { key?: string; bearer?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers['x-api-key'] = opts.key;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: payload ?? null });
    const text = await res.text();
    const json =
      text.length > 0 && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    return { status: res.status, text, json };
  };
  const register = (i: number) =>
    call('POST', '/v1/miners/register', {
      key: i === 0 ? keys.miner0 : keys.miner1,
      body: {
        miner_id: `miner-${i}`,
        address: addressFromPublicKey(miners[i]!.publicKey),
        public_key: bytesToHex(miners[i]!.publicKey),
        capabilities: { job_kinds: ['hash'], cpu_cores: 4, ram_gb: 8 },
        price_per_unit: '100',
        max_concurrency: 1,
      },
    });
  const receiptFor = (jobId: string, i: number, overrides: Partial<Parameters<typeof createReceipt>[0]> = {}) =>
    serializeReceipt(
      signReceipt(
        createReceipt({
          jobId,
          provider: addressFromPublicKey(miners[i]!.publicKey),
          client: clientAddress,
          units: 1n,
          unitType: 'job',
          unitPrice: 100n,
          startedAt: Date.now() - 50,
          completedAt: Date.now(),
          chainId: CHAIN,
          ...overrides,
        }),
        miners[i]!.seed,
      ),
    );
  return { call, keys, register, receiptFor, coordinator, client, clientAddress, miners, engine };
}

describe('coordinator HTTP API (real server on 127.0.0.1)', () => {
  it('runs a job end to end: submit → long-poll → signed receipt → attested, verifiable receipt', async () => {
    const { call, keys, register, receiptFor, coordinator, miners } = await setup();
    expect((await register(0)).status).toBe(201);
    const poll = call('POST', '/v1/miners/poll', { key: keys.miner0, body: { max_wait_seconds: 5 } });
    const submit = await call('POST', '/v1/jobs', {
      key: keys.client,
      body: { kind: 'hash', input: { data: 'aGk' }, max_price: '1000' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(submit.status).toBe(201);
    const jobId = submit.json.job_id as string;
    const again = await call('POST', '/v1/jobs', {
      key: keys.client,
      body: { kind: 'hash', input: { data: 'aGk' }, max_price: '1000' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(again.json.job_id).toBe(jobId);
    const assignment = await poll;
    expect(assignment.status).toBe(200);
    expect(assignment.json).toMatchObject({ job_id: jobId, kind: 'hash', input: { data: 'aGk' }, max_price: '1000' });
    expect(
      (
        await call('POST', '/v1/miners/heartbeat', {
          key: keys.miner0,
          body: { running_jobs: [jobId], active_jobs: 1 },
        })
      ).json,
    ).toEqual({ cancel: [] });
    expect((await call('GET', `/v1/jobs/${jobId}/result`, { key: keys.client })).json.error.code).toBe(
      'COORD_NOT_COMPLETED',
    );
    const done = await call('POST', `/v1/miners/${jobId}/result`, {
      key: keys.miner0,
      body: { output: { digest: 'abc' }, receipt: receiptFor(jobId, 0) },
    });
    expect(done.status).toBe(200);
    expect(done.json.state).toBe('COMPLETED');
    expect((await call('GET', `/v1/jobs/${jobId}/result`, { key: keys.client })).json).toMatchObject({
      output: { digest: 'abc' },
    });
    const receipts = await call('GET', `/v1/jobs/${jobId}/receipts`, { key: keys.client });
    expect(receipts.json.next_cursor).toBeNull();
    expect(receipts.json.items).toHaveLength(1);
    const receiptText = receipts.text.slice('{"items":['.length, receipts.text.lastIndexOf('],"next_cursor"'));
    const verdict = verifyReceipt(parseReceiptJson(receiptText), {
      minerKeys: [miners[0]!.publicKey],
      coordinatorKeys: [coordinator.publicKey],
    });
    expect(verdict.ok).toBe(true);
    // a second result for the same job is refused
    const secondReport = await call('POST', `/v1/miners/${jobId}/result`, {
      key: keys.miner0,
      body: { output: {}, receipt: receiptFor(jobId, 0) },
    });
    expect([secondReport.status, secondReport.json.error.code]).toEqual([409, 'COORD_JOB_FINISHED']);
    const list = await call('GET', '/v1/jobs?limit=10', { key: keys.client });
    expect(list.json.items.map((j: { job_id: string }) => j.job_id)).toEqual([jobId]);
    expect((await call('GET', '/v1/admin/stats', { key: keys.admin })).json).toMatchObject({ queued: 0, miners: 1 });
    const metrics = await call('GET', '/metrics');
    expect(metrics.text).toContain('coordinator_jobs_finished_total{state="COMPLETED"} 1');
  });

  it('refuses results from a miner that was not assigned, bad receipts, and failures yield no receipt', async () => {
    const { call, keys, register, receiptFor } = await setup();
    await register(0);
    await register(1);
    const poll = call('POST', '/v1/miners/poll', { key: keys.miner0, body: { max_wait_seconds: 5 } });
    const jobId = (
      await call('POST', '/v1/jobs', { key: keys.client, body: { kind: 'hash', input: 1, max_price: '1000' } })
    ).json.job_id;
    expect((await poll).json.job_id).toBe(jobId);
    const other = await call('POST', `/v1/miners/${jobId}/result`, {
      key: keys.miner1,
      body: { output: {}, receipt: receiptFor(jobId, 1) },
    });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('COORD_NOT_ASSIGNED');
    for (const [receipt, field] of [
      [receiptFor('job_other', 0), 'job_id'],
      [receiptFor(jobId, 0, { unitPrice: 5000n }), 'price'],
      [receiptFor(jobId, 0, { chainId: 'other-chain' }), 'chain_id'],
    ] as const) {
      const res = await call('POST', `/v1/miners/${jobId}/result`, { key: keys.miner0, body: { output: {}, receipt } });
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'COORD_RECEIPT_INVALID', details: { field } });
    }
    const signedByOther = receiptFor(jobId, 1);
    expect(
      (
        await call('POST', `/v1/miners/${jobId}/result`, {
          key: keys.miner0,
          body: { output: {}, receipt: signedByOther },
        })
      ).json.error.code,
    ).toBe('COORD_RECEIPT_INVALID');
    expect(
      (
        await call('POST', `/v1/miners/${jobId}/result`, {
          key: keys.miner0,
          body: { output: {}, receipt: '{"broken": ' },
        })
      ).json.error.code,
    ).toBe('RECEIPT_MALFORMED');
    const failed = await call('POST', `/v1/miners/${jobId}/fail`, {
      key: keys.miner0,
      body: { message: 'runner crashed' },
    });
    expect(failed.json).toMatchObject({ state: 'FAILED', receipt_id: null });
    expect((await call('GET', `/v1/jobs/${jobId}/receipts`, { key: keys.client })).json.items).toEqual([]);
  });

  it('lists every job for an admin, by state and in pages, and refuses others and bad queries', async () => {
    const { call, keys, register } = await setup();
    await register(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/v1/jobs', {
        key: keys.client,
        body: { kind: 'hash', input: { i }, max_price: '1000' },
        headers: { 'idempotency-key': `admin-${i}` },
      });
      ids.push(r.json.job_id);
    }
    const assigned = await call('POST', '/v1/miners/poll', { key: keys.miner0, body: { max_wait_seconds: 1 } });
    const idsOf = (r: { json: { items: { job_id: string }[] } }) => r.json.items.map((j) => j.job_id);
    const all = await call('GET', '/v1/admin/jobs', { key: keys.admin });
    expect(new Set(idsOf(all))).toEqual(new Set(ids));
    expect(all.json.next_cursor).toBeNull();
    const queued = await call('GET', '/v1/admin/jobs?state=QUEUED', { key: keys.admin });
    expect(new Set(idsOf(queued))).toEqual(new Set(ids.filter((id) => id !== assigned.json.job_id)));
    expect(idsOf(await call('GET', '/v1/admin/jobs?state=ASSIGNED', { key: keys.admin }))).toEqual([
      assigned.json.job_id,
    ]);
    expect(idsOf(await call('GET', '/v1/admin/jobs?state=COMPLETED', { key: keys.admin }))).toEqual([]);
    // pages of two: a cursor, then the rest, nothing twice
    const first = await call('GET', '/v1/admin/jobs?limit=2', { key: keys.admin });
    expect(first.json.items).toHaveLength(2);
    const rest = await call('GET', `/v1/admin/jobs?limit=2&cursor=${first.json.next_cursor}`, { key: keys.admin });
    expect(rest.json.next_cursor).toBeNull();
    expect([...idsOf(first), ...idsOf(rest)].sort()).toEqual([...ids].sort());
    // not for clients or miners; bad queries are typed errors
    expect((await call('GET', '/v1/admin/jobs', { key: keys.client })).status).toBe(403);
    expect((await call('GET', '/v1/admin/jobs', { key: keys.miner0 })).status).toBe(403);
    expect((await call('GET', '/v1/admin/jobs')).status).toBe(401);
    const badState = await call('GET', '/v1/admin/jobs?state=DONE', { key: keys.admin });
    expect([badState.status, badState.json.error.code]).toEqual([400, 'COORD_BAD_REQUEST']);
    const badCursor = await call('GET', '/v1/admin/jobs?cursor=nope', { key: keys.admin });
    expect(badCursor.json.error.code).toBe('COORD_BAD_CURSOR');
    const badLimit = await call('GET', '/v1/admin/jobs?limit=0', { key: keys.admin });
    expect(badLimit.json.error.code).toBe('COORD_BAD_REQUEST');
  });

  it('enforces roles and subjects on every non-public route', async () => {
    const { call, keys } = await setup();
    expect((await call('POST', '/v1/jobs', { body: { kind: 'hash', input: 1, max_price: '1' } })).json.error.code).toBe(
      'COORD_UNAUTHORIZED',
    );
    expect(
      (await call('POST', '/v1/jobs', { key: keys.miner0, body: { kind: 'hash', input: 1, max_price: '1' } })).json
        .error.code,
    ).toBe('COORD_FORBIDDEN');
    expect((await call('POST', '/v1/miners/poll', { key: keys.client, body: {} })).status).toBe(403);
    expect((await call('GET', '/v1/admin/stats', { key: keys.client })).status).toBe(403);
    const other = generateKeyPair();
    const wrongId = await call('POST', '/v1/miners/register', {
      key: keys.miner0,
      body: {
        miner_id: 'miner-1',
        address: addressFromPublicKey(other.publicKey),
        public_key: bytesToHex(other.publicKey),
        capabilities: { job_kinds: ['hash'] },
        price_per_unit: '1',
        max_concurrency: 1,
      },
    });
    expect(wrongId.json.error.code).toBe('COORD_FORBIDDEN');
  });

  it('logs a client in with a wallet signature and refuses replays and forgeries', async () => {
    const { call, client, clientAddress } = await setup();
    const challenge = (await call('POST', '/v1/auth/challenge', { body: { address: clientAddress } })).json;
    const sign = (seed: Uint8Array) => bytesToBase64url(signMessage('login', CHAIN, challenge.message, seed));
    const forged = await call('POST', '/v1/auth/login', {
      body: {
        address: clientAddress,
        nonce: challenge.nonce,
        public_key: bytesToHex(client.publicKey),
        signature: sign(generateKeyPair().seed),
      },
    });
    expect(forged.json.error.code).toBe('COORD_LOGIN_FAILED');
    // the failed attempt consumed the challenge
    const c2 = (await call('POST', '/v1/auth/challenge', { body: { address: clientAddress } })).json;
    const login = await call('POST', '/v1/auth/login', {
      body: {
        address: clientAddress,
        nonce: c2.nonce,
        public_key: bytesToHex(client.publicKey),
        signature: bytesToBase64url(signMessage('login', CHAIN, c2.message, client.seed)),
      },
    });
    expect(login.status).toBe(200);
    const token = login.json.token as string;
    const replay = await call('POST', '/v1/auth/login', {
      body: {
        address: clientAddress,
        nonce: c2.nonce,
        public_key: bytesToHex(client.publicKey),
        signature: bytesToBase64url(signMessage('login', CHAIN, c2.message, client.seed)),
      },
    });
    expect(replay.json.error.code).toBe('COORD_LOGIN_FAILED');
    const job = await call('POST', '/v1/jobs', { bearer: token, body: { kind: 'hash', input: 'x', max_price: '10' } });
    expect(job.status).toBe(201);
    expect(job.json.client).toBe(clientAddress);
    expect((await call('GET', '/v1/jobs', { bearer: 'not-a-token' })).status).toBe(401);
  });

  it.each([
    ['malformed JSON', { raw: '{"kind":' }, 400, 'COORD_BAD_JSON'],
    ['an unknown field', { body: { kind: 'hash', input: 1, max_price: '1', priority: 9 } }, 400, 'COORD_BAD_REQUEST'],
    ['a numeric price', { body: { kind: 'hash', input: 1, max_price: 1 } }, 400, 'COORD_BAD_REQUEST'],
    [
      'a bad requirement',
      { body: { kind: 'hash', input: 1, max_price: '1', requirements: { min_vram_gb: 'lots' } } },
      400,
      'POOL_BAD_REQUEST',
    ],
    [
      'an oversized input',
      { body: { kind: 'hash', input: 'x'.repeat(300_000), max_price: '1' } },
      413,
      'COORD_INPUT_TOO_LARGE',
    ],
    [
      'an oversized body',
      { body: { kind: 'hash', input: 'x'.repeat(600_000), max_price: '1' } },
      413,
      'COORD_BODY_TOO_LARGE',
    ],
  ])('rejects %s and keeps serving', async (_name, opts, status, code) => {
    const { call, keys } = await setup();
    const res = await call('POST', '/v1/jobs', { key: keys.client, ...opts });
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('answers an idle long-poll with 204 after max_wait_seconds and validates it', async () => {
    const { call, keys, register } = await setup();
    await register(0);
    const t = Date.now();
    expect((await call('POST', '/v1/miners/poll', { key: keys.miner0, body: { max_wait_seconds: 0.2 } })).status).toBe(
      204,
    );
    expect(Date.now() - t).toBeGreaterThanOrEqual(150);
    expect(
      (await call('POST', '/v1/miners/poll', { key: keys.miner0, body: { max_wait_seconds: 3600 } })).json.error.code,
    ).toBe('COORD_BAD_REQUEST');
    expect((await call('GET', '/v1/jobs/job_nope', { key: keys.client })).json.error.code).toBe('COORD_UNKNOWN_JOB');
  });
});
