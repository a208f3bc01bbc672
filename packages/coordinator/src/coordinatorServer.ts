import {
  AitbcError,
  addressFromPublicKey,
  base64urlToBytes,
  bytesToBase64url,
  bytesToHex,
  constantTimeEqual,
  hexToBytes,
  isAddress,
  randomBytes,
  sha256,
  utf8ToBytes,
  verifyMessage,
} from '@aitbc/crypto';
import { heartbeatFromJson, minerRegistrationFromJson, type PoolHub } from '@aitbc/pool';
import { parseReceiptJson } from '@aitbc/receipts';
import { type ApiKeyEntry, ApiKeyRing, createService, type Principal, type ServiceLogLevel } from '@aitbc/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { JobState, JsonValue } from './job.js';
import type { JobEngine } from './jobEngine.js';
import type { Marketplace } from './marketplace.js';
import {
  bidInputFromJson,
  bidToJson,
  bidToPublicJson,
  marketStatsToJson,
  matchToJson,
  offerFilterFromQuery,
  offerInputFromJson,
  offerToJson,
} from './marketWire.js';
import type { Settler, SettlerStatus } from './settler.js';
import { jobSubmissionFromJson, jobToJson } from './wire.js';

/**
 * Options of {@link createCoordinatorServer}.
 *
 * @example
 * ```ts
 * import { type CoordinatorServerOptions, createCoordinatorServer } from '@aitbc/coordinator';
 * import { hashApiKey } from '@aitbc/service-kit';
 * const options: CoordinatorServerOptions = { engine, hub, chainId: 'aitbc-devnet', coordinatorId: 'coord-1', port: 0,
 *   apiKeys: [{ role: 'admin', hash: hashApiKey(adminKey) }, { role: 'miner', subject: 'gpu-box-1', hash: hashApiKey(minerKey) }] };
 * const server = createCoordinatorServer(options);
 * ```
 */
export interface CoordinatorServerOptions {
  readonly engine: JobEngine;
  /** The pool hub the engine dispatches with (miners register into its registry). */
  readonly hub: PoolHub;
  /** Chain id, for wallet logins (signed messages are bound to it). */
  readonly chainId: string;
  /** This coordinator's id, bound into login challenges. */
  readonly coordinatorId: string;
  /**
   * API keys as SHA-256 hashes with roles `client` (subject = the client's `ait1…` address),
   * `miner` (subject = the miner id) or `admin`.
   */
  readonly apiKeys: readonly ApiKeyEntry[];
  readonly host?: string;
  /** Default 8000. */
  readonly port?: number;
  /** Body limit in bytes (default 512 KiB: job inputs are up to 256 KiB, results up to 1 MiB — raise it for large results). */
  readonly bodyLimit?: number;
  readonly rateLimitPerMinute?: number;
  readonly logLevel?: ServiceLogLevel;
  /** Lifetime of wallet-login bearer tokens (ms, default 1 h). */
  readonly sessionTtlMs?: number;
  /** Longest miner long-poll (s, default 60). */
  readonly maxPollSeconds?: number;
  /**
   * The marketplace (give the engine the same one): serves the `/v1/marketplace/*` routes. Without it
   * those routes are 404.
   */
  readonly marketplace?: Marketplace;
  /**
   * The settler paying completed jobs: its state (`ok`, `backing-off` with the last error, open
   * settlements) is shown in `GET /health` and `GET /v1/admin/stats`, and counted in the metrics.
   */
  readonly settler?: Settler;
}

/**
 * The coordinator HTTP service.
 *
 * @example
 * ```ts
 * import { type CoordinatorServer, createCoordinatorServer } from '@aitbc/coordinator';
 * const server: CoordinatorServer = createCoordinatorServer({ engine, hub, chainId, coordinatorId: 'coord-1', apiKeys });
 * const { url } = await server.start(); // http://127.0.0.1:8000
 * await server.stop();
 * ```
 */
export interface CoordinatorServer {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  readonly app: FastifyInstance;
  readonly metrics: Registry;
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  COORD_BAD_REQUEST: 400,
  POOL_BAD_REQUEST: 400,
  COORD_BAD_CURSOR: 400,
  COORD_INPUT_TOO_LARGE: 413,
  COORD_OUTPUT_TOO_LARGE: 413,
  COORD_UNKNOWN_JOB: 404,
  COORD_UNKNOWN_MINER: 404,
  COORD_NOT_ASSIGNED: 409,
  COORD_JOB_FINISHED: 409,
  COORD_NOT_COMPLETED: 409,
  COORD_IDEMPOTENCY_CONFLICT: 409,
  POOL_MINER_KEY_MISMATCH: 409,
  COORD_RECEIPT_INVALID: 422,
  COORD_LOGIN_FAILED: 401,
  COORD_QUEUE_FULL: 503,
  POOL_REGISTRY_FULL: 503,
  COORD_FORBIDDEN: 403,
  COORD_MARKET_NOT_OWNER: 403,
  COORD_MARKET_UNKNOWN_OFFER: 404,
  COORD_MARKET_UNKNOWN_BID: 404,
  COORD_MARKET_CLOSED: 409,
  COORD_MARKET_NO_UNITS: 409,
  COORD_MARKET_BID_MISMATCH: 409,
  COORD_MARKET_LIMIT: 429,
  COORD_NOT_STARTED: 503,
};

/** Body limit of marketplace writes (bytes): offers and bids are small. */
const MARKET_BODY_LIMIT = 16 * 1024;

function subjectOf(request: FastifyRequest): string {
  const s = request.principal?.subject;
  if (s === undefined) throw new AitbcError('COORD_FORBIDDEN', 'this credential is not bound to a client or miner');
  return s;
}

/**
 * Serves the coordinator API of DESIGN.md §5 over a {@link JobEngine}:
 *
 * - client (`X-Api-Key` of role `client`, or a wallet-login bearer token): `POST /v1/jobs`
 *   (`Idempotency-Key`), `GET /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/result`,
 *   `POST /v1/jobs/{id}/cancel`, `GET /v1/jobs/{id}/receipts`;
 * - miner (role `miner`, bound to its miner id): `POST /v1/miners/register`, `/heartbeat`, `/poll`
 *   (long-poll up to `max_wait_seconds`), `POST /v1/miners/{jobId}/result`, `/fail`;
 * - admin: `GET /v1/admin/stats`, `GET /v1/admin/jobs?state=&cursor=&limit=` (every client’s jobs); public: `/health`, `/metrics`, `POST /v1/auth/challenge`,
 *   `POST /v1/auth/login`;
 * - marketplace (with `marketplace`): public `GET /v1/marketplace/offers[/{id}]`, `/bids`, `/stats`;
 *   miner `POST /v1/marketplace/offers`, `DELETE /v1/marketplace/offers/{id}`; client
 *   `POST /v1/marketplace/bids` (`Idempotency-Key`), `GET` / `DELETE /v1/marketplace/bids/{id}`.
 *
 * @example
 * ```ts
 * const server = createCoordinatorServer({ engine, hub, chainId: 'aitbc-devnet', coordinatorId: 'coord-1',
 *   apiKeys: [{ role: 'client', subject: clientAddress, hash: hashApiKey(clientKey) }] });
 * const { url } = await server.start(); // http://127.0.0.1:8000
 * ```
 */
export function createCoordinatorServer(options: CoordinatorServerOptions): CoordinatorServer {
  const { engine, hub } = options;
  const keys = new ApiKeyRing(options.apiKeys);
  const sessionTtl = options.sessionTtlMs ?? 3_600_000;
  const maxPoll = options.maxPollSeconds ?? 60;
  const challenges = new Map<string, { nonce: string; expiresAt: number }>();
  const sessions = new Map<string, { address: string; expiresAt: number }>();
  const MAX_PENDING = 10_000;
  /** In-flight long-polls, released on stop so that closing never waits for them. */
  const polls = new Set<AbortController>();

  const authenticate = (request: FastifyRequest): Principal | undefined => {
    const auth = request.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
      const hash = bytesToHex(sha256(utf8ToBytes(auth.slice(7))));
      const s = sessions.get(hash);
      if (s === undefined || s.expiresAt <= Date.now()) return undefined;
      return { role: 'client', subject: s.address };
    }
    const header = request.headers['x-api-key'];
    return keys.principalOf(typeof header === 'string' ? header : undefined);
  };

  const service = createService({
    errorPrefix: 'COORD',
    statusByCode: STATUS_BY_CODE,
    authenticate,
    bodyLimit: options.bodyLimit ?? 512 * 1024,
    ...(options.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
  });
  const { metrics } = service;
  const submitted = new Counter({
    name: 'coordinator_jobs_submitted_total',
    help: 'Jobs accepted.',
    registers: [metrics],
  });
  const finished = new Counter({
    name: 'coordinator_jobs_finished_total',
    help: 'Jobs that reached a terminal state.',
    labelNames: ['state'] as const,
    registers: [metrics],
  });
  new Gauge({
    name: 'coordinator_jobs_queued',
    help: 'Jobs waiting for a miner.',
    registers: [metrics],
    collect() {
      this.set(engine.queued);
    },
  });
  const market = options.marketplace;
  if (market !== undefined) {
    const matchesTotal = new Counter({
      name: 'coordinator_market_matches_total',
      help: 'Marketplace matches made (bid × offer).',
      registers: [metrics],
    });
    const unitsTotal = new Counter({
      name: 'coordinator_market_units_matched_total',
      help: 'Units matched on the marketplace.',
      registers: [metrics],
    });
    market.onMatch((m) => {
      matchesTotal.inc();
      unitsTotal.inc(m.quantity);
    });
    new Gauge({
      name: 'coordinator_market_offers_open',
      help: 'Open marketplace offers.',
      registers: [metrics],
      collect() {
        this.set(market.stats().offersOpen);
      },
    });
    new Gauge({
      name: 'coordinator_market_bids_open',
      help: 'Open marketplace bids.',
      registers: [metrics],
      collect() {
        this.set(market.stats().bidsOpen);
      },
    });
  }
  const settler = options.settler;
  if (settler !== undefined) registerSettlerMetrics(metrics, settler);
  engine.onTransition((job, previous) => {
    if (previous === undefined) submitted.inc();
    if (['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'].includes(job.state)) finished.inc({ state: job.state });
  });

  const ownJob = async (request: FastifyRequest) => {
    const id = (request.params as { id: string }).id;
    const job = await engine.get(id);
    if (job === undefined || job.client !== subjectOf(request))
      throw new AitbcError('COORD_UNKNOWN_JOB', 'no such job', { details: { jobId: id } });
    return job;
  };
  const minerOf = (request: FastifyRequest) => subjectOf(request);
  const body = (request: FastifyRequest) => {
    const b = request.body;
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      throw new AitbcError('COORD_BAD_REQUEST', 'body must be a JSON object', { details: { field: 'body' } });
    return b as Record<string, unknown>;
  };
  const page = (request: FastifyRequest) => {
    const q = request.query as { cursor?: string; limit?: string };
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
      throw new AitbcError('COORD_BAD_REQUEST', 'limit must be an integer in [1, 500]', {
        details: { field: 'limit' },
      });
    return q.cursor === undefined ? { limit } : { limit, cursor: q.cursor };
  };

  service.routes((app) => {
    // The API answers while settlement backs off (jobs keep running; payments wait): `settlement`
    // tells the operator why.
    app.get('/health', { config: { roles: 'public' } }, async () => ({
      status: 'ok',
      queued: engine.queued,
      miners: hub.registry.size,
      ...(settler !== undefined ? { settlement: settlerStatusToJson(settler.status()) } : {}),
    }));
    app.get('/metrics', { config: { roles: 'public', rateLimit: false } }, async (_req, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    });

    // Wallet login: sign a server nonce with the account key → bearer token (role client).
    app.post('/v1/auth/challenge', { config: { roles: 'public' } }, async (request) => {
      const address = body(request).address;
      if (typeof address !== 'string' || !isAddress(address))
        throw new AitbcError('COORD_BAD_REQUEST', 'address must be an ait1… address', {
          details: { field: 'address' },
        });
      if (challenges.size >= MAX_PENDING) challenges.delete(challenges.keys().next().value!);
      const nonce = bytesToBase64url(randomBytes(24));
      const expiresAt = Date.now() + 300_000;
      challenges.set(address, { nonce, expiresAt });
      return {
        address,
        nonce,
        coordinator: options.coordinatorId,
        chain_id: options.chainId,
        expires_at: expiresAt,
        message: { address, nonce, coordinator: options.coordinatorId },
      };
    });
    app.post('/v1/auth/login', { config: { roles: 'public' } }, async (request) => {
      const b = body(request);
      const address = b.address;
      const pending = typeof address === 'string' ? challenges.get(address) : undefined;
      const fail = () =>
        new AitbcError('COORD_LOGIN_FAILED', 'login failed: unknown or expired challenge, or a bad signature');
      if (typeof address !== 'string' || pending === undefined || pending.expiresAt <= Date.now()) throw fail();
      if (typeof b.nonce !== 'string' || !constantTimeEqual(utf8ToBytes(b.nonce), utf8ToBytes(pending.nonce)))
        throw fail();
      let publicKey: Uint8Array;
      let signature: Uint8Array;
      try {
        publicKey = hexToBytes(String(b.public_key), 32);
        signature = base64urlToBytes(String(b.signature), 64);
      } catch {
        throw fail();
      }
      challenges.delete(address); // one attempt per challenge
      if (addressFromPublicKey(publicKey) !== address) throw fail();
      if (
        !verifyMessage(
          'login',
          options.chainId,
          { address, nonce: pending.nonce, coordinator: options.coordinatorId },
          signature,
          publicKey,
        )
      )
        throw fail();
      if (sessions.size >= MAX_PENDING) sessions.delete(sessions.keys().next().value!);
      const token = bytesToBase64url(randomBytes(32));
      const expiresAt = Date.now() + sessionTtl;
      sessions.set(bytesToHex(sha256(utf8ToBytes(token))), { address, expiresAt });
      return { token, token_type: 'Bearer', expires_at: expiresAt };
    });

    // Client routes.
    app.post('/v1/jobs', { config: { roles: ['client'] } }, async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const job = await engine.submit(
        subjectOf(request),
        jobSubmissionFromJson(request.body),
        typeof key === 'string' ? key : undefined,
      );
      return reply.code(201).send(jobToJson(job));
    });
    app.get('/v1/jobs', { config: { roles: ['client'] } }, async (request) => {
      const { items, nextCursor } = await engine.list(subjectOf(request), page(request));
      return { items: items.map(jobToJson), next_cursor: nextCursor };
    });
    app.get('/v1/jobs/:id', { config: { roles: ['client'] } }, async (request) => jobToJson(await ownJob(request)));
    app.get('/v1/jobs/:id/result', { config: { roles: ['client'] } }, async (request) => {
      const job = await ownJob(request);
      if (job.state !== 'COMPLETED')
        throw new AitbcError('COORD_NOT_COMPLETED', `job is ${job.state}`, { details: { state: job.state } });
      return { job_id: job.id, output: (await engine.result(job.id)) ?? null, receipt_id: job.receiptId ?? null };
    });
    app.post('/v1/jobs/:id/cancel', { config: { roles: ['client'] } }, async (request) => {
      const id = (request.params as { id: string }).id;
      return jobToJson(await engine.cancel(subjectOf(request), id));
    });
    app.get('/v1/jobs/:id/receipts', { config: { roles: ['client'] } }, async (request, reply: FastifyReply) => {
      const job = await ownJob(request);
      const { cursor } = page(request) as { limit: number; cursor?: string };
      // A job has at most one receipt, so every page is the first and last: no cursor is ever issued.
      if (cursor !== undefined) throw new AitbcError('COORD_BAD_CURSOR', 'cursor is not one this server issued');
      const text = await engine.receiptJson(job.id);
      // Receipts keep their exact number lexemes: send the stored canonical text, not a re-serialization.
      return reply.type('application/json; charset=utf-8').send(`{"items":[${text ?? ''}],"next_cursor":null}`);
    });

    // Miner routes: the credential is bound to one miner id.
    app.post('/v1/miners/register', { config: { roles: ['miner'] } }, async (request, reply) => {
      const reg = minerRegistrationFromJson(request.body);
      if (reg.id !== minerOf(request))
        throw new AitbcError('COORD_FORBIDDEN', 'this key may only register its own miner id');
      await hub.registry.register(reg);
      return reply.code(201).send({ miner_id: reg.id, status: 'registered' });
    });
    app.post('/v1/miners/heartbeat', { config: { roles: ['miner'] } }, async (request) => {
      const b = body(request);
      const { running_jobs: running, ...status } = b;
      if (
        running !== undefined &&
        (!Array.isArray(running) || running.length > 1024 || running.some((j) => typeof j !== 'string'))
      ) {
        throw new AitbcError('COORD_BAD_REQUEST', 'running_jobs must be an array of job ids', {
          details: { field: 'running_jobs' },
        });
      }
      const minerId = minerOf(request);
      hub.registry.heartbeat(minerId, heartbeatFromJson(status));
      return engine.heartbeat(minerId, (running as string[] | undefined) ?? []);
    });
    app.post('/v1/miners/poll', { config: { roles: ['miner'] } }, async (request, reply) => {
      const wait = (request.body as { max_wait_seconds?: unknown } | null)?.max_wait_seconds ?? 30;
      if (typeof wait !== 'number' || !(wait >= 0 && wait <= maxPoll)) {
        throw new AitbcError('COORD_BAD_REQUEST', `max_wait_seconds must be a number in [0, ${maxPoll}]`, {
          details: { field: 'max_wait_seconds' },
        });
      }
      const ac = new AbortController();
      reply.raw.once('close', () => ac.abort()); // the connection closed before we answered: release the wait
      polls.add(ac);
      let a: Awaited<ReturnType<JobEngine['poll']>>;
      try {
        a = await engine.poll(minerOf(request), { maxWaitMs: wait * 1000, signal: ac.signal });
      } finally {
        polls.delete(ac);
      }
      if (a === null) return reply.code(204).send();
      return {
        job_id: a.jobId,
        kind: a.kind,
        input: a.input,
        client: a.client,
        max_price: a.maxPrice.toString(),
        lease_expires_at: a.leaseExpiresAt,
        market:
          a.market === undefined
            ? null
            : {
                bid_id: a.market.bidId,
                match_id: a.market.matchId,
                offer_id: a.market.offerId,
                price_per_unit: a.market.pricePerUnit.toString(),
              },
      };
    });
    app.post('/v1/miners/:jobId/result', { config: { roles: ['miner'] } }, async (request) => {
      const b = body(request);
      const receipt =
        typeof b.receipt === 'string' ? b.receipt : b.receipt === undefined ? undefined : JSON.stringify(b.receipt);
      if (receipt === undefined)
        throw new AitbcError('COORD_BAD_REQUEST', 'receipt is required (the signed receipt, JSON text preferred)', {
          details: { field: 'receipt' },
        });
      parseReceiptJson(receipt); // malformed JSON → RECEIPT_MALFORMED (400) before the engine runs
      const job = await engine.complete(
        minerOf(request),
        (request.params as { jobId: string }).jobId,
        (b.output ?? null) as JsonValue,
        receipt,
      );
      return jobToJson(job);
    });
    app.post('/v1/miners/:jobId/fail', { config: { roles: ['miner'] } }, async (request) => {
      const message = body(request).message;
      if (typeof message !== 'string' || message.length === 0)
        throw new AitbcError('COORD_BAD_REQUEST', 'message must be a non-empty string', {
          details: { field: 'message' },
        });
      return jobToJson(await engine.fail(minerOf(request), (request.params as { jobId: string }).jobId, message));
    });

    const market = options.marketplace;
    if (market !== undefined) {
      const marketPage = (request: FastifyRequest) => {
        const q = request.query as { cursor?: string; limit?: string };
        const p = page(request);
        return q.cursor === undefined ? { limit: p.limit } : { limit: p.limit, cursor: q.cursor };
      };
      app.get('/v1/marketplace/offers', { config: { roles: 'public' } }, async (request) => {
        const filter = offerFilterFromQuery(request.query as Record<string, string | undefined>);
        const { items, nextCursor } = market.listOffers(filter, marketPage(request));
        return { items: items.map(offerToJson), next_cursor: nextCursor };
      });
      app.get('/v1/marketplace/offers/:id', { config: { roles: 'public' } }, async (request) => {
        const id = (request.params as { id: string }).id;
        const offer = await market.getOffer(id);
        if (offer === undefined)
          throw new AitbcError('COORD_MARKET_UNKNOWN_OFFER', 'no such offer', { details: { offerId: id } });
        return offerToJson(offer);
      });
      app.post(
        '/v1/marketplace/offers',
        { config: { roles: ['miner'] }, bodyLimit: MARKET_BODY_LIMIT },
        async (request, reply) => {
          const { offer, matches } = await market.placeOffer(minerOf(request), offerInputFromJson(request.body));
          return reply.code(201).send({ offer: offerToJson(offer), matches: matches.map(matchToJson) });
        },
      );
      app.delete('/v1/marketplace/offers/:id', { config: { roles: ['miner'] } }, async (request) =>
        offerToJson(await market.withdrawOffer(minerOf(request), (request.params as { id: string }).id)),
      );
      app.get('/v1/marketplace/bids', { config: { roles: 'public' } }, async (request) => {
        const kind = (request.query as { job_kind?: string }).job_kind;
        if (kind !== undefined && !/^[a-z][a-z0-9._-]{0,63}$/.test(kind))
          throw new AitbcError('COORD_BAD_REQUEST', 'job_kind must be a job kind', { details: { field: 'job_kind' } });
        const { items, nextCursor } = market.listBids(kind === undefined ? {} : { jobKind: kind }, marketPage(request));
        return { items: items.map(bidToPublicJson), next_cursor: nextCursor };
      });
      app.get('/v1/marketplace/bids/:id', { config: { roles: ['client'] } }, async (request) => {
        const id = (request.params as { id: string }).id;
        const bid = await market.getBid(id);
        if (bid === undefined)
          throw new AitbcError('COORD_MARKET_UNKNOWN_BID', 'no such bid', { details: { bidId: id } });
        if (bid.client !== subjectOf(request))
          throw new AitbcError('COORD_MARKET_NOT_OWNER', 'this bid belongs to someone else');
        return bidToJson(bid, await market.matchesOf(bid));
      });
      app.post(
        '/v1/marketplace/bids',
        { config: { roles: ['client'] }, bodyLimit: MARKET_BODY_LIMIT },
        async (request, reply) => {
          const key = request.headers['idempotency-key'];
          const { bid, matches } = await market.placeBid(
            subjectOf(request),
            bidInputFromJson(request.body),
            typeof key === 'string' ? key : undefined,
          );
          return reply.code(201).send({ bid: bidToJson(bid, matches), matches: matches.map(matchToJson) });
        },
      );
      app.delete('/v1/marketplace/bids/:id', { config: { roles: ['client'] } }, async (request) => {
        const bid = await market.cancelBid(subjectOf(request), (request.params as { id: string }).id);
        return bidToJson(bid, await market.matchesOf(bid));
      });
      app.get('/v1/marketplace/stats', { config: { roles: 'public' } }, async () => marketStatsToJson(market.stats()));
    }

    app.get('/v1/admin/jobs', { config: { roles: ['admin'] } }, async (request) => {
      const { state } = request.query as { state?: string };
      const { items, nextCursor } = await engine.listAll({
        ...page(request),
        ...(state !== undefined ? { state: state as JobState } : {}),
      });
      return { items: items.map(jobToJson), next_cursor: nextCursor };
    });
    app.get('/v1/admin/stats', { config: { roles: ['admin'] } }, async () => ({
      queued: engine.queued,
      miners: hub.registry.size,
      miners_online: hub.registry.onlineCount(),
      ...(settler !== undefined ? { settlement: settlerStatusToJson(settler.status()) } : {}),
    }));
  });

  return {
    app: service.app,
    metrics,
    async start() {
      return { url: await service.listen(options.host, options.port ?? 8000) };
    },
    async stop() {
      for (const ac of polls) ac.abort();
      await service.close();
    },
  };
}

/** A settler's status on the wire (snake_case, times as ms). */
function settlerStatusToJson(s: SettlerStatus): Record<string, unknown> {
  return {
    state: s.state,
    open: s.open,
    consecutive_failures: s.consecutiveFailures,
    last_error:
      s.lastError === undefined
        ? null
        : {
            code: s.lastError.code,
            message: s.lastError.message,
            operation: s.lastError.operation,
            job_id: s.lastError.jobId ?? null,
            at: s.lastError.at,
          },
    last_pass_at: s.lastPassAt ?? null,
    next_pass_at: s.nextPassAt ?? null,
  };
}

/** The settler's metrics, read from its status at each scrape. */
function registerSettlerMetrics(metrics: Registry, settler: Settler): void {
  new Gauge({
    name: 'coordinator_settlements_open',
    help: 'Settlements pending or submitted (at the settler’s last pass).',
    registers: [metrics],
    collect() {
      this.set(settler.status().open);
    },
  });
  new Gauge({
    name: 'coordinator_settler_backing_off',
    help: '1 while the settler backs off after failed passes (the node or the store failing), else 0.',
    registers: [metrics],
    collect() {
      this.set(settler.status().state === 'backing-off' ? 1 : 0);
    },
  });
  // Counters from the settler's running totals: each scrape adds what happened since the last one.
  const seen = { unavailable: 0, rejected: 0, final: 0, failed: 0 };
  const catchUp = (counter: Counter<'kind'> | Counter<'state'>, label: 'kind' | 'state', key: keyof typeof seen) => {
    const total = settler.status().totals[key];
    if (total > seen[key]) (counter as Counter<string>).inc({ [label]: key }, total - seen[key]);
    seen[key] = total;
  };
  new Counter({
    name: 'coordinator_settlement_errors_total',
    help: 'Settlement passes stopped by the gateway or store failing (kind "unavailable"), and settle transactions the chain refused ("rejected").',
    labelNames: ['kind'] as const,
    registers: [metrics],
    collect() {
      catchUp(this, 'kind', 'unavailable');
      catchUp(this, 'kind', 'rejected');
    },
  });
  new Counter({
    name: 'coordinator_settlements_finished_total',
    help: 'Settlements that ended: "final" (the escrow is settled on chain) or "failed".',
    labelNames: ['state'] as const,
    registers: [metrics],
    collect() {
      catchUp(this, 'state', 'final');
      catchUp(this, 'state', 'failed');
    },
  });
}
