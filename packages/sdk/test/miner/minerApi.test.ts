import { createServer, type Server } from 'node:http';
import { addressFromPublicKey, isAitbcError } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpMinerApi, probeCapabilities } from '../../src/miner/index.js';
import { type CoordinatorRig, startCoordinatorRig } from './coordinatorRig.js';

const rigs: CoordinatorRig[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A plain HTTP server answering every request with `status` and `body` (not a coordinator). */
async function rawServer(status: number, body: string): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end(body);
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAitbcError(e)) throw new Error(`expected an AitbcError, got ${String(e)}`);
  return e.code;
}

describe('HTTP miner API client', () => {
  it('speaks the coordinator’s miner routes and keeps its error codes', async () => {
    const r = await startCoordinatorRig({ minerCount: 1 });
    rigs.push(r);
    const m = r.miners[0]!;
    const api = createHttpMinerApi({ baseUrl: r.url, apiKey: m.apiKey });
    expect(await codeOf(api.poll(0.1))).toBe('COORD_UNKNOWN_MINER');
    await api.register({
      minerId: m.id,
      address: addressFromPublicKey(m.keys.publicKey),
      publicKey: m.keys.publicKey,
      capabilities: await probeCapabilities({ nvidiaSmiPath: false }),
      pricePerUnit: 5n,
      maxConcurrency: 1,
    });
    // probeCapabilities without runners advertises no kinds: the registration still stands
    expect(r.hub.registry.get(m.id)?.pricePerUnit).toBe(5n);
    expect(await api.poll(0.1)).toBeNull();
    expect(await api.heartbeat({ runningJobs: ['job_00000000000000000000000000000000'] })).toEqual({
      cancel: ['job_00000000000000000000000000000000'],
    });
    const e = await api.reportFailure('job_00000000000000000000000000000000', 'x').catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'COORD_UNKNOWN_JOB', details: { status: 404 } });
    expect(await codeOf(createHttpMinerApi({ baseUrl: r.url, apiKey: 'nope' }).poll(0.1))).toBe('COORD_UNAUTHORIZED');
    const ac = new AbortController();
    const poll = api.poll(5, ac.signal);
    setTimeout(() => ac.abort(), 100);
    expect(await codeOf(poll)).toBe('MINER_ABORTED');
  });

  it('maps a dead coordinator, a non-coordinator answer and an oversized body to MINER_ codes', async () => {
    const dead = await rawServer(200, '');
    const closed = servers.pop()!;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens on that port any more
    expect(await codeOf(createHttpMinerApi({ baseUrl: dead, apiKey: 'k' }).poll(0.1))).toBe('MINER_UNREACHABLE');
    const html = await rawServer(502, '<html>bad gateway</html>');
    const e = await createHttpMinerApi({ baseUrl: html, apiKey: 'k' })
      .poll(0.1)
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'MINER_HTTP_ERROR', details: { status: 502 } });
    const big = await rawServer(200, 'x'.repeat(4096));
    expect(await codeOf(createHttpMinerApi({ baseUrl: big, apiKey: 'k', maxResponseBytes: 1024 }).poll(0.1))).toBe(
      'MINER_HTTP_ERROR',
    );
    const garbage = await rawServer(200, '{"job_id": 5}');
    expect(await codeOf(createHttpMinerApi({ baseUrl: garbage, apiKey: 'k' }).poll(0.1))).toBe('MINER_HTTP_ERROR');
  });

  it('refuses a bad configuration', () => {
    expect(() => createHttpMinerApi({ baseUrl: 'not a url', apiKey: 'k' })).toThrow(/URL/);
    expect(() => createHttpMinerApi({ baseUrl: 'http://127.0.0.1:1', apiKey: '' })).toThrow(/apiKey/);
  });
});
