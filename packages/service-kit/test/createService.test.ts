import { AitbcError } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { ApiKeyRing, apiKeyEntries, createService, hashApiKey, type Service } from '../src/index.js';

const services: Service[] = [];
afterEach(async () => {
  while (services.length > 0) await services.pop()!.close();
});

async function start(options: { rateLimitPerMinute?: number; bodyLimit?: number } = {}) {
  const keys = new ApiKeyRing([
    { role: 'admin', hash: hashApiKey('admin-key') },
    { role: 'client', hash: hashApiKey('client-key'), subject: 'ait1client' },
  ]);
  const service = createService({
    errorPrefix: 'TEST',
    statusByCode: { TEST_GONE: 410 },
    authenticate: (req) => keys.principalOf(req.headers['x-api-key'] as string | undefined),
    logLevel: false,
    ...options,
  });
  services.push(service);
  service.routes((app) => {
    app.get('/public', { config: { roles: 'public' } }, async () => ({ ok: true }));
    app.get('/who', { config: { roles: ['admin', 'client'] } }, async (req) => ({ principal: req.principal }));
    app.get('/admin', { config: { roles: ['admin'] } }, async () => ({ ok: true }));
    app.get('/no-policy', async () => ({ leaked: true }));
    app.post('/echo', { config: { roles: 'public' } }, async (req) => req.body);
    app.get('/gone', { config: { roles: 'public' } }, async () => {
      throw new AitbcError('TEST_GONE', 'it is gone', { details: { id: 1 } });
    });
    app.get('/boom', { config: { roles: 'public' } }, async () => {
      throw new TypeError('secret internals');
    });
  });
  const url = await service.listen(undefined, 0);
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(url + path, init);
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as { error?: { code: string; message: string; details?: unknown } } & Record<
        string,
        unknown
      >,
    };
  };
  return { url, call };
}

describe('createService', () => {
  it('close() ends a request that never answers after the grace period, and lets a quick one finish', async () => {
    const service = createService({ errorPrefix: 'TEST', authenticate: () => undefined, logLevel: false });
    let release: (() => void) | undefined;
    service.routes((app) => {
      app.get('/hang', { config: { roles: 'public' } }, () => new Promise(() => {}));
      app.get(
        '/slow',
        { config: { roles: 'public' } },
        () =>
          new Promise((r) => {
            release = () => r({ done: true });
          }),
      );
    });
    const url = await service.listen(undefined, 0);
    const hanging = fetch(`${url}/hang`).then(
      () => 'answered',
      () => 'dropped',
    );
    const slow = fetch(`${url}/slow`).then(async (res) => (await res.json()) as { done: boolean });
    await until(async () => release);
    const closed = service.close({ graceMs: 200 });
    release!();
    expect(await slow).toEqual({ done: true }); // in flight when close began: it still completes
    await closed; // resolves although /hang never answers
    expect(await hanging).toBe('dropped');
  });

  it('binds 127.0.0.1 by default', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('resolves principals and enforces roles', async () => {
    const { call } = await start();
    expect((await call('/public')).status).toBe(200);
    expect((await call('/who')).body.error!.code).toBe('TEST_UNAUTHORIZED');
    expect((await call('/who', { headers: { 'x-api-key': 'nope' } })).status).toBe(401);
    expect((await call('/who', { headers: { 'x-api-key': 'client-key' } })).body.principal).toEqual({
      role: 'client',
      subject: 'ait1client',
    });
    const forbidden = await call('/admin', { headers: { 'x-api-key': 'client-key' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error!.code).toBe('TEST_FORBIDDEN');
  });

  it('refuses a route that declares no role policy (fail closed)', async () => {
    const { call } = await start();
    const res = await call('/no-policy', { headers: { 'x-api-key': 'admin-key' } });
    expect(res.status).toBe(403);
    expect(res.body.leaked).toBeUndefined();
  });

  it('maps errors to the envelope with stable codes', async () => {
    const { call } = await start({ bodyLimit: 100 });
    expect(await call('/gone')).toMatchObject({
      status: 410,
      body: { error: { code: 'TEST_GONE', message: 'it is gone', details: { id: 1 } } },
    });
    const boom = await call('/boom');
    expect(boom).toMatchObject({ status: 500, body: { error: { code: 'TEST_INTERNAL', message: 'internal error' } } });
    expect(JSON.stringify(boom.body)).not.toContain('secret internals');
    expect(await call('/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'TEST_NOT_FOUND' } } });
    const json = { method: 'POST', headers: { 'content-type': 'application/json' } };
    expect(await call('/echo', { ...json, body: '{"a":' })).toMatchObject({
      status: 400,
      body: { error: { code: 'TEST_BAD_JSON' } },
    });
    expect(await call('/echo', { ...json, body: JSON.stringify({ x: 'y'.repeat(200) }) })).toMatchObject({
      status: 413,
      body: { error: { code: 'TEST_BODY_TOO_LARGE' } },
    });
    expect(
      await call('/echo', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' }),
    ).toMatchObject({
      status: 415,
      body: { error: { code: 'TEST_UNSUPPORTED_MEDIA_TYPE' } },
    });
    expect((await call('/echo', { ...json, body: '{"a":1}' })).body).toEqual({ a: 1 });
  });

  it('rate-limits with 429 and Retry-After', async () => {
    const { call } = await start({ rateLimitPerMinute: 2 });
    await call('/public');
    await call('/public');
    const res = await call('/public');
    expect(res.status).toBe(429);
    expect(res.body.error!.code).toBe('TEST_RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('ApiKeyRing', () => {
  it('stores only hashes and matches exact keys', () => {
    const ring = new ApiKeyRing(apiKeyEntries({ admin: [hashApiKey('a')], miner: [hashApiKey('b'), hashApiKey('c')] }));
    expect(ring.principalOf('a')).toEqual({ role: 'admin' });
    expect(ring.principalOf('c')).toEqual({ role: 'miner' });
    expect(ring.principalOf('A')).toBeUndefined();
    expect(ring.principalOf('')).toBeUndefined();
    expect(ring.principalOf(undefined)).toBeUndefined();
    expect(ring.principalOf('x'.repeat(300))).toBeUndefined();
    expect(hashApiKey('a')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects malformed configuration', () => {
    expect(() => new ApiKeyRing([{ role: 'admin', hash: 'abc' }])).toThrow(
      expect.objectContaining({ code: 'SERVICE_BAD_CONFIG' }),
    );
    expect(() => new ApiKeyRing([{ role: 'Admin Role', hash: hashApiKey('x') }])).toThrow(
      expect.objectContaining({ code: 'SERVICE_BAD_CONFIG' }),
    );
  });
});
