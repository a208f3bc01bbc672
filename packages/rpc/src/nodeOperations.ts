import { isAddress } from '@aitbc/crypto';
import type { JsonObject, JsonValue, NodeBackend } from './nodeBackend.js';
import { rpcError } from './rpcErrors.js';

const HEX32_RE = /^(0x)?[0-9a-fA-F]{64}$/;
const JOB_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const HEIGHT_RE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Parameters of a node operation, as parsed JSON (from a URL, a query string or JSON-RPC params).
 *
 * @example
 * ```ts
 * import { NODE_OPERATIONS, type OperationParams } from '@aitbc/rpc';
 * const params: OperationParams = { address: 'ait1…', proof: true };
 * const account = await NODE_OPERATIONS.get('get_account')!.run(backend, params);
 * ```
 */
export type OperationParams = Readonly<Record<string, unknown>>;

/**
 * One node API operation: shared by the REST routes and the JSON-RPC methods.
 *
 * @example
 * ```ts
 * import { NODE_OPERATIONS, type NodeOperation } from '@aitbc/rpc';
 * const op: NodeOperation | undefined = NODE_OPERATIONS.get('get_block');
 * const block = await op?.run(backend, { id: 12 });
 * ```
 */
export interface NodeOperation {
  /** JSON-RPC method name (`get_head`...). */
  readonly method: string;
  /** Short description (used in the OpenAPI document). */
  readonly summary: string;
  /** Runs the operation against the backend after validating `params`. */
  run(backend: NodeBackend, params: OperationParams): Promise<JsonValue>;
}

function param(params: OperationParams, name: string): unknown {
  return Object.hasOwn(params, name) ? params[name] : undefined;
}

/**
 * Parses a block height given as a JSON number or a decimal string. @throws `RPC_BAD_PARAMS`
 *
 * @example
 * ```ts
 * import { parseHeight } from '@aitbc/rpc';
 * parseHeight('42'); // 42
 * parseHeight(-1, 'fromHeight'); // throws AitbcError RPC_BAD_PARAMS (details.param 'fromHeight')
 * ```
 */
export function parseHeight(value: unknown, name = 'height'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && HEIGHT_RE.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw rpcError('RPC_BAD_PARAMS', `${name} must be a non-negative integer`, { param: name });
}

function parseHash(value: unknown, name: string): string {
  if (typeof value !== 'string' || !HEX32_RE.test(value))
    throw rpcError('RPC_BAD_PARAMS', `${name} must be 32 bytes of hex`, { param: name });
  return (value.startsWith('0x') ? value.slice(2) : value).toLowerCase();
}

function parseAddressParam(value: unknown): string {
  if (typeof value !== 'string' || value.length > 128 || !isAddress(value))
    throw rpcError('RPC_BAD_PARAMS', 'address must be a valid AITBC address', { param: 'address' });
  return value;
}

function parseBool(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw rpcError('RPC_BAD_PARAMS', `${name} must be a boolean`, { param: name });
}

function parseLimit(value: unknown, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^[0-9]{1,6}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max)
    throw rpcError('RPC_BAD_PARAMS', `limit must be an integer in 1..${max}`, { param: 'limit', max });
  return n;
}

function notFound(what: string, id: string | number): never {
  throw rpcError('RPC_NOT_FOUND', `${what} not found`, { [what]: id });
}

/**
 * Maximum page size of `get_txs_by_address`.
 *
 * @example
 * ```ts
 * import { MAX_PAGE_LIMIT } from '@aitbc/rpc';
 * const page = await node.txsByAddress('ait1…', { limit: MAX_PAGE_LIMIT }); // the largest page the node serves
 * ```
 */
export const MAX_PAGE_LIMIT = 100;
/**
 * Maximum transactions listed by `get_mempool`.
 *
 * @example
 * ```ts
 * import { MAX_MEMPOOL_LIMIT } from '@aitbc/rpc';
 * const { size, txs } = await node.mempool(MAX_MEMPOOL_LIMIT); // txs.length ≤ 1000
 * ```
 */
export const MAX_MEMPOOL_LIMIT = 1000;

async function account(backend: NodeBackend, params: OperationParams): Promise<JsonObject> {
  const address = parseAddressParam(param(params, 'address'));
  const found = await backend.account(address, { proof: parseBool(param(params, 'proof'), 'proof') });
  return found ?? notFound('account', address);
}

/**
 * The node API operations by JSON-RPC method name. REST routes call the same operations, so both
 * surfaces validate identically and return identical bodies.
 *
 * @example
 * ```ts
 * import { NODE_OPERATIONS } from '@aitbc/rpc';
 * for (const [method, op] of NODE_OPERATIONS) console.log(method, '—', op.summary);
 * const head = await NODE_OPERATIONS.get('get_head')!.run(backend, {});
 * ```
 */
export const NODE_OPERATIONS: ReadonlyMap<string, NodeOperation> = new Map(
  (
    [
      {
        method: 'health',
        summary: 'Health: ok, or the error that keeps the node from its work (503 for *_UNAVAILABLE)',
        run: async (b) => {
          await b.health?.();
          return { status: 'ok' };
        },
      },
      { method: 'sync_status', summary: 'Sync progress', run: async (b) => b.syncStatus() },
      { method: 'get_head', summary: 'The chain head', run: async (b) => b.head() },
      {
        method: 'get_block',
        summary: 'A block by height or hash',
        run: async (b, p) => {
          const id = param(p, 'id') ?? param(p, 'height') ?? param(p, 'hash');
          if (typeof id === 'string' && id.length >= 64) {
            const hash = parseHash(id, 'hash');
            return (await b.blockByHash(hash)) ?? notFound('block', hash);
          }
          const height = parseHeight(id);
          return (await b.blockByHeight(height)) ?? notFound('block', height);
        },
      },
      {
        method: 'get_tx',
        summary: 'A transaction by id',
        run: async (b, p) => {
          const id = parseHash(param(p, 'id'), 'id');
          return (await b.tx(id)) ?? notFound('tx', id);
        },
      },
      {
        method: 'send_tx',
        summary: 'Submit a signed transaction (chain-core TxJson)',
        run: async (b, p) => {
          const tx = param(p, 'tx');
          if (typeof tx !== 'object' || tx === null || Array.isArray(tx))
            throw rpcError('RPC_BAD_PARAMS', 'tx must be a JSON object', { param: 'tx' });
          // Wire tx ids carry `0x` (chain-core `txIdHex`): a backend answering bare hex is normalized.
          const id = (await b.submitTx(tx as JsonObject)).toLowerCase();
          return { id: id.startsWith('0x') ? id : `0x${id}` };
        },
      },
      {
        method: 'get_commit',
        summary: 'The commit (precommit signatures) that finalized the block at a height',
        run: async (b, p) => {
          const height = parseHeight(param(p, 'height'));
          if (b.commit === undefined)
            throw rpcError('RPC_METHOD_NOT_FOUND', 'this node does not serve commits', { method: 'get_commit' });
          return (await b.commit(height)) ?? notFound('commit', height);
        },
      },
      { method: 'get_account', summary: 'Account state (optional proof)', run: account },
      {
        method: 'get_balance',
        summary: 'Balance of an account',
        run: async (b, p) => {
          const acc = await account(b, { address: param(p, 'address') });
          return { address: param(p, 'address') as string, balance: acc.balance ?? '0' };
        },
      },
      {
        method: 'get_escrow',
        summary: 'Escrow state of a job (optional proof)',
        run: async (b, p) => {
          const jobId = param(p, 'jobId');
          if (typeof jobId !== 'string' || !JOB_ID_RE.test(jobId))
            throw rpcError('RPC_BAD_PARAMS', 'jobId must be 1-128 of [A-Za-z0-9._:-]', { param: 'jobId' });
          const found = await b.escrow(jobId, { proof: parseBool(param(p, 'proof'), 'proof') });
          return found ?? notFound('escrow', jobId);
        },
      },
      {
        method: 'get_validators',
        summary: 'The validator set',
        run: async (b) => ({ validators: await b.validators() }),
      },
      { method: 'get_peers', summary: 'Connected peers', run: async (b) => ({ peers: await b.peers() }) },
      {
        method: 'get_mempool',
        summary: 'Mempool size and pending transactions',
        run: async (b, p) => b.mempool(parseLimit(param(p, 'limit'), MAX_MEMPOOL_LIMIT, 100)),
      },
      {
        method: 'get_txs_by_address',
        summary: 'Transactions touching an address, paged',
        run: async (b, p) => {
          const address = parseAddressParam(param(p, 'address'));
          const cursor = param(p, 'cursor');
          if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 256))
            throw rpcError('RPC_BAD_PARAMS', 'cursor must be a string of 1-256 chars', { param: 'cursor' });
          const page = await b.txsByAddress(address, {
            cursor: cursor as string | undefined,
            limit: parseLimit(param(p, 'limit'), MAX_PAGE_LIMIT, 20),
          });
          return { items: [...page.items], nextCursor: page.nextCursor };
        },
      },
    ] satisfies NodeOperation[]
  ).map((op) => [op.method, op]),
);
