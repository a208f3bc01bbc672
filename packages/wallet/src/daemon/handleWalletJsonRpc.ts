import { isAitbcError } from '@aitbc/crypto';
import type { WalletJson, WalletOperation } from './walletOperations.js';
import type { WalletVault } from './walletVault.js';

/**
 * A JSON-RPC 2.0 error object; `data.code` carries the stable AITBC code.
 *
 * @example
 * ```ts
 * import { handleWalletJsonRpc, WALLET_OPERATIONS, type WalletJsonRpcError } from '@aitbc/wallet/daemon';
 * const res = await handleWalletJsonRpc(WALLET_OPERATIONS, vault, { jsonrpc: '2.0', id: 1, method: 'wallet.get', params: {} });
 * if (res && !Array.isArray(res) && 'error' in res) {
 *   const err: WalletJsonRpcError = res.error; // err.code -32602, err.data.code 'WALLET_BAD_PARAMS'
 * }
 * ```
 */
export interface WalletJsonRpcError {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly code: string; readonly details?: WalletJson };
}

/**
 * A JSON-RPC 2.0 response.
 *
 * @example
 * ```ts
 * import { handleWalletJsonRpc, WALLET_OPERATIONS, type WalletJsonRpcResponse } from '@aitbc/wallet/daemon';
 * const res = (await handleWalletJsonRpc(WALLET_OPERATIONS, vault, { jsonrpc: '2.0', id: 1, method: 'wallet.list' })) as WalletJsonRpcResponse;
 * if ('result' in res) console.log(res.result);
 * else console.error(res.error.data.code, res.error.message);
 * ```
 */
export type WalletJsonRpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: string | number | null; readonly result: WalletJson }
  | { readonly jsonrpc: '2.0'; readonly id: string | number | null; readonly error: WalletJsonRpcError };

/**
 * JSON-RPC 2.0 error numbers. Application errors are `serverError` with the AITBC code in `data.code`.
 *
 * @example
 * ```ts
 * import { WALLET_JSON_RPC_CODES } from '@aitbc/wallet/daemon';
 * if (response.error?.code === WALLET_JSON_RPC_CODES.serverError) console.error(response.error.data.code); // e.g. WALLET_LOCKED
 * ```
 */
export const WALLET_JSON_RPC_CODES = Object.freeze({
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverError: -32000,
});

/**
 * Options of {@link handleWalletJsonRpc}.
 *
 * @example
 * ```ts
 * import { handleWalletJsonRpc, WALLET_OPERATIONS, type WalletJsonRpcOptions } from '@aitbc/wallet/daemon';
 * const options: WalletJsonRpcOptions = { maxBatch: 8, onCall: (method, outcome) => calls.inc({ method, outcome }) };
 * const res = await handleWalletJsonRpc(WALLET_OPERATIONS, vault, body, options);
 * ```
 */
export interface WalletJsonRpcOptions {
  /** Maximum requests in one batch (default 16; batch entries run one after another). */
  readonly maxBatch?: number;
  /** Called with unexpected (non-AitbcError) failures, for logging. */
  readonly onError?: (err: unknown) => void;
  /** Called after each call with its method and outcome code (`ok` or the AITBC code), for metrics. */
  readonly onCall?: (method: string, outcome: string) => void;
}

function fail(id: string | number | null, code: number, stable: string, message: string, details?: unknown) {
  const data = details === undefined ? { code: stable } : { code: stable, details: details as WalletJson };
  return { jsonrpc: '2.0' as const, id, error: { code, message, data } };
}

/**
 * The JSON-RPC answer to a body that is not JSON.
 *
 * @example
 * ```ts
 * import { handleWalletJsonRpc, WALLET_OPERATIONS, walletJsonRpcParseError } from '@aitbc/wallet/daemon';
 * let body: unknown;
 * try { body = JSON.parse(text); } catch { return reply.send(walletJsonRpcParseError()); } // id null, code -32700
 * return reply.send(await handleWalletJsonRpc(WALLET_OPERATIONS, vault, body));
 * ```
 */
export function walletJsonRpcParseError(): WalletJsonRpcResponse {
  return fail(null, WALLET_JSON_RPC_CODES.parseError, 'WALLET_BAD_JSON', 'request body is not valid JSON');
}

async function one(
  ops: ReadonlyMap<string, WalletOperation>,
  vault: WalletVault,
  request: unknown,
  options: WalletJsonRpcOptions,
): Promise<WalletJsonRpcResponse | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    return fail(null, WALLET_JSON_RPC_CODES.invalidRequest, 'WALLET_BAD_REQUEST', 'request must be an object');
  const r = request as Record<string, unknown>;
  const rawId = r.id;
  const validId =
    rawId === undefined ||
    rawId === null ||
    (typeof rawId === 'string' && rawId.length <= 128) ||
    (typeof rawId === 'number' && Number.isFinite(rawId));
  const id = validId && rawId !== undefined ? (rawId as string | number | null) : null;
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !validId)
    return fail(id, WALLET_JSON_RPC_CODES.invalidRequest, 'WALLET_BAD_REQUEST', 'not a JSON-RPC 2.0 request');
  const notification = !Object.hasOwn(r, 'id');
  const op = ops.get(r.method);
  if (op === undefined)
    return notification
      ? undefined
      : fail(id, WALLET_JSON_RPC_CODES.methodNotFound, 'WALLET_METHOD_NOT_FOUND', 'method not found', {
          method: r.method.slice(0, 64),
        });
  const params = r.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    return fail(id, WALLET_JSON_RPC_CODES.invalidParams, 'WALLET_BAD_PARAMS', 'params must be an object (by-name)');
  try {
    const result = await op.run(vault, params as Record<string, unknown>);
    options.onCall?.(op.method, 'ok');
    return notification ? undefined : { jsonrpc: '2.0', id, result };
  } catch (err) {
    if (isAitbcError(err)) {
      options.onCall?.(op.method, err.code);
      if (notification) return undefined;
      const num =
        err.code === 'WALLET_BAD_PARAMS' ? WALLET_JSON_RPC_CODES.invalidParams : WALLET_JSON_RPC_CODES.serverError;
      return fail(id, num, err.code, err.message, err.details);
    }
    options.onError?.(err);
    options.onCall?.(op.method, 'WALLET_INTERNAL');
    return notification
      ? undefined
      : fail(id, WALLET_JSON_RPC_CODES.internalError, 'WALLET_INTERNAL', 'internal error');
  }
}

/**
 * Handles a parsed JSON-RPC 2.0 body (one request or a batch) against an operation table.
 * Resolves the response body, or `undefined` when only notifications were sent. A batch over
 * `maxBatch` gets one `WALLET_BATCH_TOO_LARGE` invalid-request error and runs nothing.
 *
 * @example
 * ```ts
 * const res = await handleWalletJsonRpc(WALLET_OPERATIONS, vault, { jsonrpc: '2.0', id: 1, method: 'wallet.list' });
 * ```
 */
export async function handleWalletJsonRpc(
  ops: ReadonlyMap<string, WalletOperation>,
  vault: WalletVault,
  body: unknown,
  options: WalletJsonRpcOptions = {},
): Promise<WalletJsonRpcResponse | WalletJsonRpcResponse[] | undefined> {
  const max = options.maxBatch ?? 16;
  if (!Array.isArray(body)) return one(ops, vault, body, options);
  if (body.length === 0) return fail(null, WALLET_JSON_RPC_CODES.invalidRequest, 'WALLET_BAD_REQUEST', 'empty batch');
  if (body.length > max)
    return fail(null, WALLET_JSON_RPC_CODES.invalidRequest, 'WALLET_BATCH_TOO_LARGE', `batch exceeds ${max} requests`, {
      max,
      received: body.length,
    });
  const out: WalletJsonRpcResponse[] = [];
  for (const request of body) {
    const r = await one(ops, vault, request, options);
    if (r !== undefined) out.push(r);
  }
  return out.length === 0 ? undefined : out;
}
