import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevnetWeb } from '../src/devnetWeb.js';
import { createWebServer, type WebServer } from '../src/webServer.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-web-'));
const root = join(dir, 'dist');
let upstream: Server;
let upstreamUrl: string;
let web: WebServer;
let url: string;
const seen: { path: string; host: string | undefined; origin: string | undefined; body: string }[] = [];

function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: init.method ?? 'GET',
        headers: init.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

beforeAll(async () => {
  mkdirSync(join(root, 'explorer'), { recursive: true });
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<p>home</p>');
  writeFileSync(join(root, 'explorer', 'index.html'), '<p>explorer</p>');
  writeFileSync(join(root, 'assets', 'app-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  // A stand-in service: echoes what it received (path, host, origin, body); upgrades /ws and echoes frames' bytes.
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', host: req.headers.host, origin: req.headers.origin, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, body }));
    });
  });
  upstream.on('upgrade', (req, socket: Socket) => {
    seen.push({ path: req.url ?? '', host: req.headers.host, origin: req.headers.origin, body: '' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end()); // http servers allow half-open sockets
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/base`;
  web = createWebServer({
    root,
    port: 0,
    upstreams: { node: upstreamUrl, coordinator: 'http://127.0.0.1:1' },
    config: { chainId: 'test-chain' },
  });
  url = await web.start();
});

afterAll(async () => {
  await web.stop();
  await new Promise<void>((r) => {
    upstream.close(() => r());
    upstream.closeAllConnections();
  });
  rmSync(dir, { recursive: true, force: true });
});

describe('createWebServer', () => {
  it('serves the built files with types, caching and a same-origin-only CSP; directories get index.html', async () => {
    const home = await raw('/');
    expect(home).toMatchObject({ status: 200, body: '<p>home</p>' });
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(home.headers['cache-control']).toBe('no-cache');
    expect((await raw('/explorer/')).body).toBe('<p>explorer</p>');
    const redirect = await raw('/explorer');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/explorer/');
    const asset = await raw('/assets/app-abc.js');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await raw('/assets/app-abc.js', { method: 'HEAD' })).body).toBe('');
  });

  it('refuses paths outside the root, unknown files, bad encodings and writes', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/explorer/..%2f..%2fsecret.txt', '/nope.js']) {
      const r = await raw(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('outside the root');
    }
    expect(JSON.parse((await raw('/%E0%A4%A')).body).error.code).toBe('NODE_WEB_BAD_PATH');
    expect(JSON.parse((await raw('/a%00b')).body).error.code).toBe('NODE_WEB_BAD_PATH');
    const post = await raw('/index.html', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(JSON.parse(post.body).error.code).toBe('NODE_WEB_METHOD_NOT_ALLOWED');
  });

  it('serves /config.json: the public values plus the proxied service paths', async () => {
    expect(JSON.parse((await raw('/config.json')).body)).toEqual({
      chainId: 'test-chain',
      node: '/api/node',
      coordinator: '/api/coordinator',
    });
  });

  it('proxies /api/<service>/… with path, query and body, the upstream host, and no Origin', async () => {
    const r = await raw('/api/node/rpc/head?x=1', {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ path: '/base/rpc/head?x=1', body: '{"a":1}' });
    expect(seen.at(-1)).toMatchObject({ host: new URL(upstreamUrl).host, origin: undefined });
  });

  it('refuses another origin (403), unknown services (404) and answers 502 for an unreachable one', async () => {
    const n = seen.length;
    const cross = await raw('/api/node/rpc/head', { headers: { origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body).error.code).toBe('NODE_WEB_FORBIDDEN_ORIGIN');
    expect(seen.length).toBe(n);
    expect((await raw('/api/wallet/x')).status).toBe(404);
    const down = await raw('/api/coordinator/v1/jobs');
    expect(down.status).toBe(502);
    expect(JSON.parse(down.body).error.code).toBe('NODE_WEB_UPSTREAM_UNAVAILABLE');
  });

  it('splices WebSocket upgrades to the service; a cross-origin upgrade is refused', async () => {
    const upgrade = (origin: string) =>
      new Promise<{ status: number; socket?: Socket }>((resolve, reject) => {
        const u = new URL(url);
        const req = request({
          host: u.hostname,
          port: u.port,
          path: '/api/node/ws',
          headers: { connection: 'Upgrade', upgrade: 'websocket', origin },
        });
        req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, socket: socket as Socket }));
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        });
        req.on('error', reject);
        req.end();
      });
    const ok = await upgrade(url);
    expect(ok.status).toBe(101);
    expect(seen.at(-1)).toMatchObject({ path: '/base/ws', origin: undefined });
    const echoed = await new Promise<string>((resolve) => {
      ok.socket?.once('data', (d) => resolve(d.toString()));
      ok.socket?.write('ping');
    });
    expect(echoed).toBe('ping');
    ok.socket?.destroy();
    expect((await upgrade('http://evil.example')).status).toBe(403);
  });

  it('rejects an upstream that is not an http:// URL', () => {
    expect(() => createWebServer({ root, upstreams: { node: 'not a url' } })).toThrow(/not a URL/);
    expect(() => createWebServer({ root, upstreams: { node: 'https://example.org' } })).toThrow(/http:\/\//);
  });
});

describe('startDevnetWeb', () => {
  it('runs without the apps when they are not built, and pins the genesis validators and coordinator key when they are', async () => {
    const base = {
      nodeRpcUrl: upstreamUrl,
      chainId: 'c',
      validators: [{ publicKey: new Uint8Array(32).fill(1), power: 1, name: 'v0' }],
    };
    expect(await startDevnetWeb({ ...base, root: join(dir, 'missing'), port: 0 })).toBeUndefined();
    expect(await startDevnetWeb({ ...base, env: { AITBC_WEB_ROOT: join(dir, 'missing') }, port: 0 })).toBeUndefined();
    const w = await startDevnetWeb({
      ...base,
      root,
      port: 0,
      coordinatorPublicKey: new Uint8Array(32).fill(2),
      coordinatorAddress: 'ait1x',
    });
    try {
      const res = await fetch(`${w?.url}/config.json`);
      expect(await res.json()).toEqual({
        chainId: 'c',
        coordinatorPublicKey: '02'.repeat(32),
        coordinatorAddress: 'ait1x',
        validators: [{ publicKey: '01'.repeat(32), power: 1, name: 'v0' }],
        node: '/api/node',
      });
    } finally {
      await w?.stop();
    }
  });
});
