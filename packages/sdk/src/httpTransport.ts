import { AitbcError, bytesToHex, randomBytes } from '@aitbc/crypto';
import { ApiError, type ServiceName } from './apiError.js';
import { readCappedText } from './readCappedText.js';

/**
 * How failed calls are retried.
 *
 * @example
 * ```ts
 * import { createClient, type RetryPolicy } from '@aitbc/sdk';
 * const retry: RetryPolicy = { retries: 5, baseDelayMs: 200, maxDelayMs: 10_000 };
 * const client = createClient({ node: 'http://127.0.0.1:8006', retry });
 * ```
 */
export interface RetryPolicy {
  /** Retries after the first attempt (default 3; 0 disables retries). */
  readonly retries?: number;
  /** First backoff step in ms (default 100); step n waits a random time in `[0, base·2^n]` (full jitter). */
  readonly baseDelayMs?: number;
  /** Cap of one backoff step in ms (default 5 000). */
  readonly maxDelayMs?: number;
  /** Longest `Retry-After` honoured in ms (default 60 000); a server asking for more gets its error surfaced. */
  readonly maxRetryAfterMs?: number;
}

/**
 * Per-call options every SDK method accepts as its last argument.
 *
 * @example
 * ```ts
 * import type { CallOptions } from '@aitbc/sdk';
 * const options: CallOptions = { signal: AbortSignal.timeout(5_000), retries: 0 };
 * const head = await client.node.head(options);
 * ```
 */
export interface CallOptions {
  /** Cancels the call (and its retries); the call rejects with `SDK_ABORTED`. */
  readonly signal?: AbortSignal;
  /** Timeout of one attempt in ms (default: the client's `timeoutMs`, 30 000); then `SDK_TIMEOUT`. */
  readonly timeoutMs?: number;
  /** Overrides the client's retry count for this call. */
  readonly retries?: number;
  /** Idempotency key for calls that create things (default: a fresh random key per call, reused by its retries). */
  readonly idempotencyKey?: string;
}

/**
 * Options of {@link createHttpTransport}.
 *
 * @example
 * ```ts
 * import { createHttpTransport, type HttpTransportOptions } from '@aitbc/sdk';
 * const options: HttpTransportOptions = { service: 'pool', baseUrl: 'http://127.0.0.1:8018', headers: () => ({ 'X-Api-Key': currentKey() }) };
 * const http = createHttpTransport(options);
 * ```
 */
export interface HttpTransportOptions {
  /** Which service this is (named in errors). */
  readonly service: ServiceName;
  /** Base URL, e.g. `http://127.0.0.1:8006`. */
  readonly baseUrl: string;
  /** A fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /** Headers sent with every request (credentials go here), or a function computing them per request. */
  readonly headers?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** Default per-attempt timeout (ms, default 30 000). */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /**
   * Largest response body in bytes (default 32 MiB): the read stops as soon as the limit is crossed
   * and the call rejects with `SDK_BAD_RESPONSE` (never retried).
   */
  readonly maxResponseBytes?: number;
}

/**
 * One request of a {@link HttpTransport}.
 *
 * @example
 * ```ts
 * import type { TransportRequest } from '@aitbc/sdk';
 * const req: TransportRequest = { method: 'POST', path: '/v1/jobs', body: { kind: 'hash' }, idempotencyKey: true };
 * const job = await http.request(req);
 * ```
 */
export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with already-encoded segments. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** JSON body. */
  readonly body?: unknown;
  /**
   * Whether repeating the request is safe after a network error, a timeout or a 502/504 (GET, PUT
   * and DELETE are; a POST is when it carries an idempotency key). 429 and 503 are retried for
   * every call: the server did not act on the request.
   */
  readonly idempotent?: boolean;
  /** Send an `Idempotency-Key` header (the call's key, or a fresh one). */
  readonly idempotencyKey?: boolean;
  /** `text`: resolve the raw body (for receipts, whose number lexemes JSON.parse would lose). */
  readonly responseType?: 'json' | 'text';
}

/**
 * A small fetch wrapper with the SDK's retry, timeout, abort and error rules.
 *
 * @example
 * ```ts
 * const http = createHttpTransport({ service: 'node', baseUrl: 'http://127.0.0.1:8006' });
 * const health = await http.request<{ status: string }>({ method: 'GET', path: '/health' }, { timeoutMs: 2_000 });
 * ```
 */
export interface HttpTransport {
  readonly service: ServiceName;
  /** The base URL without a trailing slash. */
  readonly baseUrl: string;
  /** Resolves the parsed body (`undefined` for 204), or rejects with an `ApiError` / `AitbcError`. */
  request<T>(req: TransportRequest, options?: CallOptions): Promise<T>;
}

const RETRY_STATUSES_ALWAYS = new Set([429, 503]);
const RETRY_STATUSES_IDEMPOTENT = new Set([502, 504]);

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into ms.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from '@aitbc/sdk';
 * parseRetryAfter('3'); // 3000
 * parseRetryAfter(response.headers.get('Retry-After')); // undefined when absent
 * ```
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^[0-9]{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A fresh idempotency key (128 random bits, hex).
 *
 * @example
 * ```ts
 * import { newIdempotencyKey } from '@aitbc/sdk';
 * const idempotencyKey = newIdempotencyKey(); // reuse it to retry the same submission safely
 * await client.jobs.submit(job, { idempotencyKey });
 * ```
 */
export function newIdempotencyKey(): string {
  return bytesToHex(randomBytes(16));
}

function abortError(signal: AbortSignal): AitbcError {
  return new AitbcError('SDK_ABORTED', 'the call was aborted', { cause: signal.reason });
}

/**
 * Waits `ms`, or rejects with `SDK_ABORTED` when `signal` aborts first.
 *
 * @example
 * ```ts
 * import { sleep } from '@aitbc/sdk';
 * const controller = new AbortController();
 * await sleep(1_000, controller.signal); // rejects with SDK_ABORTED if aborted first
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function normalizeBase(baseUrl: string, service: ServiceName): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AitbcError('SDK_BAD_CONFIG', `${service} URL must be an absolute http(s) URL`, { details: { service } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AitbcError('SDK_BAD_CONFIG', `${service} URL must be an absolute http(s) URL`, { details: { service } });
  return url.href.replace(/\/+$/, '');
}

function queryString(q: TransportRequest['query']): string {
  if (q === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    out += `${out === '' ? '?' : '&'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  }
  return out;
}

function errorFromBody(service: ServiceName, status: number, text: string, retryAfterMs: number | undefined): ApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (e !== undefined && typeof e === 'object' && e !== null && typeof e.code === 'string') {
    const details = typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : {};
    const fromDetails = typeof details.retryAfterMs === 'number' ? details.retryAfterMs : undefined;
    return new ApiError(service, status, e.code, typeof e.message === 'string' ? e.message : e.code, {
      ...(e.details !== undefined ? { details } : {}),
      retryAfterMs: retryAfterMs ?? fromDetails,
    });
  }
  return new ApiError(
    service,
    status,
    'SDK_HTTP_ERROR',
    `${service} answered HTTP ${status} without an error envelope`,
    {
      details: { status },
      retryAfterMs,
    },
  );
}

/**
 * Creates the transport every SDK client uses. Rules:
 * - 429 and 503 are retried for every call, after `Retry-After` (or the envelope's
 *   `details.retryAfterMs`) when the server sent one, else after an exponential backoff with full
 *   jitter; network errors, timeouts and 502/504 are retried only for idempotent calls;
 * - each attempt has a timeout (`SDK_TIMEOUT`); the caller's `AbortSignal` stops everything (`SDK_ABORTED`);
 * - an error envelope becomes an {@link ApiError} carrying the server's code; a body that is not
 *   JSON where JSON was expected is `SDK_BAD_RESPONSE`; an unreachable server is `SDK_NETWORK`.
 *
 * @example
 * ```ts
 * import { createHttpTransport } from '@aitbc/sdk';
 * const http = createHttpTransport({ service: 'node', baseUrl: 'http://127.0.0.1:8006', retry: { retries: 2 } });
 * const head = await http.request({ method: 'GET', path: '/rpc/head' });
 * ```
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const service = options.service;
  const base = normalizeBase(options.baseUrl, service);
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const retry = options.retry ?? {};
  const baseDelay = retry.baseDelayMs ?? 100;
  const maxDelay = retry.maxDelayMs ?? 5_000;
  const maxRetryAfter = retry.maxRetryAfterMs ?? 60_000;
  const maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
  const headersOf = typeof options.headers === 'function' ? options.headers : () => options.headers ?? {};

  /**
   * One attempt. Without a caller signal no `AbortSignal` is handed to fetch (undici's signal
   * plumbing costs ~10% of a local round trip): a timed-out attempt is then abandoned and its late
   * answer read and discarded. With a caller signal, abort and timeout both cancel the request.
   */
  async function attempt(
    url: string,
    init: RequestInit,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ res: Response; text: string }> {
    let ac: AbortController | undefined;
    let onAbort: (() => void) | undefined;
    if (signal !== undefined) {
      const controller = new AbortController();
      ac = controller;
      onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        ac?.abort();
        reject(new Error('timeout'));
      }, timeoutMs);
    });
    const run = (async () => {
      const res = await doFetch(url, ac === undefined ? init : { ...init, signal: ac.signal });
      const text = res.status === 204 ? '' : await readCappedText(res, maxResponseBytes, 'SDK_BAD_RESPONSE');
      return { res, text };
    })();
    try {
      return await Promise.race([run, timeout]);
    } catch (cause) {
      if (signal?.aborted) throw abortError(signal);
      if (cause instanceof AitbcError && cause.code === 'SDK_BAD_RESPONSE') throw cause;
      if (timedOut)
        throw new AitbcError('SDK_TIMEOUT', `${service} did not answer within ${timeoutMs} ms`, {
          details: { service, timeoutMs },
        });
      throw new AitbcError('SDK_NETWORK', `request to the ${service} failed`, { cause, details: { service } });
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      if (timedOut) run.catch(() => undefined); // an abandoned attempt settles later: ignore it
    }
  }

  return {
    service,
    baseUrl: base,
    async request<T>(req: TransportRequest, call: CallOptions = {}): Promise<T> {
      const url = `${base}${req.path}${queryString(req.query)}`;
      const headers: Record<string, string> = { accept: 'application/json', ...headersOf() };
      const init: RequestInit = { method: req.method, headers };
      if (req.body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(req.body);
      }
      if (req.idempotencyKey === true) headers['idempotency-key'] = call.idempotencyKey ?? newIdempotencyKey();
      const idempotent = req.idempotent ?? (req.method !== 'POST' || req.idempotencyKey === true);
      const retries = call.retries ?? retry.retries ?? 3;
      const timeoutMs = call.timeoutMs ?? defaultTimeout;
      const signal = call.signal;
      const backoff = (n: number) => Math.random() * Math.min(maxDelay, baseDelay * 2 ** n);
      for (let n = 0; ; n++) {
        if (signal?.aborted) throw abortError(signal);
        let res: Response;
        let text: string;
        try {
          ({ res, text } = await attempt(url, init, timeoutMs, signal));
        } catch (err) {
          // SDK_ABORTED, SDK_TIMEOUT or SDK_NETWORK: the request may have reached the server.
          const code = (err as AitbcError).code;
          if ((code !== 'SDK_TIMEOUT' && code !== 'SDK_NETWORK') || !idempotent || n >= retries) throw err;
          await sleep(backoff(n), signal);
          continue;
        }
        if (res.ok) {
          if (req.responseType === 'text') return text as T;
          if (text === '') return undefined as T;
          try {
            return JSON.parse(text) as T;
          } catch (cause) {
            throw new AitbcError('SDK_BAD_RESPONSE', `${service} answered with a body that is not JSON`, {
              cause,
              details: { service, status: res.status },
            });
          }
        }
        const failure = errorFromBody(service, res.status, text, parseRetryAfter(res.headers.get('retry-after')));
        const retryable =
          RETRY_STATUSES_ALWAYS.has(res.status) || (idempotent && RETRY_STATUSES_IDEMPOTENT.has(res.status));
        const wait = failure.retryAfterMs;
        if (!retryable || n >= retries || (wait !== undefined && wait > maxRetryAfter)) throw failure;
        await sleep(wait ?? backoff(n), signal);
      }
    },
  };
}
