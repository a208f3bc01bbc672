import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AitbcError, isAitbcError } from '@aitbc/crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createNodeApiServer,
  createNodeClient,
  createNodeMetrics,
  type NodeApiServer,
  type NodeClient,
} from '../src/index.js';
import type { JsonObject } from '../src/nodeBackend.js';
import { MemoryBackend, newAddress } from './memoryBackend.js';

const alice = newAddress();
const bob = newAddress();
let backend: MemoryBackend;
let server: NodeApiServer;
let url: string;
let client: NodeClient;

async function raw(path: string, init: RequestInit = {}) {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAitbcError(err) ? err.code : err).toBe(code);
}

beforeAll(async () => {
  backend = new MemoryBackend();
  backend.accounts.set(alice, { address: alice, balance: '1000000000000000000000', nonce: 3 });
  backend.escrows.set('job-1', { jobId: 'job-1', amount: '50', state: 'locked' });
  backend.addBlock([{ id: 'aa'.repeat(32), type: 'transfer', from: alice, to: bob, amount: '5' }]);
  backend.addBlock([{ id: 'bb'.repeat(32), type: 'transfer', from: bob, to: alice, amount: '1' }]);
  server = createNodeApiServer({ backend, port: 0, logger: false, limits: { bodyLimit: 4096 } });
  url = await server.start();
  client = createNodeClient({ baseUrl: url });
});
afterAll(async () => {
  await server.stop();
});

describe('REST routes', () => {
  it('serves head, blocks, txs, accounts, escrow, validators, peers, mempool, sync status, health', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    const head = await client.head();
    expect(head.height).toBe(2);
    expect((await raw('/rpc/get_head')).body).toEqual(head);
    const b1 = await client.block(1);
    expect(b1.height).toBe(1);
    expect((await client.block(b1.hash)).height).toBe(1);
    expect((await client.block(`0x${b1.hash.toUpperCase()}`)).height).toBe(1);
    expect((await raw('/rpc/get_block/2')).body.height).toBe(2);
    expect((await client.tx('aa'.repeat(32))).to).toBe(bob);
    expect((await client.account(alice)).nonce).toBe(3);
    expect((await client.account(alice, { proof: true })).proof).toHaveLength(1);
    expect(await client.balance(alice)).toBe(10n ** 21n);
    expect((await client.escrow('job-1')).state).toBe('locked');
    expect((await client.escrow('job-1', { proof: true })).proof).toBeDefined();
    expect(await client.validators()).toEqual([{ address: 'v1', power: 1 }]);
    expect(await client.peers()).toEqual([]);
    expect(await client.syncStatus()).toEqual({ syncing: false, height: 2, targetHeight: 2 });
    expect((await client.mempool()).size).toBe(0);
  });

  it('submits a tx, lists it in the mempool and pages txs by address', async () => {
    const id = await client.sendTx({ type: 'transfer', from: alice, to: bob, amount: '7', nonce: 3 });
    // the memory backend answers bare hex; send_tx adds the 0x every wire tx id carries
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await client.tx(id)).amount).toBe('7');
    const pool = await client.mempool(10);
    expect(pool.size).toBe(1);
    const p1 = await client.txsByAddress(alice, { limit: 2 });
    expect(p1.items).toHaveLength(2);
    expect(p1.nextCursor).not.toBeNull();
    const p2 = await client.txsByAddress(alice, { limit: 2, cursor: p1.nextCursor as string });
    expect(p2.items).toHaveLength(1);
    expect(p2.nextCursor).toBeNull();
  });

  it('answers unknown ids with 404 RPC_NOT_FOUND', async () => {
    await expectCode(client.block(99), 'RPC_NOT_FOUND');
    await expectCode(client.block('cd'.repeat(32)), 'RPC_NOT_FOUND');
    await expectCode(client.tx('ef'.repeat(32)), 'RPC_NOT_FOUND');
    await expectCode(client.account(bob), 'RPC_NOT_FOUND');
    await expectCode(client.balance(bob), 'RPC_NOT_FOUND');
    await expectCode(client.escrow('nope'), 'RPC_NOT_FOUND');
    const r = await raw('/rpc/tx/'.concat('ef'.repeat(32)));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      error: { code: 'RPC_NOT_FOUND', message: 'tx not found', details: { tx: 'ef'.repeat(32) } },
    });
    expect((await raw('/no/such/route')).body.error.code).toBe('RPC_NOT_FOUND');
  });

  it('rejects wrong types with 400 RPC_BAD_PARAMS', async () => {
    for (const path of [
      '/rpc/block/abc',
      '/rpc/block/-1',
      '/rpc/block/99999999999999999999',
      '/rpc/get_block/1.5',
      '/rpc/tx/xyz',
      '/rpc/account/not-an-address',
      `/rpc/account/${alice}?proof=maybe`,
      '/rpc/get_balance/ait1zzzz',
      '/rpc/escrow/has%20space',
      '/rpc/mempool?limit=0',
      '/rpc/mempool?limit=abc',
      `/rpc/account/${alice}/txs?limit=101`,
    ]) {
      const r = await raw(path);
      expect([path, r.status, r.body.error.code]).toEqual([path, 400, 'RPC_BAD_PARAMS']);
    }
  });

  it('rejects malformed JSON, wrong media type, oversized bodies and rejected txs; stays up', async () => {
    const post = (body: string, type = 'application/json') =>
      raw('/rpc/send_tx', { method: 'POST', body, headers: { 'content-type': type } });
    const bad = await post('{"type":');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'RPC_BAD_JSON']);
    const arr = await post('[1,2]');
    expect([arr.status, arr.body.error.code]).toEqual([400, 'RPC_BAD_PARAMS']);
    const media = await post('x=1', 'text/plain');
    expect([media.status, media.body.error.code]).toEqual([415, 'RPC_UNSUPPORTED_MEDIA_TYPE']);
    const big = await post(JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect([big.status, big.body.error.code]).toEqual([413, 'RPC_BODY_TOO_LARGE']);
    const rejected = await post(JSON.stringify({ type: 'transfer' }));
    expect(rejected.status).toBe(400);
    expect(rejected.body.error).toEqual({
      code: 'CHAIN_TX_MALFORMED',
      message: 'tx.from must be an address',
      details: { field: 'from' },
    });
    await expectCode(client.sendTx({ type: 'transfer' }), 'CHAIN_TX_MALFORMED');
    expect(await client.health()).toEqual({ status: 'ok' });
  });

  it('serves the commit of a height over REST and JSON-RPC; 404 for an open or unknown height; 400 for a bad one', async () => {
    const b1 = backend.blocks[1]!;
    const rest = await raw('/rpc/commit/1');
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ height: 1, round: 0, blockHash: b1.hash, signatures: [] });
    const rpc = await raw('/rpc', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_commit', params: { height: 1 } }),
    });
    expect(rpc.body.result).toEqual(rest.body);
    expect(await client.commit(1)).toEqual(rest.body);
    // the newest block's commit is not known until the next block carries it
    const head = backend.head().height;
    expect(await raw(`/rpc/commit/${head}`)).toMatchObject({ status: 404, body: { error: { code: 'RPC_NOT_FOUND' } } });
    expect(await raw('/rpc/commit/999999')).toMatchObject({ status: 404, body: { error: { code: 'RPC_NOT_FOUND' } } });
    expect(await raw('/rpc/commit/-1')).toMatchObject({ status: 400, body: { error: { code: 'RPC_BAD_PARAMS' } } });
    expect(await raw('/rpc/commit/abc')).toMatchObject({ status: 400, body: { error: { code: 'RPC_BAD_PARAMS' } } });
  });

  it('answers RPC_METHOD_NOT_FOUND for commits when the backend serves none', async () => {
    const plain = Object.create(backend) as MemoryBackend;
    Object.defineProperty(plain, 'commit', { value: undefined });
    const s = createNodeApiServer({ backend: plain, port: 0, logger: false });
    const u = await s.start();
    try {
      const r = await fetch(`${u}/rpc/commit/1`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('RPC_METHOD_NOT_FOUND');
      expect((await fetch(`${u}/rpc/block/1`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('serves the OpenAPI document generated from the route table', async () => {
    const doc = (await raw('/docs/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/health',
      '/sync_status',
      '/rpc/get_head',
      '/rpc/send_tx',
      '/rpc/get_balance/{address}',
      '/rpc/get_block/{height}',
      '/rpc/commit/{height}',
      '/rpc/peers',
      '/rpc',
    ])
      expect(doc.paths[p], p).toBeDefined();
    expect(doc.paths['/rpc/account/{address}'].get.parameters.map((x: { name: string }) => x.name)).toEqual([
      'address',
      'proof',
    ]);
  });

  it('exposes Prometheus metrics that pass promtool check metrics', async () => {
    server.metrics.recordBlock(2, 1);
    server.metrics.finalityLatency.observe(0.3);
    await client.head();
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'blockchain_blocks_total 1',
      'blockchain_transactions_total 1',
      'blockchain_consensus_rounds',
      'blockchain_network_peers',
      'blockchain_head_height 2',
      'blockchain_mempool_size',
      'blockchain_tx_intake_pending 0',
      'blockchain_tx_intake_dropped_total 0',
      'blockchain_finality_latency_seconds_bucket',
      'rpc_request_duration_seconds_count{route="/rpc/head",method="GET",status="200"}',
    ])
      expect(text).toContain(name);
    let promtool: string | undefined;
    try {
      promtool = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
    } catch {
      promtool = undefined;
    }
    if (promtool === undefined || promtool === '') {
      // Runs wherever promtool exists; CI installs it (Debian package `prometheus`) and must not pass without it.
      expect(process.env.CI === 'true' ? 'promtool missing under CI' : 'ok').toBe('ok');
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'rpc-metrics-')), 'metrics.txt');
    writeFileSync(file, text);
    const out = execFileSync('sh', ['-c', `"${promtool}" check metrics < "${file}" 2>&1; echo "exit=$?"`], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('exit=0');
  });
});

describe('metrics', () => {
  it('reads the mempool size at every scrape when given a reader', async () => {
    let size = 3;
    const metrics = createNodeMetrics({ mempoolSize: () => size });
    expect(await metrics.render()).toContain('blockchain_mempool_size 3');
    size = 7;
    expect(await metrics.render()).toContain('blockchain_mempool_size 7');
    // without one, the gauge holds what was set
    const plain = createNodeMetrics();
    plain.mempoolSize.set(5);
    expect(await plain.render()).toContain('blockchain_mempool_size 5');
  });
});

describe('limits', () => {
  it('rate-limits per IP with 429, RPC_RATE_LIMITED and Retry-After', async () => {
    const s = createNodeApiServer({ backend, port: 0, logger: false, limits: { rateLimit: 3, rateWindowMs: 60_000 } });
    const u = await s.start();
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${u}/health`)).status).toBe(200);
      const res = await fetch(`${u}/health`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RPC_RATE_LIMITED');
    } finally {
      await s.stop();
    }
  });

  it('bounds pending submissions of all clients: RPC_BUSY with Retry-After, over REST and JSON-RPC; frees the slot on every answer', async () => {
    /** Holds each submission until released, like a node still verifying a burst. */
    class SlowBackend extends MemoryBackend {
      readonly held: Array<() => void> = [];
      override submitTx(tx: JsonObject) {
        if (tx.fail === true) return Promise.reject(new AitbcError('CHAIN_BAD_NONCE', 'nonce already used'));
        const id = super.submitTx(tx) as string;
        return new Promise<string>((resolve) => this.held.push(() => resolve(id)));
      }
    }
    const slow = new SlowBackend();
    const metrics = createNodeMetrics();
    const s = createNodeApiServer({ backend: slow, port: 0, logger: false, metrics, limits: { maxPendingTxs: 3 } });
    const u = await s.start();
    const post = (path: string, body: unknown) =>
      fetch(`${u}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const tx = (n: number) => ({ type: 'transfer', from: alice, to: bob, amount: '1', nonce: n });
    try {
      const first = post('/rpc/send_tx', tx(1));
      await vi.waitFor(() => expect(slow.held.length).toBe(1));
      const batch = post(
        '/rpc',
        [2, 3, 4].map((n) => ({ jsonrpc: '2.0', id: n, method: 'send_tx', params: { tx: tx(n) } })),
      );
      await vi.waitFor(() => expect(slow.held.length).toBe(3));
      expect(await (await fetch(`${u}/metrics`)).text()).toMatch(/^rpc_tx_submissions_pending 3$/m);
      // Over REST: 503, a Retry-After, and the stable code.
      const busy = await post('/rpc/send_tx', tx(5));
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(((await busy.json()) as { error: { code: string; details: unknown } }).error).toMatchObject({
        code: 'RPC_BUSY',
        details: { limit: 3, retryAfterSeconds: 1 },
      });
      expect(slow.held.length).toBe(3); // the refused one never reached the backend
      for (const release of slow.held.splice(0)) release();
      expect((await first).status).toBe(200);
      // The batch's third call found the bound reached: its own JSON-RPC error, the others answered.
      const answers = (await (await batch).json()) as Array<{
        id: number;
        result?: unknown;
        error?: { data: { code: string } };
      }>;
      expect(answers.map((a) => a.error?.data.code ?? 'ok')).toEqual(['ok', 'ok', 'RPC_BUSY']);
      // Every answer freed its slot, refusals by the backend too: three fresh submissions fit again.
      expect((await post('/rpc/send_tx', { ...tx(6), fail: true })).status).toBe(400);
      const again = [7, 8, 9].map((n) => post('/rpc/send_tx', tx(n)));
      await vi.waitFor(() => expect(slow.held.length).toBe(3));
      for (const release of slow.held.splice(0)) release();
      expect((await Promise.all(again)).map((r) => r.status)).toEqual([200, 200, 200]);
      const text = await (await fetch(`${u}/metrics`)).text();
      expect(text).toMatch(/^rpc_tx_submissions_busy_total 2$/m);
      expect(text).toMatch(/^rpc_tx_submissions_pending 0$/m);
    } finally {
      for (const release of slow.held.splice(0)) release();
      await s.stop();
    }
    expect(() => createNodeApiServer({ backend, limits: { maxPendingTxs: 0 } })).toThrow(
      expect.objectContaining({ code: 'RPC_BAD_CONFIG' }),
    );
  });

  it('health answers the backend reason with 503 and Retry-After for a *_UNAVAILABLE code, over REST and JSON-RPC; a refused send_tx too', async () => {
    const unavailable = () =>
      new AitbcError(
        'NODE_STORAGE_UNAVAILABLE',
        'the node cannot write its database: no space left on device (ENOSPC) at /d/000003.log',
        {
          details: { cause: { code: 'STORAGE_FULL' }, retryAfterSeconds: 5 },
        },
      );
    class FullDiskBackend extends MemoryBackend {
      full = true;
      health() {
        if (this.full) throw unavailable();
      }
      override submitTx(tx: JsonObject) {
        if (this.full) throw unavailable();
        return super.submitTx(tx);
      }
    }
    const sick = new FullDiskBackend();
    const s = createNodeApiServer({ backend: sick, port: 0, logger: false });
    const u = await s.start();
    try {
      const res = await fetch(`${u}/health`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({
        code: 'NODE_STORAGE_UNAVAILABLE',
        message: expect.stringContaining('ENOSPC'),
      });
      const rpc = await fetch(`${u}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health' }),
      });
      expect(((await rpc.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
        'NODE_STORAGE_UNAVAILABLE',
      );
      const send = await fetch(`${u}/rpc/send_tx`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'transfer', from: alice, to: bob, amount: '1', nonce: 1 }),
      });
      expect(send.status).toBe(503);
      expect(send.headers.get('retry-after')).toBe('5');
      await expectCode(createNodeClient({ baseUrl: u }).health(), 'NODE_STORAGE_UNAVAILABLE');
      sick.full = false;
      expect(await createNodeClient({ baseUrl: u }).health()).toEqual({ status: 'ok' });
    } finally {
      await s.stop();
    }
  });

  it('applies the CORS allowlist', async () => {
    const s = createNodeApiServer({ backend, port: 0, logger: false, cors: { origins: ['https://app.example'] } });
    const u = await s.start();
    try {
      const ok = await fetch(`${u}/rpc/head`, { headers: { origin: 'https://app.example' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const pre = await fetch(`${u}/rpc/send_tx`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
      const other = await fetch(`${u}/rpc/head`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const denied = await fetch(`${u}/rpc/send_tx`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example' },
      });
      expect(denied.status).toBe(403);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('RPC_CORS_FORBIDDEN');
    } finally {
      await s.stop();
    }
  });

  it('validates its configuration', () => {
    expect(() => createNodeApiServer({ backend, cors: { origins: ['not an origin'] } })).toThrow(
      expect.objectContaining({ code: 'RPC_BAD_CONFIG' }),
    );
    expect(() => createNodeApiServer({ backend, port: 70000 })).toThrow(
      expect.objectContaining({ code: 'RPC_BAD_CONFIG' }),
    );
    expect(() => createNodeClient({ baseUrl: 'ftp://x' })).toThrow(expect.objectContaining({ code: 'RPC_BAD_CONFIG' }));
  });

  it('writes structured JSON logs at the configured level', async () => {
    const lines: string[] = [];
    const s = createNodeApiServer({
      backend: {
        ...backend,
        on: backend.on.bind(backend),
        head: () => {
          throw new TypeError('boom');
        },
      } as unknown as MemoryBackend,
      port: 0,
      logger: { level: 'error', destination: { write: (l: string) => void lines.push(l) } },
    });
    const u = await s.start();
    try {
      const r = await fetch(`${u}/rpc/head`);
      expect(r.status).toBe(500);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('RPC_INTERNAL');
      const entry = JSON.parse(lines[0] as string);
      expect(entry.level).toBe(50);
      expect(entry.msg).toBe('unhandled error');
    } finally {
      await s.stop();
    }
  });
});
