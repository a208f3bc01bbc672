import { AitbcError, bytesToHex } from '@aitbc/crypto';
import type { JsonValue } from './jobRunner.js';
import type { MinerCapabilities } from './probeCapabilities.js';
import { readCappedText } from './readCappedText.js';

/** A miner's registration (`POST /v1/miners/register`). */
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

/** A heartbeat (`POST /v1/miners/heartbeat`): extends the leases of the running jobs. */
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

/** A job handed to the miner by `POST /v1/miners/poll`. */
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

/** Options of {@link createHttpMinerApi}. */
export interface HttpMinerApiOptions {
  /** The coordinator, e.g. `http://127.0.0.1:8000`. */
  readonly baseUrl: string;
  /** An API key of role `miner` (sent as `X-Api-Key`, never logged). */
  readonly apiKey: string;
  /** A fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /** Limit of one call other than the long-poll (ms, default 30 000); a poll gets its wait plus this. */
  readonly timeoutMs?: number;
  /** Largest response body (bytes, default 8 MiB). */
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
 * The {@link MinerApi} over HTTP with `fetch` (undici in Node): `X-Api-Key` of role `miner`,
 * JSON bodies, amounts as decimal strings, bounded response sizes and timeouts.
 *
 * @example
 * ```ts
 * const api = createHttpMinerApi({ baseUrl: 'http://127.0.0.1:8000', apiKey: process.env.AITBC_MINER_KEY! });
 * const job = await api.poll(30); // null after 30 s without work
 * ```
 */
export function createHttpMinerApi(options: HttpMinerApiOptions): MinerApi {
  let base: string;
  try {
    base = new URL(options.baseUrl).href.replace(/\/+$/, '');
  } catch (cause) {
    throw new AitbcError('MINER_BAD_CONFIG', 'coordinatorUrl must be a URL', { details: { field: 'baseUrl' }, cause });
  }
  if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
    throw new AitbcError('MINER_BAD_CONFIG', 'apiKey is required', { details: { field: 'apiKey' } });
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxResponse = options.maxResponseBytes ?? 8 * 1024 * 1024;

  const post = async (
    path: string,
    body: unknown,
    callTimeoutMs = timeoutMs,
    signal?: AbortSignal,
  ): Promise<{ status: number; json: unknown }> => {
    const timeout = AbortSignal.timeout(callTimeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': options.apiKey },
        body: JSON.stringify(body),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      text = await readCappedText(res, maxResponse, 'MINER_HTTP_ERROR');
    } catch (cause) {
      if (cause instanceof AitbcError) throw cause;
      if (signal?.aborted) throw new AitbcError('MINER_ABORTED', 'the call was aborted');
      const why = (cause as { cause?: { code?: string } }).cause?.code;
      throw new AitbcError(
        'MINER_UNREACHABLE',
        timeout.aborted
          ? `the coordinator did not answer ${path} within ${callTimeoutMs} ms`
          : `the coordinator is unreachable (${why ?? (cause instanceof Error ? cause.message : 'network error')})`,
        { details: { path }, cause },
      );
    }
    let json: unknown;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (res.status >= 400) {
      const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
      if (typeof err?.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(err.code)) {
        const details = typeof err.details === 'object' && err.details !== null ? err.details : {};
        throw new AitbcError(err.code, typeof err.message === 'string' ? err.message.slice(0, 1024) : err.code, {
          details: { ...details, status: res.status, path },
        });
      }
      throw new AitbcError('MINER_HTTP_ERROR', `the coordinator answered ${res.status} to ${path}`, {
        details: { status: res.status, path },
      });
    }
    return { status: res.status, json };
  };

  return {
    async register(r) {
      await post('/v1/miners/register', {
        miner_id: r.minerId,
        address: r.address,
        public_key: bytesToHex(r.publicKey),
        capabilities: {
          gpus: r.capabilities.gpus.map((g) => ({ model: g.model, vram_gb: g.vramGb })),
          cpu_cores: r.capabilities.cpuCores,
          ram_gb: r.capabilities.ramGb,
          models: r.capabilities.models,
          job_kinds: r.capabilities.jobKinds,
          region: r.capabilities.region,
        },
        price_per_unit: r.pricePerUnit.toString(),
        max_concurrency: r.maxConcurrency,
      });
    },
    async heartbeat(h) {
      const { json } = await post('/v1/miners/heartbeat', {
        running_jobs: h.runningJobs,
        ...(h.activeJobs !== undefined ? { active_jobs: h.activeJobs } : {}),
        ...(h.queueLength !== undefined ? { queue_length: h.queueLength } : {}),
        ...(h.utilization !== undefined ? { utilization: h.utilization } : {}),
      });
      const cancel = (json as { cancel?: unknown } | undefined)?.cancel;
      if (!Array.isArray(cancel) || cancel.some((c) => typeof c !== 'string')) throw malformed('heartbeat answer');
      return { cancel: cancel as string[] };
    },
    async poll(maxWaitSeconds, signal) {
      const { status, json } = await post(
        '/v1/miners/poll',
        { max_wait_seconds: maxWaitSeconds },
        maxWaitSeconds * 1000 + timeoutMs,
        signal,
      );
      return status === 204 || json === undefined ? null : assignmentFromJson(json);
    },
    async submitResult(jobId, output, receiptJson) {
      await post(`/v1/miners/${encodeURIComponent(jobId)}/result`, { output, receipt: receiptJson });
    },
    async reportFailure(jobId, message) {
      await post(`/v1/miners/${encodeURIComponent(jobId)}/fail`, { message: message.slice(0, 1024) || 'failed' });
    },
  };
}
