import { AitbcError, isAitbcError } from '@aitbc/crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type ApiKeyHashes, ApiKeyRing, type PoolRole } from './apiKeys.js';
import type { PoolHub } from './poolHub.js';
import {
  heartbeatFromJson,
  matchRequestFromJson,
  matchResultToJson,
  minerRecordToJson,
  minerRegistrationFromJson,
} from './wire.js';

/** Options of {@link createPoolHubServer}. */
export interface PoolHubServerOptions {
  readonly hub: PoolHub;
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string;
  /** Port (default 8018; 0 picks a free one). */
  readonly port?: number;
  /** API key hashes per role (see `hashApiKey`). With none configured every protected route answers 401. */
  readonly apiKeys: ApiKeyHashes;
  /** Maximum request body in bytes (default 64 KiB). */
  readonly bodyLimit?: number;
  /** Requests per IP per minute (default 6 000). */
  readonly rateLimitPerMinute?: number;
  /** pino log level, or `false` for no logs (default `info`). API keys are redacted. */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | false;
}

/** A running (or startable) pool hub HTTP service. */
export interface PoolHubServer {
  /** Binds and listens; resolves with the base URL. */
  start(): Promise<{ url: string }>;
  /** Closes the listener and open connections. */
  stop(): Promise<void>;
  /** The fastify instance (for `inject` in tests or extra routes before `start`). */
  readonly app: FastifyInstance;
  /** The private Prometheus registry served at `/metrics`. */
  readonly metrics: Registry;
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  POOL_BAD_REQUEST: 400,
  POOL_BAD_JSON: 400,
  POOL_UNAUTHORIZED: 401,
  POOL_FORBIDDEN: 403,
  POOL_NOT_FOUND: 404,
  POOL_UNKNOWN_MINER: 404,
  POOL_MINER_KEY_MISMATCH: 409,
  POOL_BODY_TOO_LARGE: 413,
  POOL_UNSUPPORTED_MEDIA_TYPE: 415,
  POOL_RATE_LIMITED: 429,
  POOL_REGISTRY_FULL: 503,
};

/** The HTTP status the pool hub answers for an error code (400 for other client errors, 500 otherwise). */
export function httpStatusForPoolError(code: string): number {
  return STATUS_BY_CODE[code] ?? (code.endsWith('_INTERNAL') ? 500 : 400);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route; `public` for none. */
    roles?: readonly PoolRole[] | 'public';
  }
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

/**
 * Serves a {@link PoolHub} over HTTP (fastify): `GET /health`, `GET /metrics` (public),
 * `POST /v1/match` (client, coordinator, admin), `POST /v1/miners` and
 * `POST /v1/miners/{id}/heartbeat` (miner, coordinator, admin), `POST /v1/miners/{id}/outcome`
 * (coordinator, admin), `GET /v1/miners[/{id}]` (coordinator, admin), `PUT /v1/miners/{id}/trust`
 * and `DELETE /v1/miners/{id}` (admin). Errors are `{error:{code,message,details?}}`.
 *
 * @example
 * ```ts
 * const server = createPoolHubServer({ hub: createPoolHub(), apiKeys: { admin: [hashApiKey(adminKey)] } });
 * const { url } = await server.start(); // http://127.0.0.1:8018
 * ```
 */
export function createPoolHubServer(options: PoolHubServerOptions): PoolHubServer {
  const { hub } = options;
  const keys = new ApiKeyRing(options.apiKeys);
  const logLevel = options.logLevel ?? 'info';
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    logger:
      logLevel === false
        ? false
        : { level: logLevel, redact: ['req.headers["x-api-key"]', 'req.headers.authorization'] },
    logController: new LogController({ disableRequestLogging: logLevel !== 'debug' && logLevel !== 'trace' }),
  });

  const metrics = new Registry();
  const matchRequests = new Counter({
    name: 'poolhub_match_requests_total',
    help: 'Match requests by outcome (ok, no_candidates, error).',
    labelNames: ['outcome'] as const,
    registers: [metrics],
  });
  const matchDuration = new Histogram({
    name: 'poolhub_match_duration_seconds',
    help: 'Time to rank candidates for one match request.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [metrics],
  });
  new Gauge({
    name: 'poolhub_miners_online',
    help: 'Miners whose last heartbeat is within the timeout.',
    registers: [metrics],
    collect() {
      this.set(hub.registry.onlineCount());
    },
  });
  new Gauge({
    name: 'poolhub_miners_registered',
    help: 'Miners registered with the hub.',
    registers: [metrics],
    collect() {
      this.set(hub.registry.size);
    },
  });

  app.setErrorHandler((err: FastifyError | AitbcError, request, reply) => {
    if (isAitbcError(err))
      return sendError(reply, httpStatusForPoolError(err.code), err.code, err.message, err.details);
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, 413, 'POOL_BODY_TOO_LARGE', 'request body is too large');
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(reply, 415, 'POOL_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    }
    if (fe.statusCode === 429) return sendError(reply, 429, 'POOL_RATE_LIMITED', 'too many requests; retry later');
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code =
        fe instanceof SyntaxError || fe.code?.startsWith('FST_ERR_CTP') ? 'POOL_BAD_JSON' : 'POOL_BAD_REQUEST';
      return sendError(
        reply,
        fe.statusCode,
        code,
        code === 'POOL_BAD_JSON' ? 'request body is not valid JSON' : fe.message,
      );
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, 'POOL_INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'POOL_NOT_FOUND', 'no such route'));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined || roles === 'public') return;
    const header = request.headers['x-api-key'];
    const role = keys.roleOf(typeof header === 'string' ? header : undefined);
    if (role === undefined) return sendError(reply, 401, 'POOL_UNAUTHORIZED', 'a valid X-Api-Key is required');
    if (!roles.includes(role)) return sendError(reply, 403, 'POOL_FORBIDDEN', `role "${role}" may not use this route`);
  });

  const rateLimitReady = app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 6_000,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: {
        code: 'POOL_RATE_LIMITED',
        message: `rate limit of ${ctx.max} requests per minute exceeded`,
        details: { retryAfterMs: ctx.ttl },
      },
    }),
  });

  const minerId = (request: FastifyRequest): string => {
    const id = (request.params as { id?: string }).id ?? '';
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
      throw new AitbcError('POOL_BAD_REQUEST', 'miner id must be 1–64 characters of [A-Za-z0-9._:-]', {
        details: { field: 'id' },
      });
    }
    return id;
  };

  void rateLimitReady.after(() => {
    app.get('/health', { config: { roles: 'public' } }, async () => ({
      status: 'ok',
      miners: hub.registry.size,
      online: hub.registry.onlineCount(),
    }));
    app.get('/metrics', { config: { roles: 'public', rateLimit: false } }, async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    });
    app.post('/v1/match', { config: { roles: ['client', 'coordinator', 'admin'] } }, async (request) => {
      const end = matchDuration.startTimer();
      try {
        const result = hub.match(matchRequestFromJson(request.body));
        matchRequests.inc({ outcome: result.candidates.length === 0 ? 'no_candidates' : 'ok' });
        return matchResultToJson(result);
      } catch (err) {
        matchRequests.inc({ outcome: 'error' });
        throw err;
      } finally {
        end();
      }
    });
    app.post('/v1/miners', { config: { roles: ['miner', 'coordinator', 'admin'] } }, async (request, reply) => {
      const record = await hub.registry.register(minerRegistrationFromJson(request.body));
      return reply.code(201).send(minerRecordToJson(record));
    });
    app.post('/v1/miners/:id/heartbeat', { config: { roles: ['miner', 'coordinator', 'admin'] } }, async (request) =>
      minerRecordToJson(hub.registry.heartbeat(minerId(request), heartbeatFromJson(request.body))),
    );
    app.post('/v1/miners/:id/outcome', { config: { roles: ['coordinator', 'admin'] } }, async (request) => {
      const body = request.body as { success?: unknown; latency_ms?: unknown } | null;
      if (typeof body !== 'object' || body === null || typeof body.success !== 'boolean') {
        throw new AitbcError('POOL_BAD_REQUEST', 'body.success must be a boolean', {
          details: { field: 'body.success' },
        });
      }
      const latency = body.latency_ms;
      if (latency !== undefined && (typeof latency !== 'number' || !(latency >= 0 && latency <= 3_600_000))) {
        throw new AitbcError('POOL_BAD_REQUEST', 'body.latency_ms must be a number in [0, 3600000]', {
          details: { field: 'body.latency_ms' },
        });
      }
      const outcome = latency === undefined ? { success: body.success } : { success: body.success, latencyMs: latency };
      return minerRecordToJson(await hub.registry.recordOutcome(minerId(request), outcome));
    });
    app.put('/v1/miners/:id/trust', { config: { roles: ['admin'] } }, async (request) => {
      const trust = (request.body as { trust?: unknown } | null)?.trust;
      return minerRecordToJson(await hub.registry.setTrust(minerId(request), trust as number));
    });
    app.get('/v1/miners', { config: { roles: ['coordinator', 'admin'] } }, async (request) => {
      const online = (request.query as { online?: string }).online === 'true';
      return { items: hub.registry.list({ onlineOnly: online }).map(minerRecordToJson) };
    });
    app.get('/v1/miners/:id', { config: { roles: ['coordinator', 'admin'] } }, async (request) => {
      const id = minerId(request);
      const record = hub.registry.get(id);
      if (record === undefined)
        throw new AitbcError('POOL_UNKNOWN_MINER', 'no miner is registered with this id', { details: { minerId: id } });
      return minerRecordToJson(record);
    });
    app.delete('/v1/miners/:id', { config: { roles: ['admin'] } }, async (request, reply) => {
      const id = minerId(request);
      if (!(await hub.registry.remove(id))) {
        throw new AitbcError('POOL_UNKNOWN_MINER', 'no miner is registered with this id', { details: { minerId: id } });
      }
      return reply.code(204).send();
    });
  });

  return {
    app,
    metrics,
    async start() {
      const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8018 });
      return { url: address };
    },
    async stop() {
      await app.close();
    },
  };
}
