import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, createHttpTransport, parseRetryAfter } from '../src/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => unknown;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real HTTP server on 127.0.0.1:0 that answers request n with `handler(…, n)` and records requests. */
async function serve(handler: Handler) {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; at: number }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: Date.now() });
    req.resume();
    req.on('end', () => handler(req, res, seen.length));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const envelope = (code: string, message = code, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
});
const fast = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };

describe('HTTP transport against a real server', () => {
  it('retries 429 after Retry-After, then 503, then succeeds', async () => {
    const { url, seen } = await serve((_req, res, n) => {
      if (n === 1) return json(res, 429, envelope('X_RATE_LIMITED'), { 'retry-after': '1' });
      if (n === 2) return json(res, 503, envelope('X_QUEUE_FULL'));
      json(res, 200, { ok: true });
    });
    const t = createHttpTransport({ service: 'node', baseUrl: url, retry: fast });
    expect(await t.request({ method: 'GET', path: '/x' })).toEqual({ ok: true });
    expect(seen).toHaveLength(3);
    // Retry-After: 1 was honoured (the second request came no sooner than ~1 s later).
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('retries a POST on 429/503 with the same idempotency key, and honours details.retryAfterMs', async () => {
    const { url, seen } = await serve((_req, res, n) => {
      if (n === 1) return json(res, 429, envelope('COORD_RATE_LIMITED', 'slow down', { retryAfterMs: 30 }));
      json(res, 201, { created: true });
    });
    const t = createHttpTransport({ service: 'coordinator', baseUrl: url, retry: fast });
    await t.request({ method: 'POST', path: '/v1/jobs', body: { a: 1 }, idempotencyKey: true });
    expect(seen).toHaveLength(2);
    const k = seen[0]!.headers['idempotency-key'];
    expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(seen[1]!.headers['idempotency-key']).toBe(k);
    await t.request({ method: 'POST', path: '/v1/jobs', body: {}, idempotencyKey: true }, { idempotencyKey: 'mine' });
    expect(seen[2]!.headers['idempotency-key']).toBe('mine');
  });

  it('surfaces the server code as an ApiError without retrying a 4xx/500', async () => {
    const { url, seen } = await serve((_req, res, n) =>
      n === 1
        ? json(res, 404, envelope('COORD_UNKNOWN_JOB', 'no such job', { jobId: 'j' }))
        : json(res, 500, envelope('COORD_INTERNAL')),
    );
    const t = createHttpTransport({ service: 'coordinator', baseUrl: url, retry: fast });
    const e = await t.request({ method: 'GET', path: '/v1/jobs/j' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({
      code: 'COORD_UNKNOWN_JOB',
      status: 404,
      service: 'coordinator',
      details: { jobId: 'j' },
    });
    await expect(t.request({ method: 'GET', path: '/y' })).rejects.toMatchObject({
      code: 'COORD_INTERNAL',
      status: 500,
    });
    expect(seen).toHaveLength(2);
  });

  it('gives up after the retry budget with the last error and its retryAfterMs', async () => {
    const { url, seen } = await serve((_req, res) =>
      json(res, 503, envelope('POOL_REGISTRY_FULL'), { 'retry-after': '0' }),
    );
    const t = createHttpTransport({ service: 'pool', baseUrl: url, retry: { ...fast, retries: 2 } });
    await expect(t.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
      code: 'POOL_REGISTRY_FULL',
      status: 503,
      retryAfterMs: 0,
    });
    expect(seen).toHaveLength(3);
  });

  it('does not wait for a Retry-After longer than maxRetryAfterMs', async () => {
    const { url, seen } = await serve((_req, res) =>
      json(res, 429, envelope('RPC_RATE_LIMITED'), { 'retry-after': '3600' }),
    );
    const t = createHttpTransport({ service: 'node', baseUrl: url, retry: { ...fast, maxRetryAfterMs: 1000 } });
    await expect(t.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
      code: 'RPC_RATE_LIMITED',
      retryAfterMs: 3_600_000,
    });
    expect(seen).toHaveLength(1);
  });

  it('retries network failures for GET but never for a POST without an idempotency key', async () => {
    const { url, seen } = await serve((req, res, n) => {
      if (n <= 2) req.socket.destroy();
      else json(res, 200, { n });
    });
    const t = createHttpTransport({ service: 'node', baseUrl: url, retry: fast });
    await expect(t.request({ method: 'POST', path: '/send', body: {} })).rejects.toMatchObject({ code: 'SDK_NETWORK' });
    expect(seen).toHaveLength(1);
    expect(await t.request({ method: 'GET', path: '/head' })).toEqual({ n: 3 });
    expect(seen).toHaveLength(3);
  });

  it('times out an attempt (SDK_TIMEOUT) and aborts on the caller signal (SDK_ABORTED), also during backoff', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/busy') return json(res, 503, envelope('X_BUSY'), { 'retry-after': '30' });
      // never answers /hang
    });
    const t = createHttpTransport({ service: 'node', baseUrl: url, retry: { ...fast, retries: 0 } });
    await expect(t.request({ method: 'GET', path: '/hang' }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'SDK_TIMEOUT',
    });
    const ac = new AbortController();
    const p = t.request({ method: 'GET', path: '/hang' }, { signal: ac.signal, timeoutMs: 10_000 });
    setTimeout(() => ac.abort(new Error('user left')), 50);
    await expect(p).rejects.toMatchObject({ code: 'SDK_ABORTED' });
    const ac2 = new AbortController();
    const retrying = createHttpTransport({ service: 'node', baseUrl: url, retry: { ...fast, retries: 3 } });
    const p2 = retrying.request({ method: 'GET', path: '/busy' }, { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 100);
    await expect(p2).rejects.toMatchObject({ code: 'SDK_ABORTED' });
    const pre = new AbortController();
    pre.abort();
    await expect(t.request({ method: 'GET', path: '/x' }, { signal: pre.signal })).rejects.toMatchObject({
      code: 'SDK_ABORTED',
    });
  });

  it('rejects malformed answers: non-JSON success (SDK_BAD_RESPONSE), error without envelope (SDK_HTTP_ERROR)', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>');
      } else {
        res.writeHead(418, { 'content-type': 'text/plain' });
        res.end('teapot');
      }
    });
    const t = createHttpTransport({ service: 'wallet', baseUrl: url, retry: fast });
    await expect(t.request({ method: 'GET', path: '/html' })).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(t.request({ method: 'GET', path: '/tea' })).rejects.toMatchObject({
      code: 'SDK_HTTP_ERROR',
      status: 418,
      service: 'wallet',
    });
  });

  it('refuses bad configuration and parses Retry-After dates', () => {
    expect(() => createHttpTransport({ service: 'node', baseUrl: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'SDK_BAD_CONFIG' }),
    );
    expect(() => createHttpTransport({ service: 'node', baseUrl: 'ftp://x' })).toThrow(
      expect.objectContaining({ code: 'SDK_BAD_CONFIG' }),
    );
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
