import { isAitbcError } from '@aitbc/crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Registry } from 'prom-client';
import type { Principal } from './apiKeyRing.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route, or `public`. A route without it is refused (fail closed). */
    roles?: readonly string[] | 'public';
  }
  interface FastifyRequest {
    /** Who the request acts as (set by the auth hook on non-public routes). */
    principal?: Principal;
  }
}

/**
 * Log levels of a service, or `false` for none.
 *
 * @example
 * ```ts
 * import { createService, type ServiceLogLevel } from '@aitbc/service-kit';
 * const logLevel: ServiceLogLevel = process.env.DEBUG ? 'debug' : 'warn';
 * const service = createService({ errorPrefix: 'POOL', authenticate: () => undefined, logLevel });
 * ```
 */
export type ServiceLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | false;

/**
 * Options of {@link createService}.
 *
 * @example
 * ```ts
 * import { createService, type ServiceOptions } from '@aitbc/service-kit';
 * const options: ServiceOptions = { errorPrefix: 'POOL', statusByCode: { POOL_UNKNOWN_MINER: 404 },
 *   authenticate: (req) => ring.principalOf(req.headers['x-api-key'] as string | undefined), bodyLimit: 16 * 1024 };
 * const service = createService(options);
 * ```
 */
export interface ServiceOptions {
  /**
   * Error-code prefix of this service, e.g. `POOL`: generic errors are reported as `<PREFIX>_BAD_JSON`,
   * `_BAD_REQUEST`, `_BODY_TOO_LARGE`, `_UNSUPPORTED_MEDIA_TYPE`, `_RATE_LIMITED`, `_UNAUTHORIZED`,
   * `_FORBIDDEN`, `_NOT_FOUND`, `_INTERNAL`.
   */
  readonly errorPrefix: string;
  /** HTTP status for each of this service's own error codes (others: 400; `*_INTERNAL`: 500). */
  readonly statusByCode?: Readonly<Record<string, number>>;
  /** Resolves the caller from the request (API key header, bearer token…); `undefined` = anonymous. */
  readonly authenticate: (request: FastifyRequest) => Principal | undefined | Promise<Principal | undefined>;
  /** Maximum request body in bytes (default 64 KiB). */
  readonly bodyLimit?: number;
  /** Requests per client IP per minute (default 6 000). */
  readonly rateLimitPerMinute?: number;
  /** pino level (default `info`); credentials (`x-api-key`, `authorization`) are always redacted. */
  readonly logLevel?: ServiceLogLevel;
  /** Where log lines go (default stdout): one JSON line per `write` call, for capture or shipping. */
  readonly logStream?: { write(line: string): void };
}

/**
 * A fastify app with the AITBC conventions applied. Register routes inside {@link Service.routes}.
 *
 * @example
 * ```ts
 * import { createService, type Service } from '@aitbc/service-kit';
 * const service: Service = createService({ errorPrefix: 'DEMO', authenticate: () => undefined });
 * service.routes((app) => app.get('/v1/ping', { config: { roles: 'public' } }, async () => ({ ok: true })));
 * const url = await service.listen('127.0.0.1', 0);
 * await service.close();
 * ```
 */
export interface Service {
  readonly app: FastifyInstance;
  /** The service's private Prometheus registry (served at `/metrics`). */
  readonly metrics: Registry;
  /** Registers routes after the shared plugins (rate limit) are in place. */
  routes(register: (app: FastifyInstance) => void): void;
  /** Listens on `host:port` (default 127.0.0.1) and resolves with the base URL. */
  listen(host: string | undefined, port: number): Promise<string>;
  /**
   * Closes the listener and open connections: idle keep-alive connections at once, requests still in
   * flight get `graceMs` (default 2,000) to finish before their connections are destroyed, so a
   * client that never lets go (a stuck long-poll, a slow reader) cannot hold the shutdown forever.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

/**
 * Sends the standard error envelope `{error:{code,message,details?}}`.
 *
 * @example
 * ```ts
 * import { sendError } from '@aitbc/service-kit';
 * app.get('/v1/jobs/:id', { config: { roles: ['client'] } }, async (req, reply) =>
 *   sendError(reply, 404, 'COORD_UNKNOWN_JOB', 'no such job', { id: (req.params as { id: string }).id }));
 * ```
 */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): FastifyReply {
  return reply.code(status).send({ error: details === undefined ? { code, message } : { code, message, details } });
}

/**
 * Creates a fastify service with the house conventions: every error is `{error:{code,message,details?}}`
 * with a stable code (AitbcError codes mapped through `statusByCode`; malformed JSON, oversized bodies,
 * wrong media types, unknown routes and rate limits mapped to `<PREFIX>_*`); every route declares its
 * roles (`config.roles`), and a route that does not is refused; per-IP rate limits answer 429 with
 * `Retry-After`; unexpected errors are logged and answered as `<PREFIX>_INTERNAL` without details.
 *
 * @example
 * ```ts
 * const keys = new ApiKeyRing([{ hash: hashApiKey(adminKey), role: 'admin' }]);
 * const service = createService({ errorPrefix: 'POOL', authenticate: (req) => keys.principalOf(req.headers['x-api-key'] as string) });
 * service.routes((app) => app.get('/v1/things', { config: { roles: ['admin'] } }, async () => ({ items: [] })));
 * const url = await service.listen('127.0.0.1', 0);
 * ```
 */
export function createService(options: ServiceOptions): Service {
  const prefix = options.errorPrefix;
  const statusByCode = options.statusByCode ?? {};
  const logLevel = options.logLevel ?? 'info';
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    logger:
      logLevel === false
        ? false
        : {
            level: logLevel,
            redact: { paths: ['req.headers["x-api-key"]', 'req.headers.authorization'], censor: '[redacted]' },
            ...(options.logStream !== undefined ? { stream: options.logStream } : {}),
          },
    logController: new LogController({ disableRequestLogging: logLevel !== 'debug' && logLevel !== 'trace' }),
  });
  const metrics = new Registry();

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAitbcError(err)) {
      const code = err.code;
      const status = statusByCode[code] ?? (code.endsWith('_INTERNAL') ? 500 : 400);
      return sendError(reply, status, code, err.message, err.details);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, 413, `${prefix}_BODY_TOO_LARGE`, 'request body is too large');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendError(reply, 415, `${prefix}_UNSUPPORTED_MEDIA_TYPE`, 'send application/json');
    if (err.statusCode === 429)
      return sendError(reply, 429, `${prefix}_RATE_LIMITED`, 'too many requests; retry later');
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      const badJson = err instanceof SyntaxError || err.code?.startsWith('FST_ERR_CTP') === true;
      return badJson
        ? sendError(reply, 400, `${prefix}_BAD_JSON`, 'request body is not valid JSON')
        : sendError(reply, err.statusCode, `${prefix}_BAD_REQUEST`, err.message);
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, `${prefix}_INTERNAL`, 'internal error');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, `${prefix}_NOT_FOUND`, 'no such route'));

  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config.roles;
    if (roles === 'public') return;
    if (roles === undefined) {
      // Unknown routes reach the not-found handler with no route config: let it answer 404.
      if (request.routeOptions.url === undefined) return;
      return sendError(reply, 403, `${prefix}_FORBIDDEN`, 'route has no role policy');
    }
    const principal = await options.authenticate(request);
    if (principal === undefined)
      return sendError(reply, 401, `${prefix}_UNAUTHORIZED`, 'valid credentials are required');
    if (!roles.includes(principal.role))
      return sendError(reply, 403, `${prefix}_FORBIDDEN`, `role "${principal.role}" may not use this route`);
    request.principal = principal;
  });

  const plugins = app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 6_000,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: {
        code: `${prefix}_RATE_LIMITED`,
        message: `rate limit of ${ctx.max} requests per minute exceeded`,
        details: { retryAfterMs: ctx.ttl },
      },
    }),
  });

  return {
    app,
    metrics,
    routes(register) {
      void plugins.after(() => register(app));
    },
    async listen(host, port) {
      return app.listen({ host: host ?? '127.0.0.1', port });
    },
    async close(closeOptions) {
      const closing = app.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), closeOptions?.graceMs ?? 2_000);
        timer.unref?.();
      });
      if ((await Promise.race([closing, grace])) === 'late') app.server.closeAllConnections();
      clearTimeout(timer);
      await closing;
    },
  };
}
