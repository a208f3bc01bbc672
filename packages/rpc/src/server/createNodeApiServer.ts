import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isAitbcError } from '@aitbc/crypto';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { type DestinationStream, type LevelWithSilent, pino } from 'pino';
import { WebSocketServer } from 'ws';
import { overrideBackend, submitThenRelease } from '../backendOverrides.js';
import { handleJsonRpc, JSON_RPC_CODES } from '../jsonRpc/handleJsonRpc.js';
import { createNodeMetrics, type NodeMetrics } from '../metrics.js';
import type { NodeBackend } from '../nodeBackend.js';
import { NODE_OPERATIONS } from '../nodeOperations.js';
import { httpStatusOf, rpcError } from '../rpcErrors.js';
import { createSubscriptionHub, type SubscriptionHubLimits } from '../ws/subscriptionHub.js';
import { buildOpenApiDocument, NODE_ROUTES } from './nodeRoutes.js';

/**
 * Limits of the node API server (all bounded counters).
 *
 * @example
 * ```ts
 * import { createNodeApiServer, type NodeApiLimits } from '@aitbc/rpc';
 * const limits: NodeApiLimits = { bodyLimit: 128 * 1024, rateLimit: 600, maxBatch: 20, maxSubscriptionsPerConnection: 4 };
 * const server = createNodeApiServer({ backend, limits });
 * ```
 */
export interface NodeApiLimits extends SubscriptionHubLimits {
  /** Largest request body in bytes (default 256 KiB). */
  readonly bodyLimit?: number;
  /** Requests per client IP per window (default 6 000). */
  readonly rateLimit?: number;
  /** Rate-limit window in ms (default 60 000). */
  readonly rateWindowMs?: number;
  /** Requests per JSON-RPC batch (default 50). */
  readonly maxBatch?: number;
  /** Open WebSocket connections in total (default 10 000). */
  readonly maxWsConnections?: number;
  /**
   * Transactions submitted (REST `send_tx` and JSON-RPC `send_tx`, all clients together) that the
   * backend has not answered yet (default 20 000). Past it a submission is refused at once with
   * `RPC_BUSY` (HTTP 503, `Retry-After: 1`) instead of holding its body while the node catches up:
   * the per-IP rate limit bounds one client, this bounds them all.
   */
  readonly maxPendingTxs?: number;
}

/**
 * Options of {@link createNodeApiServer}.
 *
 * @example
 * ```ts
 * import { createNodeApiServer, type NodeApiServerOptions } from '@aitbc/rpc';
 * const options: NodeApiServerOptions = { backend, host: '127.0.0.1', port: 0, cors: { origins: ['http://localhost:5173'] }, logger: false };
 * const server = createNodeApiServer(options);
 * ```
 */
export interface NodeApiServerOptions {
  /** What the API serves. */
  readonly backend: NodeBackend;
  /** Listen host (default `127.0.0.1`). */
  readonly host?: string;
  /** Listen port (default 8006; 0 picks a free one). */
  readonly port?: number;
  readonly limits?: NodeApiLimits;
  /** Origins allowed by CORS (exact match, or `*`). Default: none (no CORS headers). */
  readonly cors?: { readonly origins: readonly string[] };
  /** Structured JSON logs (pino): a level (default `info`) and an optional destination; `false` for none. */
  readonly logger?: { readonly level?: LevelWithSilent; readonly destination?: DestinationStream } | false;
  /** Metrics to record into (default: a fresh {@link createNodeMetrics}). */
  readonly metrics?: NodeMetrics;
}

/**
 * A node API server; see {@link createNodeApiServer}.
 *
 * @example
 * ```ts
 * import { createNodeApiServer, type NodeApiServer } from '@aitbc/rpc';
 * const server: NodeApiServer = createNodeApiServer({ backend, port: 0 });
 * const url = await server.start(); // e.g. 'http://127.0.0.1:40123'
 * await server.stop();
 * ```
 */
export interface NodeApiServer {
  /** Listens; resolves with the base URL (`http://127.0.0.1:8006`). */
  start(): Promise<string>;
  /** Closes the listener, WebSocket connections and backend subscriptions. */
  stop(): Promise<void>;
  /** The base URL once started. */
  readonly url: string | undefined;
  /** The metrics the server records into. */
  readonly metrics: NodeMetrics;
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): FastifyReply {
  return reply.code(status).send({ error: details === undefined ? { code, message } : { code, message, details } });
}

/** The `Retry-After` of an `RPC_BUSY` answer (s): a node drains its submissions within about a block time. */
const BUSY_RETRY_SECONDS = 1;

/**
 * `backend` with its `submitTx` counted: at most `max` submissions are waiting for an answer at once,
 * more are refused with `RPC_BUSY`. Every other member is the backend's own ({@link overrideBackend}). `pending()` is read into
 * `rpc_tx_submissions_pending` at scrape time, not on every submission.
 */
function boundSubmissions(
  backend: NodeBackend,
  max: number,
  metrics: NodeMetrics,
): { readonly served: NodeBackend; pending(): number } {
  let pending = 0;
  const settled = () => {
    pending--;
  };
  const submitTx: NodeBackend['submitTx'] = (tx) => {
    if (pending >= max) {
      metrics.submissionsRefused.inc();
      throw rpcError('RPC_BUSY', `the node has ${max} submitted transactions waiting for admission; retry later`, {
        limit: max,
        retryAfterSeconds: BUSY_RETRY_SECONDS,
      });
    }
    pending++;
    return submitThenRelease(() => backend.submitTx(tx), settled);
  };
  return { served: overrideBackend(backend, { submitTx }), pending: () => pending };
}

function isJsonRpcRoute(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.routeOptions.url === '/rpc';
}

/**
 * Creates the node API server (fastify): the REST routes of DESIGN.md §4, JSON-RPC 2.0 at `POST /rpc`,
 * WebSocket subscriptions at `/ws`, Prometheus `/metrics` and the OpenAPI document at
 * `/docs/openapi.json`. Construction does no I/O; call `start()`.
 *
 * Every REST error is `{error:{code,message,details?}}` with a stable code (see `RPC_ERROR_STATUS`);
 * JSON-RPC errors are JSON-RPC error objects with the same code in `error.data.code`.
 *
 * @example
 * ```ts
 * const server = createNodeApiServer({ backend, port: 0, logger: false });
 * const url = await server.start();
 * const head = await (await fetch(`${url}/rpc/head`)).json();
 * await server.stop();
 * ```
 */
export function createNodeApiServer(options: NodeApiServerOptions): NodeApiServer {
  const { backend } = options;
  const limits = options.limits ?? {};
  const metrics = options.metrics ?? createNodeMetrics();
  const rateMax = limits.rateLimit ?? 6_000;
  const rateWindow = limits.rateWindowMs ?? 60_000;
  const maxWs = limits.maxWsConnections ?? 10_000;
  const maxPendingTxs = limits.maxPendingTxs ?? 20_000;
  if (!Number.isInteger(maxPendingTxs) || maxPendingTxs < 1)
    throw rpcError('RPC_BAD_CONFIG', 'limits.maxPendingTxs must be a positive integer');
  const origins = new Set(options.cors?.origins ?? []);
  for (const o of origins)
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o))
      throw rpcError('RPC_BAD_CONFIG', 'cors origins must be scheme://host[:port] or *', { origin: o });
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535))
    throw rpcError('RPC_BAD_CONFIG', 'port must be an integer in 0..65535');

  const loggerInstance =
    options.logger === false
      ? pino({ level: 'silent' })
      : pino({ level: options.logger?.level ?? 'info' }, options.logger?.destination ?? pino.destination(1));
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
  });
  // JSON only: without a text/plain parser, other media types are answered 415.
  app.removeContentTypeParser('text/plain');
  const submissions = boundSubmissions(backend, maxPendingTxs, metrics);
  const served = submissions.served;
  const hub = createSubscriptionHub(backend, limits, { onConnectionsChanged: (n) => metrics.wsConnections.set(n) });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes ?? 4096 });
  let url: string | undefined;

  // Fixed-window per-IP counters, swept once per window.
  let windowStart = Date.now();
  let counts = new Map<string, number>();

  const originAllowed = (origin: string) => origins.has('*') || origins.has(origin);

  app.addHook('onRequest', (request, reply, done) => {
    const now = Date.now();
    if (now - windowStart >= rateWindow) {
      windowStart = now;
      counts = new Map();
    }
    const ip = request.ip;
    const n = (counts.get(ip) ?? 0) + 1;
    counts.set(ip, n);
    if (n > rateMax) {
      const retry = Math.max(1, Math.ceil((windowStart + rateWindow - now) / 1000));
      reply.header('retry-after', String(retry));
      sendError(reply, 429, 'RPC_RATE_LIMITED', `rate limit of ${rateMax} requests per window exceeded`, {
        retryAfterSeconds: retry,
      });
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (originAllowed(origin)) {
        reply.header('access-control-allow-origin', origins.has('*') ? '*' : origin);
        reply.header('vary', 'Origin');
        if (request.method === 'OPTIONS') {
          reply
            .header('access-control-allow-methods', 'GET, POST, OPTIONS')
            .header('access-control-allow-headers', 'content-type')
            .header('access-control-max-age', '600')
            .code(204)
            .send();
          return;
        }
      } else if (request.method === 'OPTIONS') {
        sendError(reply, 403, 'RPC_CORS_FORBIDDEN', 'origin is not allowed');
        return;
      }
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const badJson =
      err instanceof SyntaxError ||
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH';
    if (badJson && isJsonRpcRoute(request))
      return reply.code(400).send({
        jsonrpc: '2.0',
        id: null,
        error: { code: JSON_RPC_CODES.parseError, message: 'parse error', data: { code: 'RPC_BAD_JSON' } },
      });
    if (isAitbcError(err)) {
      const retry = err.details?.retryAfterSeconds;
      if (typeof retry === 'number') reply.header('retry-after', String(retry));
      return sendError(reply, httpStatusOf(err.code), err.code, err.message, err.details);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, 413, 'RPC_BODY_TOO_LARGE', 'request body is too large', {
        limit: limits.bodyLimit ?? 256 * 1024,
      });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendError(reply, 415, 'RPC_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    if (badJson) return sendError(reply, 400, 'RPC_BAD_JSON', 'request body is not valid JSON');
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, err.statusCode, 'RPC_BAD_REQUEST', 'bad request');
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, 'RPC_INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'RPC_NOT_FOUND', 'no such route'));

  for (const route of NODE_ROUTES) {
    const op = NODE_OPERATIONS.get(route.operation);
    if (op === undefined) continue;
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request) => {
        if (route.bodyIsTx) return op.run(served, { tx: request.body });
        const params = {
          ...(request.query as Record<string, unknown>),
          ...(request.params as Record<string, unknown>),
        };
        return op.run(served, params);
      },
    });
  }
  app.post('/rpc', async (request, reply) => {
    const result = await handleJsonRpc(served, request.body, {
      maxBatch: limits.maxBatch ?? 50,
      onError: (err) => request.log.error({ err }, 'json-rpc handler failed'),
    });
    if (result === undefined) return reply.code(204).send();
    return result;
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    metrics.submissionsPending.set(submissions.pending());
    return metrics.render();
  });
  const openApi = buildOpenApiDocument();
  app.get('/docs/openapi.json', async () => openApi);

  function rejectUpgrade(socket: Duplex, status: number, code: string) {
    const body = JSON.stringify({ error: { code, message: 'websocket upgrade refused' } });
    socket.end(
      `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/ws') return rejectUpgrade(socket, 404, 'RPC_NOT_FOUND');
    const origin = request.headers.origin;
    if (origin !== undefined && origins.size > 0 && !originAllowed(origin))
      return rejectUpgrade(socket, 403, 'RPC_CORS_FORBIDDEN');
    if (hub.connections >= maxWs) return rejectUpgrade(socket, 503, 'RPC_UNAVAILABLE');
    wss.handleUpgrade(request, socket, head, (ws) => hub.accept(ws));
  }

  return {
    metrics,
    get url() {
      return url;
    },
    async start() {
      if (url !== undefined) return url;
      hub.start();
      app.server.on('upgrade', onUpgrade);
      url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8006 });
      return url;
    },
    async stop() {
      hub.stop();
      wss.close();
      app.server.off('upgrade', onUpgrade);
      await app.close();
      url = undefined;
    },
  };
}
