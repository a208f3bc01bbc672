import { AitbcError } from '@aitbc/crypto';

/**
 * JSON as the client returns it (the node's wire shapes).
 *
 * @example
 * ```ts
 * import type { ClientJson } from '@aitbc/rpc/client';
 * const result: ClientJson = await node.rpc('get_head');
 * ```
 */
export type ClientJson = string | number | boolean | null | ClientJson[] | { [key: string]: ClientJson };

/**
 * A JSON object as the client returns it.
 *
 * @example
 * ```ts
 * import type { ClientJsonObject } from '@aitbc/rpc/client';
 * const account: ClientJsonObject = await node.account('ait1…');
 * console.log(account.balance, account.nonce);
 * ```
 */
export type ClientJsonObject = { [key: string]: ClientJson };

/**
 * Options of {@link createNodeClient}.
 *
 * @example
 * ```ts
 * import { createNodeClient, type NodeClientOptions } from '@aitbc/rpc/client';
 * const options: NodeClientOptions = { baseUrl: 'http://127.0.0.1:8006', headers: { 'user-agent': 'my-app/1.0' } };
 * const node = createNodeClient(options);
 * ```
 */
export interface NodeClientOptions {
  /** Node API base URL, e.g. `http://127.0.0.1:8006`. */
  readonly baseUrl: string;
  /** A fetch implementation (default: the global `fetch` — undici in Node, the browser's elsewhere). */
  readonly fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One call of a JSON-RPC batch.
 *
 * @example
 * ```ts
 * import type { JsonRpcCall } from '@aitbc/rpc/client';
 * const calls: JsonRpcCall[] = [{ method: 'get_head' }, { method: 'get_account', params: { address: 'ait1…' } }];
 * const [head, account] = await node.rpcBatch(calls); // each a result or an AitbcError
 * ```
 */
export interface JsonRpcCall {
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * A typed client of the node API (REST + JSON-RPC). Every failure is an `AitbcError`.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import { createNodeClient, type NodeClient } from '@aitbc/rpc/client';
 * const node: NodeClient = createNodeClient({ baseUrl: 'http://127.0.0.1:8006' });
 * try {
 *   const id = await node.sendTx(signed.json);
 * } catch (e) {
 *   if (isAitbcError(e, 'CHAIN_BAD_NONCE')) console.error('refresh the nonce and sign again');
 * }
 * ```
 */
export interface NodeClient {
  health(): Promise<{ status: string }>;
  syncStatus(): Promise<ClientJsonObject>;
  head(): Promise<{ height: number; hash: string } & ClientJsonObject>;
  /** A block by height or hash. */
  block(id: number | string): Promise<{ height: number; hash: string } & ClientJsonObject>;
  /** The commit that finalized the block at `height` (`RPC_NOT_FOUND` before it exists). */
  commit(height: number): Promise<ClientJsonObject>;
  tx(id: string): Promise<ClientJsonObject>;
  /** Submits a signed tx (chain-core `TxJson`); resolves its id (`0x` + 64 hex). */
  sendTx(tx: Readonly<Record<string, unknown>>): Promise<string>;
  account(address: string, options?: { proof?: boolean }): Promise<ClientJsonObject>;
  /** Balance in base units. */
  balance(address: string): Promise<bigint>;
  escrow(jobId: string, options?: { proof?: boolean }): Promise<ClientJsonObject>;
  validators(): Promise<ClientJsonObject[]>;
  peers(): Promise<ClientJsonObject[]>;
  mempool(limit?: number): Promise<{ size: number; txs: ClientJsonObject[] }>;
  txsByAddress(
    address: string,
    page?: { cursor?: string; limit?: number },
  ): Promise<{ items: ClientJsonObject[]; nextCursor: string | null }>;
  /** One JSON-RPC call; a JSON-RPC error rejects with its `data.code`. */
  rpc(method: string, params?: Readonly<Record<string, unknown>>): Promise<ClientJson>;
  /** A JSON-RPC batch; results (or `AitbcError`s) in call order. */
  rpcBatch(calls: readonly JsonRpcCall[]): Promise<Array<ClientJson | AitbcError>>;
}

function errorFrom(body: unknown, status: number): AitbcError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (e !== undefined && typeof e.code === 'string') {
    const details = { status, ...(typeof e.details === 'object' && e.details !== null ? (e.details as object) : {}) };
    return new AitbcError(e.code, typeof e.message === 'string' ? e.message : e.code, { details });
  }
  return new AitbcError('RPC_HTTP_ERROR', `node answered HTTP ${status}`, { details: { status } });
}

function rpcErrorFrom(error: {
  code?: unknown;
  message?: unknown;
  data?: { code?: unknown; details?: unknown };
}): AitbcError {
  const code = typeof error.data?.code === 'string' ? error.data.code : 'RPC_BAD_RESPONSE';
  const details: Record<string, unknown> = { jsonRpcCode: error.code };
  if (error.data?.details !== undefined) details.details = error.data.details;
  return new AitbcError(code, typeof error.message === 'string' ? error.message : code, { details });
}

/**
 * Creates a typed node client over `fetch` (browser-safe: no Node imports). Available on the
 * `@aitbc/rpc/client` subpath so SDKs can use it without the server dependencies.
 *
 * @example
 * ```ts
 * const node = createNodeClient({ baseUrl: 'http://127.0.0.1:8006' });
 * const { height } = await node.head();
 * const balance = await node.balance('ait1...');
 * ```
 */
export function createNodeClient(options: NodeClientOptions): NodeClient {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new AitbcError('RPC_BAD_CONFIG', 'baseUrl must be an absolute http(s) URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new AitbcError('RPC_BAD_CONFIG', 'baseUrl must be an absolute http(s) URL');
  const root = base.href.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let nextId = 1;

  async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      const init: RequestInit = { method, headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      res = await doFetch(`${root}${path}`, init);
    } catch (cause) {
      throw new AitbcError('RPC_HTTP_ERROR', 'request to the node failed', { cause, details: { path } });
    }
    if (res.status === 204) return undefined;
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch (cause) {
      throw new AitbcError('RPC_BAD_RESPONSE', 'node answered with invalid JSON', {
        cause,
        details: { status: res.status },
      });
    }
    if (!res.ok && (parsed as { jsonrpc?: unknown } | null)?.jsonrpc === undefined) throw errorFrom(parsed, res.status);
    return parsed;
  }

  const get = (path: string) => request('GET', path);
  const enc = encodeURIComponent;
  const qs = (q: Record<string, string | number | boolean | undefined>) => {
    const parts = Object.entries(q)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  };

  async function rpc(method: string, params?: Readonly<Record<string, unknown>>): Promise<ClientJson> {
    const body = await request('POST', '/rpc', { jsonrpc: '2.0', id: nextId++, method, params: params ?? {} });
    const r = body as { result?: ClientJson; error?: Parameters<typeof rpcErrorFrom>[0] };
    if (r.error !== undefined) throw rpcErrorFrom(r.error);
    return r.result as ClientJson;
  }

  return {
    health: async () => (await get('/health')) as { status: string },
    syncStatus: async () => (await get('/sync_status')) as ClientJsonObject,
    head: async () => (await get('/rpc/head')) as { height: number; hash: string } & ClientJsonObject,
    block: async (id) =>
      (await get(`/rpc/block/${enc(String(id))}`)) as { height: number; hash: string } & ClientJsonObject,
    commit: async (height) => (await get(`/rpc/commit/${enc(String(height))}`)) as ClientJsonObject,
    tx: async (id) => (await get(`/rpc/tx/${enc(id)}`)) as ClientJsonObject,
    sendTx: async (tx) => ((await request('POST', '/rpc/send_tx', tx)) as { id: string }).id,
    account: async (address, o = {}) =>
      (await get(
        `/rpc/account/${enc(address)}${qs({ proof: o.proof === true ? true : undefined })}`,
      )) as ClientJsonObject,
    balance: async (address) => {
      const r = (await get(`/rpc/get_balance/${enc(address)}`)) as { balance?: unknown };
      if (typeof r.balance !== 'string' || !/^[0-9]{1,78}$/.test(r.balance))
        throw new AitbcError('RPC_BAD_RESPONSE', 'balance is not a decimal string');
      return BigInt(r.balance);
    },
    escrow: async (jobId, o = {}) =>
      (await get(`/rpc/escrow/${enc(jobId)}${qs({ proof: o.proof === true ? true : undefined })}`)) as ClientJsonObject,
    validators: async () => ((await get('/rpc/validators')) as { validators: ClientJsonObject[] }).validators,
    peers: async () => ((await get('/rpc/peers')) as { peers: ClientJsonObject[] }).peers,
    mempool: async (limit) => (await get(`/rpc/mempool${qs({ limit })}`)) as { size: number; txs: ClientJsonObject[] },
    txsByAddress: async (address, page = {}) =>
      (await get(`/rpc/account/${enc(address)}/txs${qs({ cursor: page.cursor, limit: page.limit })}`)) as {
        items: ClientJsonObject[];
        nextCursor: string | null;
      },
    rpc,
    async rpcBatch(calls) {
      const first = nextId;
      const body = calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? {} }));
      nextId += calls.length;
      const res = await request('POST', '/rpc', body);
      if (!Array.isArray(res)) {
        const r = res as { error?: Parameters<typeof rpcErrorFrom>[0] };
        throw r.error !== undefined
          ? rpcErrorFrom(r.error)
          : new AitbcError('RPC_BAD_RESPONSE', 'expected a batch response');
      }
      const byId = new Map<unknown, { result?: ClientJson; error?: Parameters<typeof rpcErrorFrom>[0] }>();
      for (const r of res as Array<{ id: unknown }>) byId.set(r.id, r as never);
      return calls.map((_c, i) => {
        const r = byId.get(first + i);
        if (r === undefined) return new AitbcError('RPC_BAD_RESPONSE', 'missing batch response');
        return r.error !== undefined ? rpcErrorFrom(r.error) : (r.result as ClientJson);
      });
    },
  };
}
