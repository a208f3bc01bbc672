import { isAitbcError } from '@aitbc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeApiServer, createNodeClient, type NodeApiServer } from '../src/index.js';
import { MemoryBackend, newAddress } from './memoryBackend.js';

let backend: MemoryBackend;
let server: NodeApiServer;
let url: string;
const alice = newAddress();

async function post(body: string) {
  const res = await fetch(`${url}/rpc`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

beforeAll(async () => {
  backend = new MemoryBackend();
  backend.accounts.set(alice, { address: alice, balance: '42', nonce: 0 });
  backend.addBlock([]);
  server = createNodeApiServer({ backend, port: 0, logger: false, limits: { maxBatch: 3 } });
  url = await server.start();
});
afterAll(async () => {
  await server.stop();
});

describe('JSON-RPC 2.0 at POST /rpc', () => {
  it('answers single requests with the same results as REST', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'get_head' }));
    expect(r.body).toEqual({ jsonrpc: '2.0', id: 7, result: backend.head() });
    const b = await post(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'get_block', params: { height: 1 } }));
    expect(b.body.result.height).toBe(1);
    const bal = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_balance', params: { address: alice } }),
    );
    expect(bal.body.result).toEqual({ address: alice, balance: '42' });
  });

  it('answers batches in order and caps their size', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'health' },
      { jsonrpc: '2.0', id: 2, method: 'get_tx', params: { id: 'ab'.repeat(32) } },
      { jsonrpc: '2.0', method: 'get_head' },
    ];
    const r = await post(JSON.stringify(batch));
    expect(r.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: { status: 'ok' } },
      {
        jsonrpc: '2.0',
        id: 2,
        error: {
          code: -32000,
          message: 'tx not found',
          data: { code: 'RPC_NOT_FOUND', details: { tx: 'ab'.repeat(32) } },
        },
      },
    ]);
    const big = await post(JSON.stringify([...batch, ...batch]));
    expect(big.body.error.code).toBe(-32600);
    expect(big.body.error.data).toEqual({ code: 'RPC_BATCH_TOO_LARGE', details: { max: 3, received: 6 } });
    const empty = await post('[]');
    expect(empty.body.error.data.code).toBe('RPC_BAD_REQUEST');
  });

  it('returns JSON-RPC error objects for every kind of bad request', async () => {
    const parse = await post('{"jsonrpc":');
    expect(parse.status).toBe(400);
    expect(parse.body).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'parse error', data: { code: 'RPC_BAD_JSON' } },
    });
    const notReq = await post(
      '[1, {"jsonrpc":"1.0","id":1,"method":"health"}, {"jsonrpc":"2.0","id":{},"method":"health"}]',
    );
    expect(notReq.body.map((e: { error: { code: number } }) => e.error.code)).toEqual([-32600, -32600, -32600]);
    const unknown = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'toString' }));
    expect(unknown.body.error).toMatchObject({ code: -32601, data: { code: 'RPC_METHOD_NOT_FOUND' } });
    const positional = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_block', params: [1] }));
    expect(positional.body.error).toMatchObject({ code: -32602, data: { code: 'RPC_BAD_PARAMS' } });
    const wrongType = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_block', params: { height: 'x' } }),
    );
    expect(wrongType.body.error).toMatchObject({ code: -32602, data: { code: 'RPC_BAD_PARAMS' } });
    const rejected = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'send_tx', params: { tx: { type: 'transfer' } } }),
    );
    expect(rejected.body.error).toMatchObject({ code: -32000, data: { code: 'CHAIN_TX_MALFORMED' } });
  });

  it('answers notifications with 204 and no body', async () => {
    const r = await post(JSON.stringify([{ jsonrpc: '2.0', method: 'health' }]));
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
  });

  it('is used by the typed client, errors mapped to AitbcError codes', async () => {
    const client = createNodeClient({ baseUrl: url });
    expect(await client.rpc('get_head')).toEqual(backend.head());
    const [head, missing] = await client.rpcBatch([
      { method: 'get_head' },
      { method: 'get_block', params: { height: 999 } },
    ]);
    expect(head).toEqual(backend.head());
    expect(isAitbcError(missing) && missing.code).toBe('RPC_NOT_FOUND');
    const err = await client.rpc('nope').catch((e: unknown) => e);
    expect(isAitbcError(err) && err.code).toBe('RPC_METHOD_NOT_FOUND');
    const tooMany = await client
      .rpcBatch([{ method: 'health' }, { method: 'health' }, { method: 'health' }, { method: 'health' }])
      .catch((e: unknown) => e);
    expect(isAitbcError(tooMany) && tooMany.code).toBe('RPC_BATCH_TOO_LARGE');
    const down = createNodeClient({ baseUrl: 'http://127.0.0.1:1' });
    const netErr = await down.head().catch((e: unknown) => e);
    expect(isAitbcError(netErr) && netErr.code).toBe('RPC_HTTP_ERROR');
  });
});
