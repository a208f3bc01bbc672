import { AitbcError } from '@aitbc/crypto';
import { parseReceiptJson, type Receipt, validateReceipt } from '@aitbc/receipts';
import { type CallOptions, type HttpTransport, sleep } from './httpTransport.js';
import { type CursorPage, type PageOptions, paginate } from './paginate.js';

/**
 * Job states (DESIGN.md §5).
 *
 * @example
 * ```ts
 * import type { JobState } from '@aitbc/sdk';
 * const state: JobState = (await client.jobs.get(jobId)).state;
 * if (state === 'FAILED' || state === 'EXPIRED') console.log('resubmit');
 * ```
 */
export type JobState = 'QUEUED' | 'ASSIGNED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';

/**
 * States a job never leaves.
 *
 * @example
 * ```ts
 * import { TERMINAL_JOB_STATES } from '@aitbc/sdk';
 * const job = await client.jobs.get(jobId);
 * if (!TERMINAL_JOB_STATES.has(job.state)) console.log('still', job.state);
 * ```
 */
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED']);

/**
 * Hard requirements of a job (wire form).
 *
 * @example
 * ```ts
 * import type { JobRequirements } from '@aitbc/sdk';
 * const requirements: JobRequirements = { min_vram_gb: 24, models: ['llama-3-8b'], max_price_per_unit: '1000000000' };
 * ```
 */
export interface JobRequirements {
  readonly min_vram_gb?: number;
  readonly min_gpus?: number;
  readonly min_ram_gb?: number;
  readonly min_cpu_cores?: number;
  readonly models?: readonly string[];
  readonly regions?: readonly string[];
  /** Base units, decimal string. */
  readonly max_price_per_unit?: string;
}

/**
 * A job as the coordinator serves it (snake_case, amounts as decimal strings).
 *
 * @example
 * ```ts
 * const job = await client.jobs.get('job_123');
 * console.log(job.state, job.miner_id, job.attempts, job.history.map((h) => h.state));
 * ```
 */
export interface CoordinatorJob {
  readonly job_id: string;
  readonly client: string;
  readonly kind: string;
  readonly input: unknown;
  readonly requirements: JobRequirements;
  readonly max_price: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly max_attempts: number;
  readonly miner_id: string | null;
  readonly lease_expires_at: number | null;
  readonly created_at: number;
  readonly updated_at: number;
  readonly expires_at: number;
  readonly error: string | null;
  readonly receipt_id: string | null;
  /** Set for a job submitted with a marketplace bid. */
  readonly market?: {
    readonly bid_id: string;
    readonly match_id: string;
    readonly offer_id: string;
    readonly miner_id: string;
    readonly price_per_unit: string;
  } | null;
  readonly history: readonly {
    readonly state: JobState;
    readonly at: number;
    readonly miner_id: string | null;
    readonly reason: string | null;
  }[];
}

/**
 * What `jobs.submit` sends. Amounts are bigint here and decimal strings on the wire.
 *
 * @example
 * ```ts
 * import type { JobSubmission } from '@aitbc/sdk';
 * const job: JobSubmission = { kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n, requirements: { min_gpus: 1 }, ttlMs: 60_000 };
 * const submitted = await client.jobs.submit(job);
 * ```
 */
export interface JobSubmission {
  readonly kind: string;
  readonly input: unknown;
  /** Most the client pays, in base units. */
  readonly maxPrice: bigint;
  readonly requirements?: Omit<JobRequirements, 'max_price_per_unit'> & { readonly maxPricePerUnit?: bigint };
  readonly ttlMs?: number;
  /** Run under a marketplace bid (`bid_…`): dispatched to the matched miner first, at the matched price. */
  readonly bidId?: string;
}

/**
 * The output of a completed job.
 *
 * @example
 * ```ts
 * const { output, receipt_id } = await client.jobs.result(jobId);
 * ```
 */
export interface JobResult {
  readonly job_id: string;
  readonly output: unknown;
  readonly receipt_id: string | null;
}

/**
 * A miner's registration with the coordinator (wire form of the pool's registration).
 *
 * @example
 * ```ts
 * import type { MinerRegistrationJson } from '@aitbc/sdk';
 * const registration: MinerRegistrationJson = {
 *   miner_id: 'miner-1', address, public_key: publicKeyHex,
 *   capabilities: { job_kinds: ['hash'], cpu_cores: 8, ram_gb: 32 },
 *   price_per_unit: '1000', max_concurrency: 2,
 * };
 * await client.coordinator.miners.register(registration);
 * ```
 */
export interface MinerRegistrationJson {
  readonly miner_id: string;
  readonly address: string;
  /** Ed25519 public key, hex. */
  readonly public_key: string;
  readonly capabilities: {
    readonly gpus?: readonly { readonly model: string; readonly vram_gb: number }[];
    readonly cpu_cores?: number;
    readonly ram_gb?: number;
    readonly models?: readonly string[];
    readonly job_kinds: readonly string[];
    readonly region?: string;
  };
  readonly price_per_unit: string;
  readonly max_concurrency: number;
}

/**
 * A miner's live status for heartbeats.
 *
 * @example
 * ```ts
 * import type { MinerHeartbeat } from '@aitbc/sdk';
 * const status: MinerHeartbeat = { active_jobs: 1, queue_length: 0, running_jobs: ['job_123'] };
 * await client.coordinator.miners.heartbeat(status);
 * ```
 */
export interface MinerHeartbeat {
  readonly queue_length?: number;
  readonly active_jobs?: number;
  readonly latency_ms?: number;
  readonly utilization?: number;
  /** Jobs the miner is running (extends their leases). */
  readonly running_jobs?: readonly string[];
}

/**
 * A job handed to a miner by `miners.poll`.
 *
 * @example
 * ```ts
 * const job = await client.coordinator.miners.poll({ maxWaitSeconds: 10 });
 * if (job !== null) console.log(job.job_id, job.kind, job.max_price, new Date(job.lease_expires_at));
 * ```
 */
export interface MinerAssignment {
  readonly job_id: string;
  readonly kind: string;
  readonly input: unknown;
  readonly client: string;
  readonly max_price: string;
  readonly lease_expires_at: number;
}

/**
 * A login challenge (`POST /v1/auth/challenge`): sign `message` with kind `login` and `chain_id`.
 *
 * @example
 * ```ts
 * const challenge = await client.coordinator.challenge(signer.address);
 * const signature = await signer.signLogin(challenge.chain_id, challenge.message);
 * ```
 */
export interface LoginChallenge {
  readonly address: string;
  readonly nonce: string;
  readonly coordinator: string;
  readonly chain_id: string;
  readonly expires_at: number;
  readonly message: { readonly address: string; readonly nonce: string; readonly coordinator: string };
}

/**
 * A bearer session from a wallet login.
 *
 * @example
 * ```ts
 * const session = await client.login(createLocalSigner(seed));
 * console.log(session.token_type, new Date(session.expires_at));
 * ```
 */
export interface LoginSession {
  readonly token: string;
  readonly token_type: 'Bearer';
  readonly expires_at: number;
}

/**
 * Client routes of the coordinator (role `client`, API key or wallet-login bearer token).
 *
 * @example
 * ```ts
 * const job = await client.jobs.submit({ kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n });
 * const done = await client.jobs.wait(job.job_id, { onState: (j) => console.log(j.state) });
 * if (done.state === 'COMPLETED') console.log((await client.jobs.result(job.job_id)).output);
 * ```
 */
export interface CoordinatorJobsApi {
  /** `POST /v1/jobs` with an `Idempotency-Key` (fresh per call unless given): retried safely. */
  submit(job: JobSubmission, options?: CallOptions): Promise<CoordinatorJob>;
  /** `GET /v1/jobs/{id}`. */
  get(jobId: string, options?: CallOptions): Promise<CoordinatorJob>;
  /** `GET /v1/jobs/{id}/result` (`COORD_NOT_COMPLETED` until the job completed). */
  result(jobId: string, options?: CallOptions): Promise<JobResult>;
  /** `POST /v1/jobs/{id}/cancel`. */
  cancel(jobId: string, options?: CallOptions): Promise<CoordinatorJob>;
  /** One page of `GET /v1/jobs/{id}/receipts`; receipts keep their exact number lexemes. */
  receiptsPage(jobId: string, page?: CallOptions & { cursor?: string; limit?: number }): Promise<CursorPage<Receipt>>;
  /** Every receipt of a job: `for await (const r of client.jobs.receipts(id))`. */
  receipts(jobId: string, options?: PageOptions): AsyncGenerator<Receipt, void, undefined>;
  /** One page of `GET /v1/jobs` (the caller's jobs). */
  listPage(page?: CallOptions & { cursor?: string; limit?: number }): Promise<CursorPage<CoordinatorJob>>;
  /** Every job of the caller, following the cursor. */
  list(options?: PageOptions): AsyncGenerator<CoordinatorJob, void, undefined>;
  /**
   * Polls `GET /v1/jobs/{id}` until the job reaches a terminal state (interval backs off from 100 ms
   * to `maxIntervalMs`, default 1 000); `onState` sees every state change.
   */
  wait(
    jobId: string,
    options?: CallOptions & { maxIntervalMs?: number; onState?: (job: CoordinatorJob) => void },
  ): Promise<CoordinatorJob>;
}

/**
 * Miner routes of the coordinator (role `miner`, the API key bound to one miner id).
 *
 * @example
 * ```ts
 * const miners = client.coordinator.miners;
 * const job = await miners.poll();
 * if (job !== null) await miners.fail(job.job_id, 'unsupported input');
 * ```
 */
export interface CoordinatorMinersApi {
  /** `POST /v1/miners/register`. */
  register(registration: MinerRegistrationJson, options?: CallOptions): Promise<{ miner_id: string; status: string }>;
  /** `POST /v1/miners/heartbeat`. */
  heartbeat(status?: MinerHeartbeat, options?: CallOptions): Promise<unknown>;
  /** `POST /v1/miners/poll` (long-poll up to `maxWaitSeconds`, default 30); `null` when no job came. */
  poll(options?: CallOptions & { maxWaitSeconds?: number }): Promise<MinerAssignment | null>;
  /** `POST /v1/miners/{jobId}/result` with the signed receipt (JSON text or object). */
  submitResult(
    jobId: string,
    result: { output: unknown; receipt: string | Receipt },
    options?: CallOptions,
  ): Promise<CoordinatorJob>;
  /** `POST /v1/miners/{jobId}/fail`. */
  fail(jobId: string, message: string, options?: CallOptions): Promise<CoordinatorJob>;
}

/**
 * A marketplace offer (a miner's capacity at a price).
 *
 * @example
 * ```ts
 * for await (const offer of client.coordinator.market.offers({ jobKind: 'llm.generate' }))
 *   console.log(offer.offer_id, offer.price_per_unit, `${offer.available}/${offer.slots}`);
 * ```
 */
export interface MarketOffer {
  readonly offer_id: string;
  readonly miner_id: string;
  readonly job_kinds: readonly string[];
  readonly models: readonly string[];
  readonly gpus: readonly { readonly model: string; readonly vram_gb: number }[];
  readonly cpu_cores: number;
  readonly ram_gb: number;
  readonly region: string;
  readonly price_per_unit: string;
  readonly slots: number;
  readonly available: number;
  readonly state: 'open' | 'exhausted' | 'withdrawn' | 'expired';
  readonly created_at: number;
  readonly updated_at: number;
  readonly expires_at: number;
}

/**
 * A match between a bid and an offer.
 *
 * @example
 * ```ts
 * const { bid, matches } = await client.coordinator.market.placeBid({ jobKind: 'hash', maxPricePerUnit: 1000n, quantity: 10 });
 * for (const m of matches) console.log(m.match_id, m.miner_id, m.price_per_unit, m.quantity);
 * ```
 */
export interface MarketMatch {
  readonly match_id: string;
  readonly bid_id: string;
  readonly offer_id: string;
  readonly miner_id: string;
  readonly job_kind: string;
  readonly price_per_unit: string;
  readonly quantity: number;
  readonly used: number;
  readonly score: number;
  readonly created_at: number;
}

/**
 * A marketplace bid as everyone sees it (no client, no matches).
 *
 * @example
 * ```ts
 * for await (const bid of client.coordinator.market.bids({ jobKind: 'hash' }))
 *   console.log(bid.bid_id, bid.max_price_per_unit, `${bid.filled}/${bid.quantity}`);
 * ```
 */
export interface MarketBidPublic {
  readonly bid_id: string;
  readonly job_kind: string;
  readonly requirements: Omit<JobRequirements, 'max_price_per_unit'>;
  readonly max_price_per_unit: string;
  readonly quantity: number;
  readonly filled: number;
  readonly state: 'open' | 'filled' | 'canceled' | 'expired';
  readonly created_at: number;
  readonly expires_at: number;
}

/**
 * A bid as its owner sees it.
 *
 * @example
 * ```ts
 * const bid = await client.coordinator.market.bid('bid_123');
 * console.log(bid.state, bid.used, bid.matches.length);
 * ```
 */
export interface MarketBid extends MarketBidPublic {
  readonly client: string;
  readonly used: number;
  readonly updated_at: number;
  readonly matches: readonly MarketMatch[];
}

/**
 * Filters of `market.offers`.
 *
 * @example
 * ```ts
 * import type { OfferFilter } from '@aitbc/sdk';
 * const filter: OfferFilter = { jobKind: 'llm.generate', minVramGb: 24, maxPricePerUnit: 5000n };
 * const page = await client.coordinator.market.offersPage(filter, { limit: 20 });
 * ```
 */
export interface OfferFilter {
  readonly jobKind?: string;
  readonly minerId?: string;
  readonly region?: string;
  readonly model?: string;
  readonly minVramGb?: number;
  readonly maxPricePerUnit?: bigint;
}

/**
 * Market statistics (amounts as decimal strings).
 *
 * @example
 * ```ts
 * const stats = await client.coordinator.market.stats();
 * console.log(stats.offers_open, stats.volume, stats.by_kind.hash?.median_match_price_per_unit);
 * ```
 */
export interface MarketStats {
  readonly offers_open: number;
  readonly bids_open: number;
  readonly matches: number;
  readonly units_matched: number;
  readonly volume: string;
  readonly by_kind: Readonly<
    Record<
      string,
      {
        readonly offers_open: number;
        readonly bids_open: number;
        readonly matches: number;
        readonly units_matched: number;
        readonly volume: string;
        readonly median_match_price_per_unit: string | null;
        readonly median_offer_price_per_unit: string | null;
      }
    >
  >;
}

/**
 * The coordinator's marketplace (offers, bids, matches; served when the coordinator has one).
 *
 * @example
 * ```ts
 * const market = client.coordinator.market;
 * const { offer } = await market.placeOffer({ jobKinds: ['hash'], pricePerUnit: 800n, slots: 4, ttlMs: 3_600_000 });
 * await market.withdrawOffer(offer.offer_id);
 * ```
 */
export interface CoordinatorMarketApi {
  /** One page of `GET /v1/marketplace/offers` (public). */
  offersPage(
    filter?: OfferFilter,
    page?: CallOptions & { cursor?: string; limit?: number },
  ): Promise<CursorPage<MarketOffer>>;
  /** Every offer matching `filter`, following the cursor. */
  offers(filter?: OfferFilter, options?: PageOptions): AsyncGenerator<MarketOffer, void, undefined>;
  /** `GET /v1/marketplace/offers/{id}` (public). */
  offer(offerId: string, options?: CallOptions): Promise<MarketOffer>;
  /** `POST /v1/marketplace/offers` (role `miner`): the offer and the bids it matched at once. */
  placeOffer(
    offer: {
      jobKinds: readonly string[];
      models?: readonly string[];
      pricePerUnit: bigint;
      slots: number;
      ttlMs?: number;
    },
    options?: CallOptions,
  ): Promise<{ offer: MarketOffer; matches: MarketMatch[] }>;
  /** `DELETE /v1/marketplace/offers/{id}` (role `miner`, its own offer). */
  withdrawOffer(offerId: string, options?: CallOptions): Promise<MarketOffer>;
  /** One page of `GET /v1/marketplace/bids` (public view). */
  bidsPage(
    filter?: { jobKind?: string },
    page?: CallOptions & { cursor?: string; limit?: number },
  ): Promise<CursorPage<MarketBidPublic>>;
  /** Every open bid (public view), following the cursor. */
  bids(filter?: { jobKind?: string }, options?: PageOptions): AsyncGenerator<MarketBidPublic, void, undefined>;
  /** `GET /v1/marketplace/bids/{id}` (role `client`, its own bid, with matches). */
  bid(bidId: string, options?: CallOptions): Promise<MarketBid>;
  /** `POST /v1/marketplace/bids` (role `client`) with an `Idempotency-Key`: retried safely. */
  placeBid(
    bid: {
      jobKind: string;
      maxPricePerUnit: bigint;
      quantity: number;
      requirements?: Omit<JobRequirements, 'max_price_per_unit'>;
      ttlMs?: number;
    },
    options?: CallOptions,
  ): Promise<{ bid: MarketBid; matches: MarketMatch[] }>;
  /** `DELETE /v1/marketplace/bids/{id}` (role `client`). */
  cancelBid(bidId: string, options?: CallOptions): Promise<MarketBid>;
  /** `GET /v1/marketplace/stats` (public). */
  stats(options?: CallOptions): Promise<MarketStats>;
}

/**
 * The coordinator API.
 *
 * @example
 * ```ts
 * const { status, queued, miners } = await client.coordinator.health();
 * for await (const job of client.coordinator.adminJobs({ state: 'FAILED' })) console.log(job.job_id, job.error);
 * ```
 */
export interface CoordinatorApi {
  readonly jobs: CoordinatorJobsApi;
  readonly miners: CoordinatorMinersApi;
  /** Offers and bids (`COORD_NOT_FOUND` from a coordinator without a marketplace). */
  readonly market: CoordinatorMarketApi;
  /** `GET /health` (public). */
  health(options?: CallOptions): Promise<{ status: string; queued: number; miners: number }>;
  /** `GET /metrics` (public): Prometheus text. */
  metrics(options?: CallOptions): Promise<string>;
  /** `GET /v1/admin/stats` (role `admin`). */
  adminStats(options?: CallOptions): Promise<{ queued: number; miners: number; miners_online: number }>;
  /**
   * One page of `GET /v1/admin/jobs` (role `admin`): every client's jobs by job id, optionally only
   * those in `state`. A page may come back short with a cursor (the server reads at most 10,000
   * records per page).
   */
  adminJobsPage(
    options?: CallOptions & { cursor?: string; limit?: number; state?: JobState },
  ): Promise<CursorPage<CoordinatorJob>>;
  /** Every job at the coordinator (role `admin`), page after page. */
  adminJobs(options?: PageOptions & { state?: JobState }): AsyncGenerator<CoordinatorJob, void, undefined>;
  /** `POST /v1/auth/challenge` (public). */
  challenge(address: string, options?: CallOptions): Promise<LoginChallenge>;
  /**
   * `POST /v1/auth/login` (public) with the signed challenge. The token is returned; `createClient`
   * also uses it for later coordinator calls.
   */
  login(
    login: { address: string; nonce: string; publicKey: string; signature: string },
    options?: CallOptions,
  ): Promise<LoginSession>;
}

function checkJobId(jobId: string): string {
  if (typeof jobId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(jobId))
    throw new AitbcError('SDK_BAD_INPUT', 'jobId must be 1-128 of [A-Za-z0-9._:-]', { details: { field: 'jobId' } });
  return encodeURIComponent(jobId);
}

function submissionJson(job: JobSubmission): Record<string, unknown> {
  if (typeof job?.maxPrice !== 'bigint' || job.maxPrice < 0n)
    throw new AitbcError('SDK_BAD_INPUT', 'maxPrice must be a non-negative bigint of base units', {
      details: { field: 'maxPrice' },
    });
  const out: Record<string, unknown> = { kind: job.kind, input: job.input ?? null, max_price: job.maxPrice.toString() };
  if (job.requirements !== undefined) {
    const { maxPricePerUnit, ...rest } = job.requirements;
    out.requirements = {
      ...rest,
      ...(maxPricePerUnit !== undefined ? { max_price_per_unit: maxPricePerUnit.toString() } : {}),
    };
  }
  if (job.ttlMs !== undefined) out.ttl_ms = job.ttlMs;
  if (job.bidId !== undefined) out.bid_id = job.bidId;
  return out;
}

function receiptPageFromText(text: string): CursorPage<Receipt> {
  let parsed: unknown;
  try {
    parsed = parseReceiptJson(text);
  } catch (cause) {
    throw new AitbcError('SDK_BAD_RESPONSE', 'the receipts page is not valid JSON', { cause });
  }
  const o = parsed as { items?: unknown; next_cursor?: unknown };
  if (!Array.isArray(o?.items) || (o.next_cursor !== null && typeof o.next_cursor !== 'string'))
    throw new AitbcError('SDK_BAD_RESPONSE', 'a receipts page is {items, next_cursor}');
  return { items: o.items.map((r) => validateReceipt(r)), nextCursor: o.next_cursor };
}

/**
 * Builds the {@link CoordinatorApi} over a transport. `onLogin` receives each new bearer token.
 *
 * @example
 * ```ts
 * import { createCoordinatorApi, createHttpTransport } from '@aitbc/sdk';
 * const http = createHttpTransport({ service: 'coordinator', baseUrl: 'http://127.0.0.1:8000', headers: { 'X-Api-Key': apiKey } });
 * const coordinator = createCoordinatorApi(http);
 * const job = await coordinator.jobs.get('job_123');
 * ```
 */
export function createCoordinatorApi(http: HttpTransport, onLogin?: (session: LoginSession) => void): CoordinatorApi {
  const get = <T>(path: string, o?: CallOptions, query?: Record<string, string | number | undefined>) =>
    http.request<T>({ method: 'GET', path, ...(query !== undefined ? { query } : {}) }, o);
  const post = <T>(path: string, body: unknown, o?: CallOptions, extra: { idempotencyKey?: boolean } = {}) =>
    http.request<T>({ method: 'POST', path, body, ...extra }, o);
  const listPage = async (o?: CallOptions & { cursor?: string; limit?: number }) => {
    const r = await get<{ items: CoordinatorJob[]; next_cursor: string | null }>('/v1/jobs', o, {
      cursor: o?.cursor,
      limit: o?.limit,
    });
    return { items: r.items, nextCursor: r.next_cursor };
  };
  const receiptsPage = async (jobId: string, o?: CallOptions & { cursor?: string; limit?: number }) =>
    receiptPageFromText(
      await http.request<string>(
        {
          method: 'GET',
          path: `/v1/jobs/${checkJobId(jobId)}/receipts`,
          query: { cursor: o?.cursor, limit: o?.limit },
          responseType: 'text',
        },
        o,
      ),
    );
  const paged = <T>(fetch: (c: PageOptions & { cursor?: string }) => Promise<CursorPage<T>>, o: PageOptions = {}) => {
    const { cursor, maxItems, ...call } = o;
    return paginate((c) => fetch({ ...call, ...(c !== undefined ? { cursor: c } : {}) }), {
      ...(cursor !== undefined ? { cursor } : {}),
      ...(maxItems !== undefined ? { maxItems } : {}),
    });
  };

  const jobs: CoordinatorJobsApi = {
    submit: async (job, o) => post('/v1/jobs', submissionJson(job), o, { idempotencyKey: true }),
    get: async (jobId, o) => get(`/v1/jobs/${checkJobId(jobId)}`, o),
    result: async (jobId, o) => get(`/v1/jobs/${checkJobId(jobId)}/result`, o),
    // Cancelling twice is harmless (the second answers COORD_JOB_FINISHED), so it may be retried.
    cancel: async (jobId, o) =>
      http.request({ method: 'POST', path: `/v1/jobs/${checkJobId(jobId)}/cancel`, body: {}, idempotent: true }, o),
    receiptsPage,
    receipts: (jobId, o) => paged((p) => receiptsPage(jobId, p), o),
    listPage,
    list: (o) => paged(listPage, o),
    async wait(jobId, o = {}) {
      const { maxIntervalMs = 1_000, onState, ...call } = o;
      let interval = 100;
      let last: JobState | undefined;
      for (;;) {
        const job = await jobs.get(jobId, call);
        if (job.state !== last) {
          last = job.state;
          onState?.(job);
        }
        if (TERMINAL_JOB_STATES.has(job.state)) return job;
        await sleep(interval, call.signal);
        interval = Math.min(maxIntervalMs, interval * 2);
      }
    },
  };

  const miners: CoordinatorMinersApi = {
    register: async (registration, o) => post('/v1/miners/register', registration, o),
    heartbeat: async (status = {}, o) =>
      http.request({ method: 'POST', path: '/v1/miners/heartbeat', body: status, idempotent: true }, o),
    async poll(o = {}) {
      const wait = o.maxWaitSeconds ?? 30;
      const r = await http.request<MinerAssignment | undefined>(
        { method: 'POST', path: '/v1/miners/poll', body: { max_wait_seconds: wait } },
        { ...o, timeoutMs: o.timeoutMs ?? wait * 1000 + 10_000 },
      );
      return r ?? null;
    },
    submitResult: async (jobId, result, o) =>
      post(`/v1/miners/${checkJobId(jobId)}/result`, { output: result.output ?? null, receipt: result.receipt }, o),
    fail: async (jobId, message, o) => post(`/v1/miners/${checkJobId(jobId)}/fail`, { message }, o),
  };

  const marketId = (id: string, what: string) => {
    if (typeof id !== 'string' || !/^[a-z]+_[0-9a-f]{1,64}$/.test(id))
      throw new AitbcError('SDK_BAD_INPUT', `${what} must be a marketplace id (prefix_hex)`, {
        details: { field: what },
      });
    return encodeURIComponent(id);
  };
  const offerQuery = (f: OfferFilter = {}) => ({
    job_kind: f.jobKind,
    miner_id: f.minerId,
    region: f.region,
    model: f.model,
    min_vram_gb: f.minVramGb,
    max_price_per_unit: f.maxPricePerUnit?.toString(),
  });
  const offersPage = async (f?: OfferFilter, o?: CallOptions & { cursor?: string; limit?: number }) => {
    const r = await get<{ items: MarketOffer[]; next_cursor: string | null }>('/v1/marketplace/offers', o, {
      ...offerQuery(f),
      cursor: o?.cursor,
      limit: o?.limit,
    });
    return { items: r.items, nextCursor: r.next_cursor };
  };
  const bidsPage = async (f?: { jobKind?: string }, o?: CallOptions & { cursor?: string; limit?: number }) => {
    const r = await get<{ items: MarketBidPublic[]; next_cursor: string | null }>('/v1/marketplace/bids', o, {
      job_kind: f?.jobKind,
      cursor: o?.cursor,
      limit: o?.limit,
    });
    return { items: r.items, nextCursor: r.next_cursor };
  };
  const amountOf = (v: bigint, field: string) => {
    if (typeof v !== 'bigint' || v < 0n)
      throw new AitbcError('SDK_BAD_INPUT', `${field} must be a non-negative bigint of base units`, {
        details: { field },
      });
    return v.toString();
  };
  const market: CoordinatorMarketApi = {
    offersPage,
    offers: (f, o) => paged((p) => offersPage(f, p), o),
    offer: async (id, o) => get(`/v1/marketplace/offers/${marketId(id, 'offer')}`, o),
    placeOffer: async (offer, o) =>
      post(
        '/v1/marketplace/offers',
        {
          job_kinds: offer.jobKinds,
          ...(offer.models !== undefined ? { models: offer.models } : {}),
          price_per_unit: amountOf(offer.pricePerUnit, 'pricePerUnit'),
          slots: offer.slots,
          ...(offer.ttlMs !== undefined ? { ttl_ms: offer.ttlMs } : {}),
        },
        o,
      ),
    withdrawOffer: async (id, o) =>
      http.request({ method: 'DELETE', path: `/v1/marketplace/offers/${marketId(id, 'offer')}` }, o),
    bidsPage,
    bids: (f, o) => paged((p) => bidsPage(f, p), o),
    bid: async (id, o) => get(`/v1/marketplace/bids/${marketId(id, 'bid')}`, o),
    placeBid: async (bid, o) =>
      post(
        '/v1/marketplace/bids',
        {
          job_kind: bid.jobKind,
          max_price_per_unit: amountOf(bid.maxPricePerUnit, 'maxPricePerUnit'),
          quantity: bid.quantity,
          ...(bid.requirements !== undefined ? { requirements: bid.requirements } : {}),
          ...(bid.ttlMs !== undefined ? { ttl_ms: bid.ttlMs } : {}),
        },
        o,
        { idempotencyKey: true },
      ),
    cancelBid: async (id, o) =>
      http.request({ method: 'DELETE', path: `/v1/marketplace/bids/${marketId(id, 'bid')}` }, o),
    stats: async (o) => get('/v1/marketplace/stats', o),
  };

  const adminJobsPage = async (o?: CallOptions & { cursor?: string; limit?: number; state?: JobState }) => {
    const r = await get<{ items: CoordinatorJob[]; next_cursor: string | null }>('/v1/admin/jobs', o, {
      cursor: o?.cursor,
      limit: o?.limit,
      state: o?.state,
    });
    return { items: r.items, nextCursor: r.next_cursor };
  };

  return {
    jobs,
    miners,
    market,
    health: async (o) => get('/health', o),
    metrics: async (o) => http.request<string>({ method: 'GET', path: '/metrics', responseType: 'text' }, o),
    adminStats: async (o) => get('/v1/admin/stats', o),
    adminJobsPage,
    adminJobs: (o = {}) => {
      const { state, ...rest } = o;
      return paged((p) => adminJobsPage({ ...p, ...(state !== undefined ? { state } : {}) }), rest);
    },
    challenge: async (address, o) => post('/v1/auth/challenge', { address }, o),
    async login(l, o) {
      const session = await post<LoginSession>(
        '/v1/auth/login',
        { address: l.address, nonce: l.nonce, public_key: l.publicKey, signature: l.signature },
        o,
      );
      if (typeof session?.token !== 'string')
        throw new AitbcError('SDK_BAD_RESPONSE', 'login answered without a token');
      onLogin?.(session);
      return session;
    },
  };
}
