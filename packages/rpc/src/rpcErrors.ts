import { AitbcError, type ErrorDetails } from '@aitbc/crypto';

/**
 * Every `RPC_*` error code of this package with its HTTP status — the single table the REST
 * routes, JSON-RPC error objects and the client agree on. Backend errors with other codes
 * (e.g. `CHAIN_*`) are passed through with status 400 (500 when the code ends in `_INTERNAL`, 503
 * when it ends in `_UNAVAILABLE`, e.g. `NODE_STORAGE_UNAVAILABLE`).
 *
 * @example
 * ```ts
 * import { RPC_ERROR_STATUS } from '@aitbc/rpc';
 * RPC_ERROR_STATUS.RPC_NOT_FOUND; // 404
 * RPC_ERROR_STATUS.RPC_BODY_TOO_LARGE; // 413
 * ```
 */
export const RPC_ERROR_STATUS = Object.freeze({
  RPC_BAD_JSON: 400,
  RPC_BAD_REQUEST: 400,
  RPC_BAD_PARAMS: 400,
  RPC_NOT_FOUND: 404,
  RPC_BODY_TOO_LARGE: 413,
  RPC_UNSUPPORTED_MEDIA_TYPE: 415,
  RPC_RATE_LIMITED: 429,
  RPC_CORS_FORBIDDEN: 403,
  RPC_BATCH_TOO_LARGE: 400,
  RPC_METHOD_NOT_FOUND: 404,
  RPC_TX_REJECTED: 422,
  RPC_UNAVAILABLE: 503,
  RPC_BUSY: 503,
  RPC_INTERNAL: 500,
  RPC_BAD_CONFIG: 500,
  RPC_HTTP_ERROR: 502,
  RPC_BAD_RESPONSE: 502,
  RPC_WS_BAD_MESSAGE: 400,
  RPC_WS_TOO_MANY_SUBSCRIPTIONS: 429,
  RPC_P2P_BAD_MESSAGE: 400,
  RPC_P2P_HANDSHAKE_FAILED: 403,
  RPC_P2P_BANNED: 403,
  RPC_P2P_BAD_RANGE: 400,
  RPC_P2P_NOT_STARTED: 503,
  RPC_P2P_TOO_LARGE: 413,
} as const);

/**
 * A stable error code of this package.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import type { RpcErrorCode } from '@aitbc/rpc';
 * try { await node.block(height); } catch (e) {
 *   const code = isAitbcError(e) ? (e.code as RpcErrorCode) : undefined;
 *   if (code === 'RPC_NOT_FOUND') console.log('no such block yet');
 *   else if (code === 'RPC_RATE_LIMITED') await new Promise((r) => setTimeout(r, 1000));
 * }
 * ```
 */
export type RpcErrorCode = keyof typeof RPC_ERROR_STATUS;

/**
 * HTTP status for any AITBC error code (`RPC_*` from the table; others 400, `*_INTERNAL` 500,
 * `*_UNAVAILABLE` 503).
 *
 * @example
 * ```ts
 * import { httpStatusOf } from '@aitbc/rpc';
 * httpStatusOf('RPC_NOT_FOUND'); // 404
 * httpStatusOf('CHAIN_BAD_NONCE'); // 400 (passed through)
 * httpStatusOf('CHAIN_INTERNAL'); // 500
 * httpStatusOf('NODE_STORAGE_UNAVAILABLE'); // 503 (the node cannot write its database)
 * ```
 */
export function httpStatusOf(code: string): number {
  const known = (RPC_ERROR_STATUS as Readonly<Record<string, number>>)[code];
  if (known !== undefined) return known;
  if (code.endsWith('_UNAVAILABLE')) return 503;
  return code.endsWith('_INTERNAL') ? 500 : 400;
}

/**
 * Creates an {@link AitbcError} with an `RPC_*` code.
 *
 * @example
 * ```ts
 * import { rpcError } from '@aitbc/rpc';
 * throw rpcError('RPC_BAD_PARAMS', 'limit must be an integer in 1..100', { param: 'limit' });
 * ```
 */
export function rpcError(code: RpcErrorCode, message: string, details?: ErrorDetails): AitbcError {
  return details === undefined ? new AitbcError(code, message) : new AitbcError(code, message, { details });
}
