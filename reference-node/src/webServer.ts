import { createReadStream, statSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { AitbcError } from '@aitbc/crypto';

/** The services the web server proxies under `/api/<name>/…`. */
export type WebUpstreamName = 'node' | 'coordinator' | 'wallet' | 'pool';

/** Options of {@link createWebServer}. */
export interface WebServerOptions {
  /** Directory of the built web apps (`apps/web/dist`): `index.html`, `explorer/`, `marketplace/`, `assets/`. */
  readonly root: string;
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 8080; 0 = any free port). */
  readonly port?: number;
  /** Base URLs of the services, proxied at `/api/<name>/` (the node's `/ws` WebSocket too). */
  readonly upstreams: Readonly<Partial<Record<WebUpstreamName, string>>>;
  /**
   * Public values the apps read from `/config.json` besides the proxied service paths: the pinned
   * coordinator key and address, the genesis validators, the chain id. Never put secrets here.
   */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** A running web server; see {@link createWebServer}. */
export interface WebServer {
  /** Listens; resolves the base URL (`http://127.0.0.1:8080`). */
  start(): Promise<string>;
  /** Closes the listener and every open connection (proxied WebSockets included). */
  stop(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

// The apps load nothing from another origin: scripts, styles and API calls (HTTP and WebSocket) are all 'self'.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

// Hop-by-hop headers are not forwarded (RFC 9110 §7.6.1); `origin` is checked here, then dropped.
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'origin',
]);

function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function forwardHeaders(headers: IncomingHttpHeaders, target: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  out.host = target.host;
  return out;
}

/**
 * The reference node's web front: serves the built explorer and marketplace apps from `root`
 * (GET/HEAD only, paths confined to `root`, `index.html` for directories, CSP `'self'` only), the
 * public `/config.json` the apps start from, and a same-origin proxy to the services at
 * `/api/node/…` (WebSocket `/api/node/ws` included), `/api/coordinator/…`, `/api/wallet/…` and
 * `/api/pool/…`. Same origin means the services need no CORS allowlist for the apps; a request
 * carrying an `Origin` other than this server's own is refused (403 `NODE_WEB_FORBIDDEN_ORIGIN`),
 * and an unreachable service answers 502 `NODE_WEB_UPSTREAM_UNAVAILABLE`. Binds 127.0.0.1 by default.
 *
 * @throws AitbcError `NODE_WEB_BAD_OPTION` for an upstream that is not an http(s) URL.
 */
export function createWebServer(options: WebServerOptions): WebServer {
  const root = resolve(options.root);
  const upstreams = new Map<string, URL>();
  for (const [name, url] of Object.entries(options.upstreams)) {
    if (url === undefined) continue;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new AitbcError('NODE_WEB_BAD_OPTION', `upstream ${name} is not a URL`, { details: { name } });
    }
    if (u.protocol !== 'http:')
      throw new AitbcError('NODE_WEB_BAD_OPTION', `upstream ${name} must be an http:// URL`, { details: { name } });
    upstreams.set(name, u);
  }
  const configBody = JSON.stringify({
    ...options.config,
    ...Object.fromEntries([...upstreams.keys()].map((name) => [name, `/api/${name}`])),
  });
  const sockets = new Set<Socket>();
  // Own keep-alive pool to the services, closed by stop().
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const sameOrigin = (headers: IncomingHttpHeaders): boolean =>
    headers.origin === undefined || headers.origin === `http://${headers.host ?? ''}`;

  const route = (rawUrl: string | undefined): { upstream: URL; path: string } | undefined => {
    const m = /^\/api\/([a-z]+)(\/[^?#]*)?(\?.*)?$/.exec(rawUrl ?? '');
    if (m === null) return undefined;
    const upstream = upstreams.get(m[1] as string);
    if (upstream === undefined) return undefined;
    const base = upstream.pathname.replace(/\/+$/, '');
    return { upstream, path: `${base}${m[2] ?? '/'}${m[3] ?? ''}` };
  };

  const serveStatic = (url: string, method: string, res: ServerResponse): void => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(url, 'http://x').pathname);
    } catch {
      sendJsonError(res, 400, 'NODE_WEB_BAD_PATH', 'malformed path');
      return;
    }
    if (pathname.includes('\0')) {
      sendJsonError(res, 400, 'NODE_WEB_BAD_PATH', 'malformed path');
      return;
    }
    let file = normalize(join(root, pathname));
    if (file !== root && !file.startsWith(root + sep)) {
      sendJsonError(res, 404, 'NODE_WEB_NOT_FOUND', 'not found');
      return;
    }
    let st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      if (!pathname.endsWith('/')) {
        res.writeHead(301, { location: `${pathname}/`, ...SECURITY_HEADERS });
        res.end();
        return;
      }
      file = join(file, 'index.html');
      st = statSync(file, { throwIfNoEntry: false });
    }
    if (st === undefined || !st.isFile()) {
      sendJsonError(res, 404, 'NODE_WEB_NOT_FOUND', 'not found');
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type,
      'content-length': st.size,
      // Vite puts content hashes in asset names: those never change; pages are revalidated.
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server = createServer((req, res) => {
    const target = route(req.url);
    if (target !== undefined) {
      if (!sameOrigin(req.headers)) {
        sendJsonError(res, 403, 'NODE_WEB_FORBIDDEN_ORIGIN', 'cross-origin requests are not proxied');
        return;
      }
      const up = httpRequest(
        {
          host: target.upstream.hostname,
          port: target.upstream.port === '' ? 80 : Number(target.upstream.port),
          method: req.method,
          path: target.path,
          headers: forwardHeaders(req.headers, target.upstream),
          agent,
        },
        (upRes) => {
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
          res.writeHead(upRes.statusCode ?? 502, headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () =>
        sendJsonError(res, 502, 'NODE_WEB_UPSTREAM_UNAVAILABLE', 'the service behind this route is unreachable'),
      );
      req.on('aborted', () => up.destroy());
      req.pipe(up);
      return;
    }
    if (req.method === 'GET' && req.url === '/config.json') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-cache',
        ...SECURITY_HEADERS,
      });
      res.end(configBody);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJsonError(res, 405, 'NODE_WEB_METHOD_NOT_ALLOWED', 'static files are read-only');
      return;
    }
    serveStatic(req.url ?? '/', req.method, res);
  });

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  // WebSocket (node `/ws`): check the origin, then splice the raw connection to the upstream.
  server.on('upgrade', (req, socket, head) => {
    const client = socket as Socket;
    const target = route(req.url);
    if (target === undefined || !sameOrigin(req.headers)) {
      client.end(`HTTP/1.1 ${target === undefined ? '404 Not Found' : '403 Forbidden'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    const upstream = connect(
      { host: target.upstream.hostname, port: target.upstream.port === '' ? 80 : Number(target.upstream.port) },
      () => {
        const headers = forwardHeaders(req.headers, target.upstream);
        let text = `${req.method ?? 'GET'} ${target.path} HTTP/1.1\r\n`;
        for (const [k, v] of Object.entries(headers))
          for (const value of Array.isArray(v) ? v : [v]) text += `${k}: ${value}\r\n`;
        text += 'connection: Upgrade\r\nupgrade: websocket\r\n\r\n';
        upstream.write(text);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      },
    );
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => {
      if (client.writable && upstream.bytesRead === 0)
        client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });

  return {
    start: () =>
      new Promise<string>((resolveStart, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
          server.off('error', reject);
          const addr = server.address();
          if (addr === null || typeof addr === 'string') {
            reject(new AitbcError('NODE_NOT_READY', 'web server has no address'));
            return;
          }
          resolveStart(`http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
        });
      }),
    stop: () =>
      new Promise<void>((resolveStop) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolveStop());
        server.closeAllConnections();
      }),
  };
}
