/**
 * Every REST route and JSON-RPC method of a real `aitbc-node` process, fed malformed JSON, wrong
 * types, oversized bodies, bad signatures, replayed and out-of-order nonces and unknown ids: each gets
 * a 4xx (REST) or a JSON-RPC error with a stable code, and the node keeps finalizing.
 */
import { request } from 'node:http';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { NODE_OPERATIONS, NODE_ROUTES } from '@aitbc/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { startTestNetwork, type TestNetwork, type TestNode } from './networkHarness.ts';

let net: TestNetwork;
let node: TestNode;
let base: string;

beforeAll(async () => {
  net = await startTestNetwork({ validators: 1 });
  node = net.validators[0] as TestNode;
  base = node.rpcUrl;
}, 180_000);
afterAll(async () => {
  await net?.close();
}, 60_000);

/** Parses a response body as JSON, or `undefined`. */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends an oversized body with node:http: it declares the whole length and writes the first 64 KiB,
 * then waits. The server answers 413 from the declared length and closes the connection; writing the
 * rest would race that close (fetch reports it as a failed request), so the rest is never sent.
 */
function sendOversized(method: string, path: string, body: string, contentType: string) {
  return new Promise<{ status: number; json: { error?: { code: string } } & Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(
        `${base}${path}`,
        { method, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, json: jsonOf(text) as never });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 64 * 1024));
    },
  );
}

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  if (body !== undefined && body.length > 1024 * 1024) return sendOversized(method, path, body, contentType);
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': contentType } }),
  });
  const json = jsonOf(await res.text());
  return { status: res.status, json: json as { error?: { code: string } } & Record<string, unknown> };
}

async function expectError(
  method: string,
  path: string,
  status: number,
  code: string | RegExp,
  body?: string,
  ct?: string,
) {
  const r = await call(method, path, body, ct);
  expect({ path, status: r.status }).toEqual({ path, status });
  expect(r.json?.error?.code).toMatch(code);
}

let nonce = 0;
const fee = DEFAULT_PARAMS.minFee;
function transferJson(overrides: { nonce?: number; chainId?: string; fee?: bigint } = {}) {
  const to = addressFromPublicKey(generateKeyPair().publicKey);
  const tx = signTx(
    {
      type: 'transfer',
      chainId: overrides.chainId ?? net.chainId,
      from: net.faucet.address,
      nonce: overrides.nonce ?? nonce,
      fee: overrides.fee ?? fee,
      to,
      amount: 1n,
    },
    net.faucet.seed,
  );
  return { to, json: txToJson(tx) as unknown as Record<string, unknown> };
}

const BAD_PARAM: Record<string, string> = {
  id: 'zz-not-a-height-or-hash',
  height: '-1',
  address: 'ait1notanaddress',
  jobId: 'bad%20job%20id%21',
};
const UNKNOWN_PARAM: Record<string, string> = {
  id: '00'.repeat(32),
  height: '99999999',
  jobId: 'no-such-job',
};

describe('REST routes of a real node process', () => {
  it('every route with a path parameter refuses a malformed value with 400 RPC_BAD_PARAMS', async () => {
    const withParams = NODE_ROUTES.filter((r) => r.method === 'GET' && r.params !== undefined);
    expect(withParams.length).toBeGreaterThanOrEqual(7);
    for (const route of withParams) {
      const path = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => BAD_PARAM[name] ?? 'x');
      await expectError('GET', path, 400, 'RPC_BAD_PARAMS');
    }
  });

  it('unknown ids are 404 RPC_NOT_FOUND', async () => {
    for (const route of NODE_ROUTES.filter((r) => r.method === 'GET' && r.params !== undefined)) {
      const names = Object.keys(route.params ?? {});
      if (!names.every((n) => UNKNOWN_PARAM[n] !== undefined)) continue;
      const path = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => UNKNOWN_PARAM[name] as string);
      await expectError('GET', path, 404, 'RPC_NOT_FOUND');
    }
    await expectError('GET', '/rpc/no_such_route', 404, 'RPC_NOT_FOUND');
    await expectError('POST', '/rpc/head', 404, 'RPC_NOT_FOUND', '{}');
  });

  it('query parameters of the wrong type are 400 RPC_BAD_PARAMS', async () => {
    const a = net.faucet.address;
    await expectError('GET', `/rpc/account/${a}?proof=maybe`, 400, 'RPC_BAD_PARAMS');
    await expectError('GET', `/rpc/account/${a}/txs?limit=0`, 400, 'RPC_BAD_PARAMS');
    await expectError('GET', `/rpc/account/${a}/txs?limit=abc`, 400, 'RPC_BAD_PARAMS');
    await expectError('GET', '/rpc/mempool?limit=-5', 400, 'RPC_BAD_PARAMS');
    await expectError('GET', `/rpc/escrow/job-1?proof=2`, 400, 'RPC_BAD_PARAMS');
  });

  it('send_tx: malformed JSON, wrong media type, wrong types, oversized body', async () => {
    await expectError('POST', '/rpc/send_tx', 400, 'RPC_BAD_JSON', '{"type":"transfer",');
    await expectError('POST', '/rpc/send_tx', 400, 'RPC_BAD_JSON', '');
    await expectError('POST', '/rpc/send_tx', 415, 'RPC_UNSUPPORTED_MEDIA_TYPE', 'hello', 'text/plain');
    await expectError('POST', '/rpc/send_tx', 400, /^(RPC_BAD_PARAMS|CHAIN_TX_MALFORMED)$/, '[1,2,3]');
    await expectError('POST', '/rpc/send_tx', 400, /^(RPC_BAD_PARAMS|CHAIN_TX_MALFORMED)$/, '"a string"');
    const { json } = transferJson();
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_TX_MALFORMED', JSON.stringify({ ...json, amount: 5 }));
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_TX_MALFORMED', JSON.stringify({ ...json, nonce: '0' }));
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_TX_MALFORMED', JSON.stringify({ ...json, to: 'ait1bogus' }));
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_TX_MALFORMED', JSON.stringify({ ...json, type: 'mint' }));
    await expectError(
      'POST',
      '/rpc/send_tx',
      413,
      'RPC_BODY_TOO_LARGE',
      JSON.stringify({ ...json, pad: 'x'.repeat(2 * 1024 * 1024) }),
    );
  });

  it('send_tx: bad signature, wrong chain, low fee, replayed and out-of-order nonces', async () => {
    const { json } = transferJson();
    const sig = json.signature as string;
    const flipped = `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`;
    await expectError(
      'POST',
      '/rpc/send_tx',
      400,
      'CHAIN_BAD_SIGNATURE',
      JSON.stringify({ ...json, signature: flipped }),
    );
    // a body changed after signing no longer verifies
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_BAD_SIGNATURE', JSON.stringify({ ...json, amount: '2' }));
    await expectError(
      'POST',
      '/rpc/send_tx',
      400,
      'CHAIN_WRONG_CHAIN',
      JSON.stringify(transferJson({ chainId: 'other-chain' }).json),
    );
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_FEE_TOO_LOW', JSON.stringify(transferJson({ fee: 1n }).json));
    await expectError(
      'POST',
      '/rpc/send_tx',
      400,
      'CHAIN_BAD_NONCE',
      JSON.stringify(transferJson({ nonce: nonce + 100_000 }).json),
    );
    // a good one, then its replay once final
    const good = transferJson();
    nonce++;
    const r = await call('POST', '/rpc/send_tx', JSON.stringify(good.json));
    expect(r.status).toBe(200);
    await until(async () => ((await node.client.balance(good.to)) === 1n ? true : undefined), 30_000);
    await expectError('POST', '/rpc/send_tx', 400, 'CHAIN_BAD_NONCE', JSON.stringify(good.json));
    // a different transaction reusing the spent nonce
    await expectError(
      'POST',
      '/rpc/send_tx',
      400,
      'CHAIN_BAD_NONCE',
      JSON.stringify(transferJson({ nonce: nonce - 1 }).json),
    );
  });
});

describe('JSON-RPC of a real node process', () => {
  async function rpc(body: string) {
    return call('POST', '/rpc', body);
  }
  const stable = (r: Awaited<ReturnType<typeof rpc>>) =>
    ((r.json as { error?: { data?: { code?: string } } }).error?.data?.code ?? '') as string;

  it('parse errors are HTTP 400 with RPC_BAD_JSON; bad requests and unknown methods have stable codes', async () => {
    let r = await rpc('{"jsonrpc":"2.0",');
    expect(r.status).toBe(400);
    expect(stable(r)).toBe('RPC_BAD_JSON');
    r = await rpc('"just a string"');
    expect(stable(r)).toBe('RPC_BAD_REQUEST');
    r = await rpc('[]');
    expect(stable(r)).toBe('RPC_BAD_REQUEST');
    r = await rpc(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no_such_method' }));
    expect(stable(r)).toBe('RPC_METHOD_NOT_FOUND');
    r = await rpc(JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'get_head' }));
    expect(stable(r)).toBe('RPC_BAD_REQUEST');
    const big = Array.from({ length: 501 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'health' }));
    r = await rpc(JSON.stringify(big));
    expect(stable(r)).toBe('RPC_BATCH_TOO_LARGE');
    r = await call(
      'POST',
      '/rpc',
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health', params: { pad: 'x'.repeat(2 * 1024 * 1024) } }),
    );
    expect(r.status).toBe(413);
  });

  it('every method with parameters refuses wrong types with a stable code', async () => {
    const wrong = {
      id: true,
      height: 'tall',
      address: 7,
      jobId: ['x'],
      tx: 'not-an-object',
      proof: 'maybe',
      limit: 'many',
      cursor: 5,
    };
    const withParams = [
      'get_block',
      'get_tx',
      'send_tx',
      'get_account',
      'get_balance',
      'get_escrow',
      'get_mempool',
      'get_txs_by_address',
    ];
    for (const m of withParams) expect(NODE_OPERATIONS.has(m)).toBe(true);
    const calls = withParams.map((method, i) => ({ jsonrpc: '2.0', id: i, method, params: wrong }));
    const r = await rpc(JSON.stringify(calls));
    const results = r.json as unknown as Array<{ id: number; error?: { data?: { code?: string } } }>;
    expect(results).toHaveLength(withParams.length);
    for (const res of results)
      expect({ method: withParams[res.id], code: res.error?.data?.code }).toEqual({
        method: withParams[res.id],
        code: 'RPC_BAD_PARAMS',
      });
  });

  it('send_tx over JSON-RPC: bad signature, replay and unknown ids', async () => {
    const { json } = transferJson({ nonce: 0 });
    const unused = transferJson().json; // the next nonce: only its signature is wrong
    const calls = [
      { jsonrpc: '2.0', id: 1, method: 'send_tx', params: { tx: { ...unused, signature: '00'.repeat(64) } } },
      { jsonrpc: '2.0', id: 2, method: 'send_tx', params: { tx: json } },
      // A used nonce is refused before the signature is looked at.
      { jsonrpc: '2.0', id: 6, method: 'send_tx', params: { tx: { ...json, signature: '00'.repeat(64) } } },
      { jsonrpc: '2.0', id: 3, method: 'get_tx', params: { id: 'ab'.repeat(32) } },
      { jsonrpc: '2.0', id: 4, method: 'get_block', params: { height: 10_000_000 } },
      { jsonrpc: '2.0', id: 5, method: 'get_escrow', params: { jobId: 'nope' } },
    ];
    const r = await rpc(JSON.stringify(calls));
    const byId = new Map(
      (r.json as unknown as Array<{ id: number; error?: { data?: { code?: string } } }>).map((x) => [
        x.id,
        x.error?.data?.code,
      ]),
    );
    expect(byId.get(1)).toBe('CHAIN_BAD_SIGNATURE');
    expect(byId.get(2)).toBe('CHAIN_BAD_NONCE');
    expect(byId.get(6)).toBe('CHAIN_BAD_NONCE');
    expect(byId.get(3)).toBe('RPC_NOT_FOUND');
    expect(byId.get(4)).toBe('RPC_NOT_FOUND');
    expect(byId.get(5)).toBe('RPC_NOT_FOUND');
  });

  it('after all of it the node is healthy and still finalizes', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
    expect(node.process?.running).toBe(true);
    const good = transferJson();
    nonce++;
    const id = await node.client.sendTx(good.json);
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    await until(async () => ((await node.client.balance(good.to)) === 1n ? true : undefined), 30_000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/blockchain_blocks_total [1-9]/);
    expect(metrics).toContain('blockchain_finality_latency_seconds_count');
  });
});
