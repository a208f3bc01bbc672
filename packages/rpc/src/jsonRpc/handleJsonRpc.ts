import { isAitbcError } from '@aitbc/crypto';
import type { JsonValue, NodeBackend } from '../nodeBackend.js';
import { NODE_OPERATIONS } from '../nodeOperations.js';

/**
 * A JSON-RPC 2.0 error object; `data.code` carries the stable AITBC code.
 *
 * @example
 * ```ts
 * import { handleJsonRpc, type JsonRpcError } from '@aitbc/rpc';
 * const res = await handleJsonRpc(backend, { jsonrpc: '2.0', id: 1, method: 'get_block', params: { id: 'x' } });
 * if (res && !Array.isArray(res) && 'error' in res) {
 *   const err: JsonRpcError = res.error; // err.code -32602, err.data.code 'RPC_BAD_PARAMS'
 * }
 * ```
 */
export interface JsonRpcError {
  code: number;
  message: string;
  data: { code: string; details?: JsonValue };
}

/**
 * A JSON-RPC 2.0 response.
 *
 * @example
 * ```ts
 * import { handleJsonRpc, type JsonRpcResponse } from '@aitbc/rpc';
 * const res = (await handleJsonRpc(backend, { jsonrpc: '2.0', id: 7, method: 'get_head' })) as JsonRpcResponse;
 * if ('result' in res) console.log(res.result);
 * else console.error(res.error.data.code);
 * ```
 */
export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: string | number | null; result: JsonValue }
  | { jsonrpc: '2.0'; id: string | number | null; error: JsonRpcError };

/**
 * Standard JSON-RPC 2.0 error numbers used by {@link handleJsonRpc}.
 *
 * @example
 * ```ts
 * import { JSON_RPC_CODES } from '@aitbc/rpc';
 * if (response.error?.code === JSON_RPC_CODES.methodNotFound) console.error('the node has no such method');
 * ```
 */
export const JSON_RPC_CODES = Object.freeze({
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Application errors (not found, rejected transaction...). */
  serverError: -32000,
});

function errorResponse(id: string | number | null, code: number, stable: string, message: string, details?: unknown) {
  const data: JsonRpcError['data'] =
    details === undefined ? { code: stable } : { code: stable, details: details as JsonValue };
  return { jsonrpc: '2.0' as const, id, error: { code, message, data } };
}

async function handleOne(
  backend: NodeBackend,
  request: unknown,
  onError?: (err: unknown) => void,
): Promise<JsonRpcResponse | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    return errorResponse(null, JSON_RPC_CODES.invalidRequest, 'RPC_BAD_REQUEST', 'request must be an object');
  const r = request as Record<string, unknown>;
  const rawId = r.id;
  const validId =
    rawId === undefined ||
    rawId === null ||
    typeof rawId === 'string' ||
    (typeof rawId === 'number' && Number.isFinite(rawId));
  const id = validId && rawId !== undefined ? (rawId as string | number | null) : null;
  if (
    r.jsonrpc !== '2.0' ||
    typeof r.method !== 'string' ||
    !validId ||
    (typeof rawId === 'string' && rawId.length > 128)
  )
    return errorResponse(id, JSON_RPC_CODES.invalidRequest, 'RPC_BAD_REQUEST', 'not a JSON-RPC 2.0 request');
  const isNotification = !Object.hasOwn(r, 'id');
  const op = NODE_OPERATIONS.get(r.method);
  if (op === undefined) {
    return isNotification
      ? undefined
      : errorResponse(id, JSON_RPC_CODES.methodNotFound, 'RPC_METHOD_NOT_FOUND', 'method not found', {
          method: r.method.slice(0, 64),
        });
  }
  const params = r.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return errorResponse(id, JSON_RPC_CODES.invalidParams, 'RPC_BAD_PARAMS', 'params must be an object (by-name)');
  }
  try {
    const result = await op.run(backend, params as Record<string, unknown>);
    return isNotification ? undefined : { jsonrpc: '2.0', id, result };
  } catch (err) {
    if (isNotification) return undefined;
    if (isAitbcError(err)) {
      const num = err.code === 'RPC_BAD_PARAMS' ? JSON_RPC_CODES.invalidParams : JSON_RPC_CODES.serverError;
      return errorResponse(id, num, err.code, err.message, err.details);
    }
    onError?.(err);
    return errorResponse(id, JSON_RPC_CODES.internalError, 'RPC_INTERNAL', 'internal error');
  }
}

/**
 * Options of {@link handleJsonRpc}.
 *
 * @example
 * ```ts
 * import { handleJsonRpc, type JsonRpcOptions } from '@aitbc/rpc';
 * const options: JsonRpcOptions = { maxBatch: 20, onError: (err) => log.error({ err }, 'rpc failure') };
 * const res = await handleJsonRpc(backend, body, options);
 * ```
 */
export interface JsonRpcOptions {
  /** Maximum requests in one batch (a bounded counter; default 50). */
  readonly maxBatch?: number;
  /** Called with unexpected (non-AitbcError) failures, for logging. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Handles a parsed JSON-RPC 2.0 body (one request or a batch) against the node operations.
 * Resolves the response body, or `undefined` when nothing is to be sent (only notifications).
 * Batches over `maxBatch` get one `RPC_BATCH_TOO_LARGE` error; an empty batch is an invalid request.
 *
 * @example
 * ```ts
 * const res = await handleJsonRpc(backend, { jsonrpc: '2.0', id: 1, method: 'get_head' });
 * ```
 */
export async function handleJsonRpc(
  backend: NodeBackend,
  body: unknown,
  options: JsonRpcOptions = {},
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  const maxBatch = options.maxBatch ?? 50;
  if (!Array.isArray(body)) return handleOne(backend, body, options.onError);
  if (body.length === 0) return errorResponse(null, JSON_RPC_CODES.invalidRequest, 'RPC_BAD_REQUEST', 'empty batch');
  if (body.length > maxBatch)
    return errorResponse(
      null,
      JSON_RPC_CODES.invalidRequest,
      'RPC_BATCH_TOO_LARGE',
      `batch exceeds ${maxBatch} requests`,
      {
        max: maxBatch,
        received: body.length,
      },
    );
  const results = await Promise.all(body.map((req) => handleOne(backend, req, options.onError)));
  const out = results.filter((r): r is JsonRpcResponse => r !== undefined);
  return out.length === 0 ? undefined : out;
}
