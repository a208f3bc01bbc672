import { AitbcError, bytesToHex, isAitbcError } from '@aitbc/crypto';
import { ApiError } from '../apiError.js';
import { createCoordinatorApi } from '../coordinatorApi.js';
import { type CallOptions, createHttpTransport } from '../httpTransport.js';
import type { JsonValue } from './jobRunner.js';
import type { MinerCapabilities } from './probeCapabilities.js';

/**
 * A miner's registration (`POST /v1/miners/register`).
 *
 * @example
 * ```ts
 * import type { MinerRegistrationRequest } from '@aitbc/sdk/miner';
 * const registration: MinerRegistrationRequest = { minerId: 'miner-1', address, publicKey, capabilities, pricePerUnit: 1_000n, maxConcurrency: 2 };
 * await api.register(registration);
 * ```
 */
export interface MinerRegistrationRequest {
  /** The miner id the API key is bound to. */
  readonly minerId: string;
  /** The payout address, the address of `publicKey`. */
  readonly address: string;
  /** The Ed25519 public key the miner signs receipts with. */
  readonly publicKey: Uint8Array;
  /** What the miner offers (job kinds, models, hardware). */
  readonly capabilities: MinerCapabilities;
  /** Price per unit of work, base units. */
  readonly pricePerUnit: bigint;
  /** Jobs run at once (1–1024). */
  readonly maxConcurrency: number;
}

/**
 * A heartbeat (`POST /v1/miners/heartbeat`): extends the leases of the running jobs.
 *
 * @example
 * ```ts
 * import type { MinerHeartbeatRequest } from '@aitbc/sdk/miner';
 * const heartbeat: MinerHeartbeatRequest = { runningJobs: ['job_1'], activeJobs: 1, utilization: 0.5 };
 * const { cancel } = await api.heartbeat(heartbeat); // stop these jobs
 * ```
 */
export interface MinerHeartbeatRequest {
  /** Ids of the jobs the miner is running (their leases are extended; ASSIGNED ones become RUNNING). */
  readonly runningJobs: readonly string[];
  /** Jobs running now. */
  readonly activeJobs?: number;
  /** Jobs waiting at the miner. */
  readonly queueLength?: number;
  /** Load in [0, 1]. */
  readonly utilization?: number;
}

/**
 * A job handed to the miner by `POST /v1/miners/poll`.
 *
 * @example
 * ```ts
 * const job = await api.poll(30);
 * if (job !== null) console.log(job.jobId, job.kind, job.maxPrice, new Date(job.leaseExpiresAt));
 * ```
 */
export interface MinerAssignment {
  /** The job id. */
  readonly jobId: string;
  /** The job kind (picks the runner). */
  readonly kind: string;
  /** The client's input. */
  readonly input: JsonValue;
  /** The client's `ait1…` address (the receipt's `client`). */
  readonly client: string;
  /** The most the client pays for the job, base units: the receipt's price must not exceed it. */
  readonly maxPrice: bigint;
  /** When the lease ends unless a heartbeat extends it (ms since epoch). */
  readonly leaseExpiresAt: number;
}

/**
 * The coordinator's miner routes (DESIGN.md §5), as the miner agent uses them. Errors are
 * `AitbcError`s: the server's own code (`COORD_NOT_ASSIGNED`, `COORD_UNKNOWN_MINER`...) with
 * `details.status`, or `MINER_UNREACHABLE` / `MINER_HTTP_ERROR` / `MINER_ABORTED`.
 *
 * @example
 * ```ts
 * import { createHttpMinerApi, type MinerApi } from '@aitbc/sdk/miner';
 * const api: MinerApi = createHttpMinerApi({ baseUrl: 'http://127.0.0.1:8000', apiKey });
 * const job = await api.poll(30);
 * if (job !== null) await api.reportFailure(job.jobId, 'not supported here');
 * ```
 */
export interface MinerApi {
  /** Registers (or re-registers) the miner. */
  register(registration: MinerRegistrationRequest): Promise<void>;
  /** Resolves with the ids of jobs the miner must stop (canceled, expired or reassigned). */
  heartbeat(heartbeat: MinerHeartbeatRequest): Promise<{
    /** Jobs to stop. */
    readonly cancel: readonly string[];
  }>;
  /** Long-poll: an assignment, or `null` when none came within `maxWaitSeconds`. */
  poll(maxWaitSeconds: number, signal?: AbortSignal): Promise<MinerAssignment | null>;
  /** Reports success with the output and the miner-signed receipt (its JSON text). */
  submitResult(jobId: string, output: JsonValue, receiptJson: string): Promise<void>;
  /** Reports failure; the job fails with no receipt and no payment. */
  reportFailure(jobId: string, message: string): Promise<void>;
}

/**
 * Options of {@link createHttpMinerApi}.
 *
 * @example
 * ```ts
 * import { createHttpMinerApi, type HttpMinerApiOptions } from '@aitbc/sdk/miner';
 * const options: HttpMinerApiOptions = { baseUrl: 'http://127.0.0.1:8000', apiKey, timeoutMs: 10_000 };
 * const api = createHttpMinerApi(options);
 * ```
 */
export interface HttpMinerApiOptions {
  /** The coordinator, e.g. `http://127.0.0.1:8000`. */
  readonly baseUrl: string;
  /** An API key of role `miner` (sent as `X-Api-Key`, never logged). */
  readonly apiKey: string;
  /** A fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /** Limit of one call other than the long-poll (ms, default 30 000); a poll gets its wait plus this. */
  readonly timeoutMs?: number;
  /** Largest response body (bytes, default 8 MiB); a larger answer is `MINER_HTTP_ERROR`. */
  readonly maxResponseBytes?: number;
}

const JOB_ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

function malformed(what: string): AitbcError {
  return new AitbcError('MINER_HTTP_ERROR', `the coordinator sent a malformed ${what}`);
}

function assignmentFromJson(v: unknown): MinerAssignment {
  if (typeof v !== 'object' || v === null) throw malformed('assignment');
  const o = v as Record<string, unknown>;
  if (typeof o.job_id !== 'string' || !JOB_ID_RE.test(o.job_id)) throw malformed('assignment (job_id)');
  if (typeof o.kind !== 'string' || typeof o.client !== 'string') throw malformed('assignment (kind, client)');
  if (typeof o.max_price !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(o.max_price))
    throw malformed('assignment (max_price)');
  if (typeof o.lease_expires_at !== 'number') throw malformed('assignment (lease_expires_at)');
  return {
    jobId: o.job_id,
    kind: o.kind,
    input: (o.input ?? null) as JsonValue,
    client: o.client,
    maxPrice: BigInt(o.max_price),
    leaseExpiresAt: o.lease_expires_at,
  };
}

/**
 * Turns the SDK transport's errors into the miner agent's codes: the server's own code stays (with
 * `details.status` and `details.path`), `SDK_ABORTED` becomes `MINER_ABORTED`, `SDK_NETWORK` /
 * `SDK_TIMEOUT` become `MINER_UNREACHABLE`, anything else from the transport `MINER_HTTP_ERROR`.
 */
function minerError(err: unknown, path: string): AitbcError {
  if (!isAitbcError(err)) return new AitbcError('MINER_HTTP_ERROR', `the call to ${path} failed`, { cause: err });
  if (err instanceof ApiError && err.code !== 'SDK_HTTP_ERROR') {
    return new ApiError(err.service, err.status, err.code, err.message.slice(0, 1024), {
      details: { ...err.details, status: err.status, path },
      retryAfterMs: err.retryAfterMs,
      cause: err,
    });
  }
  switch (err.code) {
    case 'SDK_ABORTED':
      return new AitbcError('MINER_ABORTED', 'the call was aborted', { cause: err });
    case 'SDK_NETWORK':
    case 'SDK_TIMEOUT':
      return new AitbcError('MINER_UNREACHABLE', `the coordinator is unreachable (${err.message})`, {
        details: { path },
        cause: err,
      });
    case 'SDK_HTTP_ERROR': {
      const status = err instanceof ApiError ? err.status : 0;
      return new AitbcError('MINER_HTTP_ERROR', `the coordinator answered ${status} to ${path}`, {
        details: { status, path },
        cause: err,
      });
    }
    default:
      return err.code.startsWith('SDK_')
        ? new AitbcError('MINER_HTTP_ERROR', `${err.message} (${path})`, { details: { path }, cause: err })
        : err;
  }
}

/**
 * The {@link MinerApi} over HTTP: a thin adapter over the SDK's coordinator client
 * (`createCoordinatorApi(...).miners`, the one implementation of the miner routes) that maps the
 * agent's camelCase/bigint shapes to the wire form, checks every answer, sends `X-Api-Key` of role
 * `miner` (never logged), does not retry (the agent has its own backoff), bounds response sizes
 * and timeouts, and reports errors with the agent's `MINER_` codes.
 *
 * @example
 * ```ts
 * const api = createHttpMinerApi({ baseUrl: 'http://127.0.0.1:8000', apiKey: process.env.AITBC_MINER_KEY! });
 * const job = await api.poll(30); // null after 30 s without work
 * ```
 */
export function createHttpMinerApi(options: HttpMinerApiOptions): MinerApi {
  if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
    throw new AitbcError('MINER_BAD_CONFIG', 'apiKey is required', { details: { field: 'apiKey' } });
  }
  let http: ReturnType<typeof createHttpTransport>;
  try {
    http = createHttpTransport({
      service: 'coordinator',
      baseUrl: options.baseUrl,
      headers: { 'x-api-key': options.apiKey },
      timeoutMs: options.timeoutMs ?? 30_000,
      retry: { retries: 0 },
      maxResponseBytes: options.maxResponseBytes ?? 8 * 1024 * 1024,
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  } catch (cause) {
    throw new AitbcError('MINER_BAD_CONFIG', 'coordinatorUrl must be an http(s) URL', {
      details: { field: 'baseUrl' },
      cause,
    });
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const miners = createCoordinatorApi(http).miners;
  const call = async <T>(path: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw minerError(err, path);
    }
  };

  return {
    async register(r) {
      await call('/v1/miners/register', () =>
        miners.register({
          miner_id: r.minerId,
          address: r.address,
          public_key: bytesToHex(r.publicKey),
          capabilities: {
            gpus: r.capabilities.gpus.map((g) => ({ model: g.model, vram_gb: g.vramGb })),
            cpu_cores: r.capabilities.cpuCores,
            ram_gb: r.capabilities.ramGb,
            models: r.capabilities.models,
            job_kinds: r.capabilities.jobKinds,
            ...(r.capabilities.region !== undefined ? { region: r.capabilities.region } : {}),
          },
          price_per_unit: r.pricePerUnit.toString(),
          max_concurrency: r.maxConcurrency,
        }),
      );
    },
    async heartbeat(h) {
      const json = await call('/v1/miners/heartbeat', () =>
        miners.heartbeat({
          running_jobs: h.runningJobs,
          ...(h.activeJobs !== undefined ? { active_jobs: h.activeJobs } : {}),
          ...(h.queueLength !== undefined ? { queue_length: h.queueLength } : {}),
          ...(h.utilization !== undefined ? { utilization: h.utilization } : {}),
        }),
      );
      const cancel = (json as { cancel?: unknown } | undefined)?.cancel;
      if (!Array.isArray(cancel) || cancel.some((c) => typeof c !== 'string')) throw malformed('heartbeat answer');
      return { cancel: cancel as string[] };
    },
    async poll(maxWaitSeconds, signal) {
      const o: CallOptions & { maxWaitSeconds: number } = {
        maxWaitSeconds,
        timeoutMs: maxWaitSeconds * 1000 + timeoutMs,
        ...(signal !== undefined ? { signal } : {}),
      };
      const json: unknown = await call('/v1/miners/poll', () => miners.poll(o));
      return json === null ? null : assignmentFromJson(json);
    },
    async submitResult(jobId, output, receiptJson) {
      await call(`/v1/miners/${jobId}/result`, () => miners.submitResult(jobId, { output, receipt: receiptJson }));
    },
    async reportFailure(jobId, message) {
      await call(`/v1/miners/${jobId}/fail`, () => miners.fail(jobId, message.slice(0, 1024) || 'failed'));
    },
  };
}
