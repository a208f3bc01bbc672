import { bytesToHex } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createPoolHub, createPoolHubServer, hashApiKey, type PoolHubServer } from '../src/index.js';
import { registration } from './fixtures.js';

const KEYS = {
  admin: 'admin-secret-key',
  coordinator: 'coord-secret-key',
  miner: 'miner-secret-key',
  client: 'client-secret-key',
};
const servers: PoolHubServer[] = [];

async function startServer(extra: { rateLimitPerMinute?: number; bodyLimit?: number } = {}) {
  const hub = createPoolHub();
  const server = createPoolHubServer({
    hub,
    port: 0,
    logLevel: false,
    apiKeys: Object.entries(KEYS).map(([role, key]) => ({ role, hash: hashApiKey(key) })),
    ...extra,
  });
  servers.push(server);
  const { url } = await server.start();
  const call = async (method: string, path: string, body?: unknown, key?: string, raw?: string) => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers['x-api-key'] = key;
    if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: raw ?? (body === undefined ? null : JSON.stringify(body)),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: text.length > 0 && text.startsWith('{') ? JSON.parse(text) : undefined,
      text,
    };
  };
  return { hub, url, call };
}

function wireRegistration(id: string, overrides: Record<string, unknown> = {}) {
  const r = registration(id);
  return {
    miner_id: r.id,
    address: r.address,
    public_key: bytesToHex(r.publicKey),
    capabilities: {
      gpus: [{ model: 'A100', vram_gb: 80 }],
      cpu_cores: 32,
      ram_gb: 256,
      models: ['llama3:8b'],
      job_kinds: ['wasm'],
      region: 'eu-west',
    },
    price_per_unit: '250',
    max_concurrency: 2,
    ...overrides,
  };
}

afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.stop();
});

describe('pool hub HTTP API (real server on 127.0.0.1)', () => {
  it('binds loopback by default and serves health and metrics publicly', async () => {
    const { url, call } = await startServer();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call('GET', '/health')).json).toEqual({ status: 'ok', miners: 0, online: 0 });
    await call('POST', '/v1/match', { requirements: {} }, KEYS.client);
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('poolhub_match_requests_total{outcome="no_candidates"} 1');
    expect(metrics.text).toContain('poolhub_match_duration_seconds_bucket');
    expect(metrics.text).toContain('poolhub_miners_online 0');
  });

  it('registers miners, heartbeats, matches with explanations', async () => {
    const { call } = await startServer();
    const reg = await call('POST', '/v1/miners', wireRegistration('gpu-1'), KEYS.miner);
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ miner_id: 'gpu-1', price_per_unit: '250', status: { online: true } });
    await call('POST', '/v1/miners', wireRegistration('gpu-2', { price_per_unit: '100' }), KEYS.coordinator);
    const hb = await call('POST', '/v1/miners/gpu-1/heartbeat', { active_jobs: 1, latency_ms: 40 }, KEYS.miner);
    expect(hb.json.status).toMatchObject({ active_jobs: 1, latency_ms: 40 });
    const match = await call(
      'POST',
      '/v1/match',
      { requirements: { job_kind: 'wasm', min_vram_gb: 40, max_price_per_unit: '300' }, top_k: 5 },
      KEYS.client,
    );
    expect(match.status).toBe(200);
    expect(match.json.eligible).toBe(2);
    expect(match.json.candidates).toHaveLength(2);
    const first = match.json.candidates[0];
    expect(Object.keys(first.explanation).sort()).toEqual(['fit', 'latency', 'load', 'price', 'successRate', 'trust']);
    for (const t of Object.values(first.explanation) as {
      value: number;
      weight: number;
      contribution: number;
      reason: string;
    }[]) {
      expect(t.value).toBeGreaterThanOrEqual(0);
      expect(t.value).toBeLessThanOrEqual(1);
      expect(typeof t.reason).toBe('string');
    }
    const none = await call('POST', '/v1/match', { requirements: { min_vram_gb: 81 } }, KEYS.client);
    expect(none.json.candidates).toEqual([]);
    expect(
      (await call('POST', '/v1/miners/gpu-1/outcome', { success: true, latency_ms: 80 }, KEYS.coordinator)).json.stats
        .completed,
    ).toBe(1);
    expect((await call('PUT', '/v1/miners/gpu-1/trust', { trust: 0.9 }, KEYS.admin)).json.trust).toBe(0.9);
    expect((await call('GET', '/v1/miners', undefined, KEYS.admin)).json.items).toHaveLength(2);
    expect((await call('DELETE', '/v1/miners/gpu-2', undefined, KEYS.admin)).status).toBe(204);
    expect((await call('GET', '/v1/miners/gpu-2', undefined, KEYS.admin)).json.error.code).toBe('POOL_UNKNOWN_MINER');
  });

  it('enforces a role on every non-public route', async () => {
    const { call } = await startServer();
    expect((await call('POST', '/v1/match', { requirements: {} })).json.error.code).toBe('POOL_UNAUTHORIZED');
    expect((await call('POST', '/v1/match', { requirements: {} }, 'wrong-key')).status).toBe(401);
    expect((await call('POST', '/v1/miners', wireRegistration('x'), KEYS.client)).json.error.code).toBe(
      'POOL_FORBIDDEN',
    );
    expect((await call('DELETE', '/v1/miners/x', undefined, KEYS.coordinator)).status).toBe(403);
    expect((await call('GET', '/v1/miners', undefined, KEYS.miner)).status).toBe(403);
    expect((await call('PUT', '/v1/miners/x/trust', { trust: 1 }, KEYS.coordinator)).status).toBe(403);
    expect((await call('POST', '/v1/miners/x/outcome', { success: true }, KEYS.miner)).status).toBe(403);
  });

  it.each([
    ['malformed JSON', 'POST', '/v1/match', undefined, '{"requirements": ', 400, 'POOL_BAD_JSON'],
    ['unknown field', 'POST', '/v1/match', { requirements: {}, topk: 3 }, undefined, 400, 'POOL_BAD_REQUEST'],
    ['wrong type', 'POST', '/v1/match', { requirements: { min_vram_gb: '16' } }, undefined, 400, 'POOL_BAD_REQUEST'],
    ['top_k out of range', 'POST', '/v1/match', { requirements: {}, top_k: 1000 }, undefined, 400, 'POOL_BAD_REQUEST'],
    [
      'negative price',
      'POST',
      '/v1/match',
      { requirements: { max_price_per_unit: '-1' } },
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    [
      'address of another key',
      'POST',
      '/v1/miners',
      wireRegistration('a', { address: registration('z').address }),
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    [
      'bad address checksum',
      'POST',
      '/v1/miners',
      wireRegistration('a', { address: 'ait1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' }),
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    [
      'zero concurrency',
      'POST',
      '/v1/miners',
      wireRegistration('a', { max_concurrency: 0 }),
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    ['bad miner id', 'POST', '/v1/miners', wireRegistration('bad id!'), undefined, 400, 'POOL_BAD_REQUEST'],
    ['heartbeat for unknown miner', 'POST', '/v1/miners/ghost/heartbeat', {}, undefined, 404, 'POOL_UNKNOWN_MINER'],
    [
      'heartbeat with bad utilization',
      'POST',
      '/v1/miners/ghost/heartbeat',
      { utilization: 2 },
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    [
      'outcome without success',
      'POST',
      '/v1/miners/ghost/outcome',
      { latency_ms: 5 },
      undefined,
      400,
      'POOL_BAD_REQUEST',
    ],
    ['unknown route', 'GET', '/v1/nothing', undefined, undefined, 404, 'POOL_NOT_FOUND'],
  ])('%s → %i %s, and the server keeps serving', async (_name, method, path, body, raw, status, code) => {
    const { call } = await startServer();
    const res = await call(method, path, body, KEYS.admin, raw);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('rejects oversized bodies with 413 and loses nothing', async () => {
    const { call } = await startServer({ bodyLimit: 1024 });
    await call('POST', '/v1/miners', wireRegistration('keep'), KEYS.admin);
    const huge = { requirements: { models: Array.from({ length: 200 }, (_, i) => `model-${i}`) } };
    const res = await call('POST', '/v1/match', huge, KEYS.admin);
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('POOL_BODY_TOO_LARGE');
    expect((await call('GET', '/v1/miners/keep', undefined, KEYS.admin)).status).toBe(200);
  });

  it('rate-limits per client with 429 and Retry-After', async () => {
    const { call } = await startServer({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await call('GET', '/health')).status).toBe(200);
    const limited = await call('GET', '/health');
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('POOL_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a config with malformed key hashes', () => {
    expect(() =>
      createPoolHubServer({ hub: createPoolHub(), apiKeys: [{ role: 'admin', hash: 'not-a-hash' }] }),
    ).toThrow(expect.objectContaining({ code: 'SERVICE_BAD_CONFIG' }));
  });
});
