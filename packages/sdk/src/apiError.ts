import { AitbcError, type ErrorDetails } from '@aitbc/crypto';

/**
 * Which AITBC service answered (or failed to answer) a request.
 *
 * @example
 * ```ts
 * import { isApiError, type ServiceName } from '@aitbc/sdk';
 * const failedService: ServiceName | undefined = isApiError(e) ? e.service : undefined; // 'node' | 'coordinator' | …
 * ```
 */
export type ServiceName = 'node' | 'coordinator' | 'pool' | 'wallet';

/**
 * An error answered by an AITBC server: the `{error:{code,message,details?}}` envelope as an
 * `AitbcError` whose `code` is the server's stable code (`COORD_UNKNOWN_JOB`, `RPC_NOT_FOUND`,
 * `CHAIN_BAD_NONCE`...), plus the HTTP status and, for 429/503, how long to wait.
 *
 * @example
 * ```ts
 * import { ApiError } from '@aitbc/sdk';
 * try { await client.jobs.get('job_x'); } catch (e) {
 *   if (e instanceof ApiError && e.code === 'COORD_UNKNOWN_JOB') console.log('no such job', e.status);
 * }
 * ```
 */
export class ApiError extends AitbcError {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Milliseconds the server asked to wait (`Retry-After` or `details.retryAfterMs`), if it said. */
  readonly retryAfterMs: number | undefined;
  /** The service that answered. */
  readonly service: ServiceName;

  constructor(
    service: ServiceName,
    status: number,
    code: string,
    message: string,
    options: { details?: ErrorDetails; retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(code, message, {
      ...(options.details !== undefined ? { details: options.details } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
    this.service = service;
  }
}

/**
 * Type guard for {@link ApiError}, optionally narrowed to one server code.
 *
 * @example
 * ```ts
 * import { isApiError } from '@aitbc/sdk';
 * try {
 *   await client.jobs.result(jobId);
 * } catch (e) {
 *   if (isApiError(e, 'COORD_NOT_COMPLETED')) await client.jobs.wait(jobId);
 *   else if (isApiError(e) && e.status === 429) console.log(`retry in ${e.retryAfterMs} ms`);
 *   else throw e;
 * }
 * ```
 */
export function isApiError(value: unknown, code?: string): value is ApiError {
  return value instanceof ApiError && (code === undefined || value.code === code);
}
