import { AitbcError } from '@aitbc/crypto';
import type { MinerRegistrationJson } from './coordinatorApi.js';
import type { CallOptions, HttpTransport } from './httpTransport.js';

/**
 * A miner record as the pool hub serves it.
 *
 * @example
 * ```ts
 * const miner = await client.pool.miner('miner-1');
 * console.log(miner.status.online, miner.stats.completed, miner.trust);
 * ```
 */
export interface PoolMiner extends MinerRegistrationJson {
  readonly status: {
    readonly online: boolean;
    readonly last_heartbeat_at: number | null;
    readonly queue_length: number;
    readonly active_jobs: number;
    readonly latency_ms: number | null;
    readonly utilization: number | null;
  };
  readonly stats: { readonly completed: number; readonly failed: number };
  readonly trust: number;
  readonly registered_at: number;
}

/**
 * `POST /v1/match` request (wire form).
 *
 * @example
 * ```ts
 * import type { MatchRequestJson } from '@aitbc/sdk';
 * const request: MatchRequestJson = { requirements: { job_kind: 'llm.generate', min_vram_gb: 24 }, hints: { region: 'eu' }, top_k: 3 };
 * const { candidates } = await client.pool.match(request);
 * ```
 */
export interface MatchRequestJson {
  readonly requirements?: {
    readonly job_kind?: string;
    readonly min_vram_gb?: number;
    readonly min_gpus?: number;
    readonly min_ram_gb?: number;
    readonly min_cpu_cores?: number;
    readonly models?: readonly string[];
    readonly regions?: readonly string[];
    readonly max_price_per_unit?: string;
  };
  readonly hints?: { readonly region?: string; readonly exclude_miner_ids?: readonly string[] };
  readonly top_k?: number;
}

/**
 * One scored candidate with the explanation of every term.
 *
 * @example
 * ```ts
 * import type { MatchCandidate } from '@aitbc/sdk';
 * const [best]: MatchCandidate[] = (await client.pool.match({ requirements: { job_kind: 'hash' } })).candidates;
 * if (best) for (const [term, e] of Object.entries(best.explanation)) console.log(term, e.contribution, e.reason);
 * ```
 */
export interface MatchCandidate {
  readonly miner_id: string;
  readonly address: string;
  readonly score: number;
  readonly price_per_unit: string;
  readonly explanation: Readonly<
    Record<
      string,
      { readonly value: number; readonly weight: number; readonly contribution: number; readonly reason: string }
    >
  >;
}

/**
 * `POST /v1/match` answer.
 *
 * @example
 * ```ts
 * const { candidates, eligible, online } = await client.pool.match({ top_k: 5 });
 * console.log(`${candidates.length} of ${eligible} eligible (${online} online)`);
 * ```
 */
export interface MatchResultJson {
  readonly candidates: readonly MatchCandidate[];
  readonly eligible: number;
  readonly online: number;
}

/**
 * The pool hub API (API key roles: client, miner, coordinator, admin).
 *
 * @example
 * ```ts
 * const pool = client.pool;
 * await pool.registerMiner(registration);
 * await pool.heartbeat(registration.miner_id, { active_jobs: 1, queue_length: 0 });
 * const online = await pool.miners({ online: true });
 * ```
 */
export interface PoolApi {
  /** `GET /health` (public). */
  health(options?: CallOptions): Promise<{ status: string; miners: number; online: number }>;
  /** `GET /metrics` (public). */
  metrics(options?: CallOptions): Promise<string>;
  /** `POST /v1/match` (client, coordinator, admin): top-k miners with score explanations. */
  match(request: MatchRequestJson, options?: CallOptions): Promise<MatchResultJson>;
  /** `POST /v1/miners` (miner, coordinator, admin): register or update a miner. */
  registerMiner(registration: MinerRegistrationJson, options?: CallOptions): Promise<PoolMiner>;
  /** `POST /v1/miners/{id}/heartbeat` (miner, coordinator, admin). */
  heartbeat(
    minerId: string,
    status?: { queue_length?: number; active_jobs?: number; latency_ms?: number; utilization?: number },
    options?: CallOptions,
  ): Promise<PoolMiner>;
  /** `POST /v1/miners/{id}/outcome` (coordinator, admin). */
  recordOutcome(
    minerId: string,
    outcome: { success: boolean; latency_ms?: number },
    options?: CallOptions,
  ): Promise<PoolMiner>;
  /** `PUT /v1/miners/{id}/trust` (admin). */
  setTrust(minerId: string, trust: number, options?: CallOptions): Promise<PoolMiner>;
  /** `GET /v1/miners[?online=true]` (coordinator, admin). */
  miners(options?: CallOptions & { online?: boolean }): Promise<PoolMiner[]>;
  /** `GET /v1/miners/{id}` (coordinator, admin). */
  miner(minerId: string, options?: CallOptions): Promise<PoolMiner>;
  /** `DELETE /v1/miners/{id}` (admin). */
  removeMiner(minerId: string, options?: CallOptions): Promise<void>;
}

function minerPath(id: string): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(id))
    throw new AitbcError('SDK_BAD_INPUT', 'miner id must be 1-64 of [A-Za-z0-9._:-]', {
      details: { field: 'minerId' },
    });
  return `/v1/miners/${encodeURIComponent(id)}`;
}

/**
 * Builds the {@link PoolApi} over a transport.
 *
 * @example
 * ```ts
 * import { createHttpTransport, createPoolApi } from '@aitbc/sdk';
 * const pool = createPoolApi(createHttpTransport({ service: 'pool', baseUrl: 'http://127.0.0.1:8018', headers: { 'X-Api-Key': apiKey } }));
 * console.log(await pool.health());
 * ```
 */
export function createPoolApi(http: HttpTransport): PoolApi {
  const post = <T>(path: string, body: unknown, o?: CallOptions, idempotent?: boolean) =>
    http.request<T>({ method: 'POST', path, body, ...(idempotent !== undefined ? { idempotent } : {}) }, o);
  return {
    health: async (o) => http.request({ method: 'GET', path: '/health' }, o),
    metrics: async (o) => http.request<string>({ method: 'GET', path: '/metrics', responseType: 'text' }, o),
    // Matching reads only: safe to repeat.
    match: async (request, o) => post('/v1/match', request, o, true),
    // Registration is an upsert of the same record: safe to repeat.
    registerMiner: async (registration, o) => post('/v1/miners', registration, o, true),
    heartbeat: async (id, status = {}, o) => post(`${minerPath(id)}/heartbeat`, status, o, true),
    recordOutcome: async (id, outcome, o) => post(`${minerPath(id)}/outcome`, outcome, o),
    setTrust: async (id, trust, o) =>
      http.request({ method: 'PUT', path: `${minerPath(id)}/trust`, body: { trust } }, o),
    miners: async (o) =>
      (
        await http.request<{ items: PoolMiner[] }>(
          { method: 'GET', path: '/v1/miners', query: { online: o?.online === true ? 'true' : undefined } },
          o,
        )
      ).items,
    miner: async (id, o) => http.request({ method: 'GET', path: minerPath(id) }, o),
    removeMiner: async (id, o) => {
      await http.request({ method: 'DELETE', path: minerPath(id) }, o);
    },
  };
}
