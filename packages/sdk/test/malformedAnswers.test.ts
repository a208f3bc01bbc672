import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AitbcClient, createClient } from '../src/index.js';

/** A real HTTP server that answers every SDK route it is asked with a well-formed but wrong body. */
let server: Server;
let client: AitbcClient;
const answers: Record<string, string> = {
  'GET /rpc/get_balance/ait1x': '{"balance":12}',
  'POST /rpc/send_tx': '{"ok":true}',
  'POST /rpc': '{"jsonrpc":"2.0","id":1}',
  'GET /v1/jobs/job_1/receipts': '{"items":{},"next_cursor":null}',
  'GET /v1/jobs/job_2/receipts': '{"items":[{"not":"a receipt"}],"next_cursor":null}',
  'GET /v1/jobs?limit=1': '{"items":[],"next_cursor":"c1"}',
  'GET /v1/jobs?cursor=c1&limit=1': '{"items":[],"next_cursor":"c1"}',
  'GET /v1/admin/stats': 'not json',
};

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = answers[`${req.method} ${req.url}`];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(body ?? '{"error":{"code":"X_NOT_FOUND","message":"no"}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createClient({ node: url, coordinator: url, retry: { retries: 0 } });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('malformed answers are typed errors, never garbage results', () => {
  it('node: a balance that is not a decimal string, send_tx without an id, JSON-RPC without result', async () => {
    await expect(client.node.balance('ait1x')).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.node.sendTx({})).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.node.rpc('get_head')).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.node.rpcBatch([{ method: 'get_head' }])).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
  });

  it('coordinator: a receipts page of the wrong shape, a receipt that is not one, a cursor that does not advance, non-JSON', async () => {
    await expect(client.jobs.receiptsPage('job_1')).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.jobs.receipts('job_2').next()).rejects.toMatchObject({ code: 'RECEIPT_MALFORMED' });
    const list = client.jobs.list({ limit: 1 });
    await expect(list.next()).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.coordinator.adminStats()).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE' });
    await expect(client.jobs.get('job_9')).rejects.toMatchObject({ code: 'X_NOT_FOUND', status: 404 });
  });
});
