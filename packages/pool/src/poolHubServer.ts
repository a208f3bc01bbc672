import { AitbcError } from '@aitbc/crypto';
import { type ApiKeyEntry, ApiKeyRing, createService, type Service, type ServiceLogLevel } from '@aitbc/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolHub } from './poolHub.js';
import {
  heartbeatFromJson,
  matchRequestFromJson,
  matchResultToJson,
  minerRecordToJson,
  minerRegistrationFromJson,
} from './wire.js';

/**
 * Roles of the pool hub API.
 *
 * @example
 * ```ts
 * import { hashApiKey, type PoolRole } from '@aitbc/pool';
 * const role: PoolRole = 'coordinator';
 * const apiKeys = [{ role, hash: hashApiKey(process.env.COORDINATOR_KEY ?? '') }];
 * ```
 */
export type PoolRole = 'admin' | 'coordinator' | 'miner' | 'client';

/**
 * Options of {@link createPoolHubServer}.
 *
 * @example
 * ```ts
 * import { createPoolHub, createPoolHubServer, hashApiKey, type PoolHubServerOptions } from '@aitbc/pool';
 * const options: PoolHubServerOptions = { hub: createPoolHub(), port: 0, logLevel: false,
 *   apiKeys: [{ role: 'admin', hash: hashApiKey(adminKey) }] };
 * const server = createPoolHubServer(options);
 * ```
 */
export interface PoolHubServerOptions {
  readonly hub: PoolHub;
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string;
  /** Port (default 8018; 0 picks a free one). */
  readonly port?: number;
  /** API keys (SHA-256 hashes, see `hashApiKey`) with their roles. With none, every protected route answers 401. */
  readonly apiKeys: readonly ApiKeyEntry[];
  /** Maximum request body in bytes (default 64 KiB). */
  readonly bodyLimit?: number;
  /** Requests per IP per minute (default 6 000). */
  readonly rateLimitPerMinute?: number;
  /** pino log level, or `false` for no logs (default `info`). API keys are redacted. */
  readonly logLevel?: ServiceLogLevel;
}

/**
 * A running (or startable) pool hub HTTP service.
 *
 * @example
 * ```ts
 * import { createPoolHub, createPoolHubServer, type PoolHubServer } from '@aitbc/pool';
 * const server: PoolHubServer = createPoolHubServer({ hub: createPoolHub(), apiKeys, port: 0 });
 * const { url } = await server.start();
 * const res = await server.app.inject({ method: 'GET', url: '/health' }); // 200
 * await server.stop();
 * ```
 */
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
  POOL_UNKNOWN_MINER: 404,
  POOL_MINER_KEY_MISMATCH: 409,
  POOL_REGISTRY_FULL: 503,
};

/**
 * Serves a {@link PoolHub} over HTTP (fastify): `GET /health`, `GET /metrics` (public),
 * `POST /v1/match` (client, coordinator, admin), `POST /v1/miners` and
 * `POST /v1/miners/{id}/heartbeat` (miner, coordinator, admin), `POST /v1/miners/{id}/outcome`
 * (coordinator, admin), `GET /v1/miners[/{id}]` (coordinator, admin), `PUT /v1/miners/{id}/trust`
 * and `DELETE /v1/miners/{id}` (admin). Errors are `{error:{code,message,details?}}`.
 *
 * @example
 * ```ts
 * const server = createPoolHubServer({ hub: createPoolHub(), apiKeys: [{ role: 'admin', hash: hashApiKey(adminKey) }] });
 * const { url } = await server.start(); // http://127.0.0.1:8018
 * ```
 */
export function createPoolHubServer(options: PoolHubServerOptions): PoolHubServer {
  const { hub } = options;
  const keys = new ApiKeyRing(options.apiKeys);
  const service: Service = createService({
    errorPrefix: 'POOL',
    statusByCode: STATUS_BY_CODE,
    authenticate: (request) => {
      const header = request.headers['x-api-key'];
      return keys.principalOf(typeof header === 'string' ? header : undefined);
    },
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
  });
  const { metrics } = service;
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

  const minerId = (request: FastifyRequest): string => {
    const id = (request.params as { id?: string }).id ?? '';
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
      throw new AitbcError('POOL_BAD_REQUEST', 'miner id must be 1–64 characters of [A-Za-z0-9._:-]', {
        details: { field: 'id' },
      });
    }
    return id;
  };

  service.routes((app: FastifyInstance) => {
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
    app: service.app,
    metrics,
    async start() {
      return { url: await service.listen(options.host, options.port ?? 8018) };
    },
    stop: () => service.close(),
  };
}
