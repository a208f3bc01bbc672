/**
 * One REST route of the node API, described by JSON schemas (used for validation and OpenAPI).
 *
 * @example
 * ```ts
 * import { NODE_ROUTES, type NodeRoute } from '@aitbc/rpc';
 * const gets: NodeRoute[] = NODE_ROUTES.filter((r) => r.method === 'GET');
 * for (const r of gets) console.log(r.url, '→', r.operation);
 * ```
 */
export interface NodeRoute {
  readonly method: 'GET' | 'POST';
  /** fastify path (`:param` segments). */
  readonly url: string;
  /** The node operation (JSON-RPC method name) this route runs, or a special handler name. */
  readonly operation: string;
  readonly summary: string;
  /** Longer OpenAPI description (CommonMark). */
  readonly description?: string;
  readonly params?: Readonly<Record<string, { type: 'string'; description: string; maxLength: number }>>;
  readonly query?: Readonly<Record<string, { type: 'string' | 'boolean' | 'integer'; description: string }>>;
  /** Whether the JSON body is the operation's `tx` parameter. */
  readonly bodyIsTx?: boolean;
}

/**
 * What `send_tx` answering `{id}` ("accepted") promises, as the OpenAPI document states it.
 *
 * @example
 * ```ts
 * import { SEND_TX_ACCEPTED } from '@aitbc/rpc';
 * console.log(SEND_TX_ACCEPTED); // durable on this node, (re)announced until included or invalid; not inclusion
 * ```
 */
export const SEND_TX_ACCEPTED =
  'Answers `{id}` once the transaction is accepted: it passed admission (chain, fee, signature, nonce, funds) ' +
  "into this node's mempool and is stored durably on this node's disk, so a crash or restart of this node " +
  'does not lose it (it is back in the mempool after the restart). The node then gossips it, announces it to ' +
  'every peer that connects and re-announces it while it stays pending, until a block includes it or it ' +
  'becomes invalid (its nonce used by another transaction, the funds spent) or the mempool evicts it for ' +
  'higher-paying ones. Accepted is not a promise of inclusion: watch `get_tx` (status `pending` → `committed`). ' +
  'A 503 (`RPC_BUSY` or `RPC_UNAVAILABLE`, e.g. the node cannot write its disk) means not accepted; the ' +
  'transaction may still be included, and resubmitting the same signed transaction is safe (same id).';

const address = { type: 'string', description: 'AITBC address (ait1…)', maxLength: 128 } as const;
const proof = { proof: { type: 'boolean', description: 'include a state proof' } } as const;

/**
 * The REST routes of DESIGN.md §4 (aliases included), in OpenAPI order.
 *
 * @example
 * ```ts
 * import { NODE_ROUTES } from '@aitbc/rpc';
 * const route = NODE_ROUTES.find((r) => r.url === '/rpc/head'); // { method: 'GET', operation: 'get_head', … }
 * ```
 */
export const NODE_ROUTES: readonly NodeRoute[] = [
  {
    method: 'GET',
    url: '/health',
    operation: 'health',
    summary: 'Health (503 with the reason when the node cannot work)',
  },
  { method: 'GET', url: '/sync_status', operation: 'sync_status', summary: 'Sync progress' },
  { method: 'GET', url: '/rpc/head', operation: 'get_head', summary: 'The chain head' },
  { method: 'GET', url: '/rpc/get_head', operation: 'get_head', summary: 'The chain head (alias)' },
  {
    method: 'GET',
    url: '/rpc/block/:id',
    operation: 'get_block',
    summary: 'A block by height or hash',
    params: { id: { type: 'string', description: 'height (decimal) or hash (hex)', maxLength: 66 } },
  },
  {
    method: 'GET',
    url: '/rpc/get_block/:height',
    operation: 'get_block',
    summary: 'A block by height (alias)',
    params: { height: { type: 'string', description: 'height (decimal)', maxLength: 20 } },
  },
  {
    method: 'GET',
    url: '/rpc/commit/:height',
    operation: 'get_commit',
    summary: 'The commit that finalized the block at a height',
    params: { height: { type: 'string', description: 'height (decimal)', maxLength: 20 } },
  },
  {
    method: 'GET',
    url: '/rpc/tx/:id',
    operation: 'get_tx',
    summary: 'A transaction by id',
    params: { id: { type: 'string', description: 'tx id (hex)', maxLength: 66 } },
  },
  {
    method: 'POST',
    url: '/rpc/send_tx',
    operation: 'send_tx',
    summary: 'Submit a signed tx (TxJson body)',
    description: SEND_TX_ACCEPTED,
    bodyIsTx: true,
  },
  {
    method: 'GET',
    url: '/rpc/account/:address',
    operation: 'get_account',
    summary: 'Account state',
    params: { address },
    query: proof,
  },
  {
    method: 'GET',
    url: '/rpc/account/:address/txs',
    operation: 'get_txs_by_address',
    summary: 'Transactions touching an address, paged',
    params: { address },
    query: {
      cursor: { type: 'string', description: 'opaque cursor from the previous page' },
      limit: { type: 'integer', description: 'page size 1..100 (default 20)' },
    },
  },
  {
    method: 'GET',
    url: '/rpc/get_balance/:address',
    operation: 'get_balance',
    summary: 'Balance',
    params: { address },
  },
  {
    method: 'GET',
    url: '/rpc/escrow/:jobId',
    operation: 'get_escrow',
    summary: 'Escrow state of a job',
    params: { jobId: { type: 'string', description: 'job id', maxLength: 128 } },
    query: proof,
  },
  { method: 'GET', url: '/rpc/validators', operation: 'get_validators', summary: 'The validator set' },
  { method: 'GET', url: '/rpc/peers', operation: 'get_peers', summary: 'Connected peers' },
  {
    method: 'GET',
    url: '/rpc/mempool',
    operation: 'get_mempool',
    summary: 'Mempool view',
    query: { limit: { type: 'integer', description: 'txs to list 1..1000 (default 100)' } },
  },
];

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

/**
 * Builds the OpenAPI 3.1 document of the node API from {@link NODE_ROUTES} (a small generator of our
 * own: the routes are a static table, so no plugin is needed). Served at `/docs/openapi.json`.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { buildOpenApiDocument } from '@aitbc/rpc';
 * await writeFile('openapi.json', JSON.stringify(buildOpenApiDocument('0.2.0'), null, 2));
 * ```
 */
export function buildOpenApiDocument(version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  for (const route of NODE_ROUTES) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(route.params ?? {}).map(([name, s]) => ({
        name,
        in: 'path',
        required: true,
        description: s.description,
        schema: { type: s.type, maxLength: s.maxLength },
      })),
      ...Object.entries(route.query ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: false,
        description: s.description,
        schema: { type: s.type },
      })),
    ];
    const op: Record<string, unknown> = {
      operationId: `${route.operation}_${route.method.toLowerCase()}_${path.replace(/[^a-z]+/gi, '_')}`,
      summary: route.summary,
      ...(route.description !== undefined ? { description: route.description } : {}),
      'x-jsonrpc-method': route.operation,
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
        '400': errorResponse('Bad request (RPC_BAD_PARAMS, RPC_BAD_JSON, backend codes)'),
        '404': errorResponse('Not found (RPC_NOT_FOUND)'),
        '429': errorResponse('Rate limited (RPC_RATE_LIMITED), see Retry-After'),
      },
    };
    if (parameters.length > 0) op.parameters = parameters;
    if (route.operation === 'health')
      (op.responses as Record<string, unknown>)['503'] = errorResponse(
        'The node cannot do its work (a *_UNAVAILABLE code, e.g. NODE_STORAGE_UNAVAILABLE: its store cannot write), see Retry-After',
      );
    if (route.bodyIsTx) {
      (op.responses as Record<string, unknown>)['503'] = errorResponse(
        'Not accepted: too many submissions waiting (RPC_BUSY, limits.maxPendingTxs), or the node cannot store or accept transactions now (RPC_UNAVAILABLE or another *_UNAVAILABLE code); see Retry-After',
      );
      op.requestBody = { required: true, content: { 'application/json': { schema: { type: 'object' } } } };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: op };
  }
  paths['/rpc'] = {
    post: {
      operationId: 'json_rpc',
      summary: 'JSON-RPC 2.0 (single or batch); methods are the x-jsonrpc-method names',
      requestBody: { required: true, content: { 'application/json': { schema: {} } } },
      responses: { '200': { description: 'JSON-RPC response(s)' }, '204': { description: 'Only notifications' } },
    },
  };
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      responses: { '200': { description: 'text/plain exposition' } },
    },
  };
  paths['/ws'] = {
    get: {
      operationId: 'ws',
      summary: 'WebSocket subscriptions (upgrade)',
      responses: { '101': { description: 'Switching protocols' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'AITBC node API', version },
    paths,
    components: { schemas: { Error: errorSchema } },
  };
}
