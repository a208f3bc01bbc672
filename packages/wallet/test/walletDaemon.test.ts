import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Account, createMempool, DEFAULT_PARAMS, type TxJson } from '@aitbc/chain-core';
import {
  addressFromPublicKey,
  bytesToBase64url,
  bytesToHex,
  generateKeyPair,
  hexToBytes,
  verifyMessage,
} from '@aitbc/crypto';
import { attestReceipt, createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { createWalletDaemon, type WalletDaemon, type WalletNode } from '../src/daemon/index.js';
import { createKeystore, generateMnemonic, MIN_KDF } from '../src/index.js';

const CHAIN = 'aitbc-devnet';
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'aitbc-wallet-'));
  dirs.push(d);
  return join(d, 'data');
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A WalletNode over chain-core's real mempool (signature, nonce, fee and balance checks), with
 * accounts from a map: enough to prove the daemon's nonces are accepted in order. Finality and
 * balances over a real chain are tested in reference-node/test/walletDaemon.test.ts.
 */
function mempoolNode(funded: Map<string, Account>): WalletNode & { submitted: TxJson[]; funded: Map<string, Account> } {
  const mempool = createMempool({
    chainId: CHAIN,
    minFee: DEFAULT_PARAMS.minFee,
    account: async (a) => funded.get(a) ?? { balance: 0n, nonce: 0 },
  });
  const submitted: TxJson[] = [];
  return {
    submitted,
    funded,
    account: async (a) => funded.get(a) ?? { balance: 0n, nonce: 0 },
    async submitTx(tx) {
      const r = await mempool.addJson(tx);
      submitted.push(tx);
      return r.id;
    },
    async txStatus(id) {
      return mempool.get(hexToBytes(id.startsWith('0x') ? id : `0x${id}`, 32)) === undefined
        ? { status: 'unknown' }
        : { status: 'pending' };
    },
  };
}

/** Response bodies are untyped JSON in these tests. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON response fields
type Json = any;

interface Client {
  url: string;
  token: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json; headers: Headers }>;
  rpc(body: unknown): Promise<{ status: number; body: Json }>;
}

async function client(daemon: WalletDaemon, url: string): Promise<Client> {
  const token = readFileSync(daemon.tokenFile, 'utf8').trim();
  const call: Client['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, body: text === '' ? undefined : json ? JSON.parse(text) : text, headers: res.headers };
  };
  return {
    url,
    token,
    call,
    rpc: async (body) => call('POST', '/v1/rpc', body),
  };
}

const PASS = 'correct horse battery staple 7f3a';
const PASS2 = 'second wallet passphrase 91c2';
const logLines: string[] = [];
const secrets: string[] = [PASS, PASS2];
const node = mempoolNode(new Map());
let dataDir: string;
let daemon: WalletDaemon;
let c: Client;

function startDaemon(dir: string, extra: Partial<Parameters<typeof createWalletDaemon>[0]> = {}) {
  return createWalletDaemon({
    dataDir: dir,
    port: 0,
    kdf: MIN_KDF,
    node,
    chainId: CHAIN,
    unlockThrottle: { freeAttempts: 2, baseDelayMs: 300, maxDelayMs: 1_000 },
    bodyLimit: 16 * 1024,
    maxBatch: 4,
    logLevel: 'debug',
    logStream: { write: (line) => void logLines.push(line) },
    ...extra,
  });
}

beforeAll(async () => {
  dataDir = tmp();
  daemon = startDaemon(dataDir);
  c = await client(daemon, await daemon.start());
  secrets.push(c.token);
});
afterAll(async () => {
  await daemon.stop();
});

describe('wallet daemon: authentication and files', () => {
  it('writes the token (0600) and keystore directory (0700); health is public, everything else needs the token', async () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(daemon.tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(daemon.keystoreDir).mode & 0o777).toBe(0o700);
    expect(c.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await fetch(`${c.url}/health`)).status).toBe(200);
    const none = await fetch(`${c.url}/v1/wallets`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as Json).error.code).toBe('WALLET_UNAUTHORIZED');
    const altered = `${c.token.slice(0, -1)}${c.token.endsWith('x') ? 'y' : 'x'}`; // never the token itself
    for (const authorization of [`Bearer ${altered}`, c.token, `Basic ${c.token}`, 'Bearer '])
      expect((await fetch(`${c.url}/v1/wallets`, { headers: { authorization } })).status).toBe(401);
    const rpc = await fetch(`${c.url}/v1/rpc`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(rpc.status).toBe(401);
    const metrics = await c.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('wallet_wallets');
    expect((await fetch(`${c.url}/metrics`)).status).toBe(401);
    expect((await c.call('GET', '/v1/nothing')).status).toBe(404);
  });
});

let walletId: string;
let address: string;
let mnemonic: string;

describe('wallet daemon: wallets', () => {
  it('creates a wallet from a fresh mnemonic, stores it 0600, lists and shows it with its balance', async () => {
    const res = await c.call('POST', '/v1/wallets', { passphrase: PASS });
    expect(res.status).toBe(201);
    walletId = res.body.wallet.id;
    address = res.body.wallet.address;
    mnemonic = res.body.mnemonic;
    secrets.push(mnemonic);
    expect(mnemonic.split(' ')).toHaveLength(24);
    expect(walletId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.wallet).toMatchObject({ unlocked: false, kdf: { name: 'argon2id', ...MIN_KDF } });
    const file = join(daemon.keystoreDir, `${walletId}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ version: 1, id: walletId, address, kdf: { name: 'argon2id' } });
    expect(text).not.toContain(mnemonic);
    expect(readdirSync(daemon.keystoreDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const list = await c.call('GET', '/v1/wallets');
    expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([walletId]);
    const one = await c.call('GET', `/v1/wallets/${walletId}`);
    expect(one.body).toMatchObject({ id: walletId, address, balance: '0', nonce: 0 });
    const twelve = await c.call('POST', '/v1/wallets', { passphrase: PASS2, words: 12 });
    expect(twelve.body.mnemonic.split(' ')).toHaveLength(12);
    secrets.push(twelve.body.mnemonic);
  });

  it('imports from a mnemonic and from a keystore, and refuses duplicates, bad mnemonics and bad keystores', async () => {
    const dup = await c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'WALLET_EXISTS', details: { id: walletId } });
    const other = generateMnemonic();
    secrets.push(other);
    const imported = await c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic: other, account: 2 });
    expect(imported.status).toBe(201);
    expect(imported.body.mnemonic).toBeUndefined();
    const words = other.split(' ');
    const badWord = [...words.slice(0, 3), 'qwertyuiop', ...words.slice(4)].join(' ');
    const r1 = await c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic: badWord });
    expect(r1.status).toBe(400);
    expect(r1.body.error).toMatchObject({ code: 'WALLET_BAD_MNEMONIC_WORD', details: { position: 4 } });
    expect(JSON.stringify(r1.body)).not.toContain('qwertyuiop');
    // valid words, wrong checksum (the vector is "abandon ×11 about")
    const r2 = await c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic: 'abandon '.repeat(12).trim() });
    expect(r2.body.error.code).toBe('WALLET_BAD_MNEMONIC_CHECKSUM');
    const r3 = await c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic: words.slice(0, 13).join(' ') });
    expect(r3.body.error.code).toBe('WALLET_BAD_MNEMONIC_LENGTH');

    const kp = generateKeyPair();
    secrets.push(bytesToHex(kp.seed), bytesToBase64url(kp.seed));
    const ks = await createKeystore(kp.seed, PASS2, { kdf: MIN_KDF });
    const wrong = await c.call('POST', '/v1/wallets', { passphrase: PASS, keystore: ks });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('WALLET_WRONG_PASSPHRASE');
    const tampered = await c.call('POST', '/v1/wallets', {
      passphrase: PASS2,
      keystore: { ...ks, address: addressFromPublicKey(generateKeyPair().publicKey) },
    });
    expect(tampered.body.error.code).toBe('WALLET_TAMPERED');
    const costly = await c.call('POST', '/v1/wallets', {
      passphrase: PASS2,
      keystore: { ...ks, kdf: { ...ks.kdf, m: 4_194_304 } },
    });
    expect(costly.body.error).toMatchObject({ code: 'WALLET_BAD_KDF', details: { max: { m: 1_048_576, t: 16 } } });
    const truncated = await c.call('POST', '/v1/wallets', {
      passphrase: PASS2,
      keystore: JSON.stringify(ks).slice(0, 80),
    });
    expect(truncated.body.error.code).toBe('WALLET_TRUNCATED');
    // as JSON text, with an unknown field that is not stored
    const ok = await c.call('POST', '/v1/wallets', {
      passphrase: PASS2,
      keystore: JSON.stringify({ ...ks, note: 'x' }),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.wallet).toMatchObject({ id: ks.id, address: ks.address });
    expect(JSON.parse(readFileSync(join(daemon.keystoreDir, `${ks.id}.json`), 'utf8'))).toEqual(ks);
    // concurrent imports of one mnemonic store it once
    const twice = generateMnemonic(12);
    secrets.push(twice);
    const racing = await Promise.all(
      [0, 1].map(() => c.call('POST', '/v1/wallets', { passphrase: PASS2, mnemonic: twice })),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
    const both = await c.call('POST', '/v1/wallets', { passphrase: PASS2, keystore: ks, mnemonic: other });
    expect(both.body.error).toMatchObject({ code: 'WALLET_BAD_PARAMS', details: { param: 'keystore' } });
    const noPass = await c.call('POST', '/v1/wallets', {});
    expect(noPass.body.error).toMatchObject({ code: 'WALLET_BAD_PARAMS', details: { param: 'passphrase' } });
  });

  it('answers unknown ids, malformed JSON, non-object and oversized bodies with typed errors', async () => {
    const unknown = await c.call('GET', `/v1/wallets/${'0'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('WALLET_NOT_FOUND');
    expect((await c.call('POST', `/v1/wallets/${'0'.repeat(32)}/unlock`, { passphrase: PASS })).body.error.code).toBe(
      'WALLET_NOT_FOUND',
    );
    expect((await c.call('GET', '/v1/wallets/not-an-id')).body.error).toMatchObject({ code: 'WALLET_BAD_PARAMS' });
    const bad = await c.call('POST', '/v1/wallets', `{"passphrase": "${PASS}"`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('WALLET_BAD_JSON');
    expect((await c.call('POST', '/v1/wallets', [PASS])).body.error.code).toBe('WALLET_BAD_PARAMS');
    const big = await c.call('POST', '/v1/wallets', { passphrase: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('WALLET_BODY_TOO_LARGE');
  });
});

describe('wallet daemon: every route refuses the basics', () => {
  it('answers no token, a wrong token, unknown ids, malformed JSON and oversized bodies on every route', async () => {
    const unknown = '0'.repeat(32);
    const routes: Array<[string, string]> = [
      ['GET', '/metrics'],
      ['POST', '/v1/wallets'],
      ['GET', '/v1/wallets'],
      ['GET', `/v1/wallets/${unknown}`],
      ['POST', `/v1/wallets/${unknown}/unlock`],
      ['POST', `/v1/wallets/${unknown}/lock`],
      ['POST', `/v1/wallets/${unknown}/sign`],
      ['POST', `/v1/wallets/${unknown}/send`],
      ['POST', '/v1/receipts/verify'],
      ['POST', '/v1/rpc'],
    ];
    for (const [method, path] of routes) {
      const ct: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
      const body = method === 'POST' ? { body: '{}' } : {};
      const none = await fetch(`${c.url}${path}`, { method, ...body, headers: ct });
      expect([path, none.status]).toEqual([path, 401]);
      const wrong = await fetch(`${c.url}${path}`, {
        method,
        ...body,
        headers: { ...ct, authorization: 'Bearer x'.repeat(3) },
      });
      expect([path, wrong.status]).toEqual([path, 401]);
      if (method !== 'POST') continue;
      const big = await c.call(method, path, JSON.stringify({ pad: 'x'.repeat(17_000) }));
      expect([path, big.status, big.body.error?.code]).toEqual([path, 413, 'WALLET_BODY_TOO_LARGE']);
      if (path === '/v1/rpc') continue; // JSON-RPC answers bad JSON with -32700 (tested below)
      const bad = await c.call(method, path, '{"passphrase":');
      expect([path, bad.status, bad.body.error.code]).toEqual([path, 400, 'WALLET_BAD_JSON']);
    }
    for (const [method, path, body] of [
      ['GET', `/v1/wallets/${unknown}`, undefined],
      ['POST', `/v1/wallets/${unknown}/unlock`, { passphrase: PASS }],
      ['POST', `/v1/wallets/${unknown}/lock`, {}],
      ['POST', `/v1/wallets/${unknown}/sign`, { session: 'x', message: 1 }],
      ['POST', `/v1/wallets/${unknown}/send`, { session: 'x', to: address, amount: '1' }],
    ] as const) {
      const r = await c.call(method, path, body);
      expect([path, r.status, r.body.error.code]).toEqual([path, 404, 'WALLET_NOT_FOUND']);
    }
  });
});

describe('wallet daemon: sessions, signing and sends', () => {
  let session: string;

  it('throttles wrong passphrases per wallet with growing delays and Retry-After', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: `${PASS}!` });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('WALLET_WRONG_PASSPHRASE');
      expect(r.body.error.details).toBeUndefined();
    }
    const third = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: `${PASS}!` });
    expect(third.body.error).toMatchObject({ code: 'WALLET_WRONG_PASSPHRASE', details: { retryAfterMs: 300 } });
    expect(third.headers.get('retry-after')).toBe('1');
    // while blocked, even the right passphrase is refused without running the KDF
    const blocked = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: PASS });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('WALLET_UNLOCK_THROTTLED');
    expect(blocked.body.error.details.retryAfterMs).toBeGreaterThan(0);
    const fourth = await until(async () => {
      const r = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: `${PASS}?` });
      return r.body.error.code === 'WALLET_WRONG_PASSPHRASE' ? r : undefined;
    });
    expect(fourth.body.error.details.retryAfterMs).toBe(600); // doubled
    const ok = await until(async () => {
      const r = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: PASS, ttlSeconds: 600 });
      return r.status === 200 ? r : undefined;
    });
    session = ok.body.session;
    secrets.push(session);
    expect(ok.body.expiresAt).toBeGreaterThan(Date.now());
    expect((await c.call('GET', `/v1/wallets/${walletId}`)).body.unlocked).toBe(true);
    // the counter was reset by the success: two free attempts again
    expect(
      (await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: 'nope' })).body.error.details,
    ).toBeUndefined();
    expect(
      (await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: PASS, ttlSeconds: 0 })).body.error,
    ).toMatchObject({
      code: 'WALLET_BAD_PARAMS',
      details: { param: 'ttlSeconds' },
    });
  });

  it('signs domain-separated messages with a session, and refuses protocol kinds and foreign sessions', async () => {
    const r = await c.call('POST', `/v1/wallets/${walletId}/sign`, { session, message: { hello: 'world', n: 1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'message', chainId: CHAIN, address });
    const ok = verifyMessage(
      'message',
      CHAIN,
      { hello: 'world', n: 1 },
      hexToBytes(r.body.signature),
      hexToBytes(r.body.publicKey),
    );
    expect(ok).toBe(true);
    const login = await c.call('POST', `/v1/wallets/${walletId}/sign`, {
      session,
      kind: 'login',
      chainId: 'other',
      message: 'c',
    });
    expect(
      verifyMessage('login', 'other', 'c', hexToBytes(login.body.signature), hexToBytes(login.body.publicKey)),
    ).toBe(true);
    const tx = await c.call('POST', `/v1/wallets/${walletId}/sign`, { session, kind: 'tx', message: {} });
    expect(tx.status).toBe(403);
    expect(tx.body.error.code).toBe('WALLET_FORBIDDEN_KIND');
    const others = (await c.call('GET', '/v1/wallets')).body.items.filter((w: { id: string }) => w.id !== walletId);
    const other = others[0].id as string;
    expect((await c.call('POST', `/v1/wallets/${other}/sign`, { session, message: 1 })).body.error.code).toBe(
      'WALLET_LOCKED',
    );
    const otherSession = (await c.call('POST', `/v1/wallets/${other}/unlock`, { passphrase: PASS2 })).body.session;
    secrets.push(otherSession);
    const foreign = await c.call('POST', `/v1/wallets/${other}/sign`, { session, message: 1 });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('WALLET_BAD_SESSION');
    expect((await c.call('POST', `/v1/wallets/${walletId}/sign`, { message: 1 })).body.error).toMatchObject({
      code: 'WALLET_BAD_PARAMS',
      details: { param: 'session' },
    });
    expect(
      (await c.call('POST', `/v1/wallets/${walletId}/sign`, { session, message: 'x'.repeat(17_000) })).status,
    ).toBe(413);
    expect((await c.call('POST', `/v1/wallets/${other}/lock`)).body).toEqual({ locked: true, sessionsClosed: 1 });
  });

  it('gives two quick sends consecutive nonces that the mempool accepts, and sends escrow locks and refunds', async () => {
    const to = addressFromPublicKey(generateKeyPair().publicKey);
    const funded = await c.call('GET', `/v1/wallets/${walletId}`);
    expect(funded.body.nonce).toBe(0);
    // fund the wallet in the node's account source, then send twice without waiting
    node.funded.set(address, { balance: 10n ** 21n, nonce: 0 });
    const [a, b] = await Promise.all([
      c.call('POST', `/v1/wallets/${walletId}/send`, { session, to, amount: '5' }),
      c.call('POST', `/v1/wallets/${walletId}/send`, {
        session,
        type: 'transfer',
        to,
        amount: '6',
        fee: DEFAULT_PARAMS.minFee.toString(),
      }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.nonce, b.body.nonce].sort()).toEqual([0, 1]);
    expect(a.body).toMatchObject({ status: 'submitted', fee: DEFAULT_PARAMS.minFee.toString() });
    const lock = await c.call('POST', `/v1/wallets/${walletId}/send`, {
      session,
      type: 'escrow.lock',
      jobId: 'job-1',
      amount: '100',
      coordinator: to,
      expiresAtHeight: 50,
    });
    expect(lock.body.nonce).toBe(2);
    const refund = await c.call('POST', `/v1/wallets/${walletId}/send`, {
      session,
      type: 'escrow.refund',
      jobId: 'job-1',
    });
    expect(refund.body.nonce).toBe(3);
    // sends of one address are serialized: submission order is nonce order
    expect(node.submitted.map((t) => [t.type, t.nonce])).toEqual([
      ['transfer', 0],
      ['transfer', 1],
      ['escrow.lock', 2],
      ['escrow.refund', 3],
    ]);
    const waited = await c.call('POST', `/v1/wallets/${walletId}/send`, {
      session,
      to,
      amount: '1',
      wait: true,
      timeoutSeconds: 1,
    });
    expect(waited.status).toBe(504);
    expect(waited.body.error).toMatchObject({ code: 'WALLET_WAIT_TIMEOUT', details: { status: 'pending' } });
    for (const [body, param] of [
      [{ session, to: 'ait1nope', amount: '1' }, 'to'],
      [{ session, to, amount: '-1' }, 'amount'],
      [{ session, to, amount: 1 }, 'amount'],
      [{ session, type: 'escrow.settle', jobId: 'j' }, 'type'],
      [{ session, type: 'escrow.lock', jobId: 'j', amount: '1', coordinator: to }, 'expiresAtHeight'],
      [{ session, type: 'escrow.refund', jobId: 'bad id!' }, 'jobId'],
    ] as const) {
      const r = await c.call('POST', `/v1/wallets/${walletId}/send`, body);
      expect(r.body.error).toMatchObject({ code: 'WALLET_BAD_PARAMS', details: { param } });
    }
    const rejected = await c.call('POST', `/v1/wallets/${walletId}/send`, { session, to, amount: '1', fee: '1' });
    expect(rejected.body.error.code).toMatch(/^CHAIN_/);
  });

  it('locks (keys zeroed, sessions refused) and expires sessions', async () => {
    expect((await c.call('POST', `/v1/wallets/${walletId}/lock`)).body).toEqual({ locked: true, sessionsClosed: 1 });
    const locked = await c.call('POST', `/v1/wallets/${walletId}/sign`, { session, message: 1 });
    expect(locked.status).toBe(423);
    expect(locked.body.error.code).toBe('WALLET_LOCKED');
    expect(
      (await c.call('POST', `/v1/wallets/${walletId}/send`, { session, to: address, amount: '1' })).body.error.code,
    ).toBe('WALLET_LOCKED');
    const short = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: PASS, ttlSeconds: 1 });
    secrets.push(short.body.session);
    expect(
      (await c.call('POST', `/v1/wallets/${walletId}/sign`, { session: short.body.session, message: 1 })).status,
    ).toBe(200);
    const expired = await until(async () => {
      const r = await c.call('POST', `/v1/wallets/${walletId}/sign`, { session: short.body.session, message: 1 });
      return r.status === 200 ? undefined : r;
    }, 5_000);
    expect(expired.status).toBe(403);
    expect(expired.body.error.code).toBe('WALLET_SESSION_EXPIRED');
    expect((await c.call('GET', `/v1/wallets/${walletId}`)).body.unlocked).toBe(false);
  });
});

describe('wallet daemon: receipts', () => {
  it('verifies a receipt against pinned miner and coordinator keys', async () => {
    const miner = generateKeyPair();
    const coordinator = generateKeyPair();
    const receipt = attestReceipt(
      signReceipt(
        createReceipt({
          jobId: 'job-9',
          provider: addressFromPublicKey(miner.publicKey),
          client: address,
          units: 3n,
          unitType: 'tokens',
          unitPrice: 2n,
          startedAt: 1_000,
          completedAt: 2_000,
          chainId: CHAIN,
        }),
        miner.seed,
      ),
      coordinator.seed,
    );
    const keys = {
      minerKeys: [bytesToHex(miner.publicKey)],
      coordinatorKeys: [bytesToBase64url(coordinator.publicKey)],
    };
    const ok = await c.call('POST', '/v1/receipts/verify', { receipt, ...keys });
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    expect(ok.body.signatures.map((s: { role: string }) => s.role)).toEqual(['miner', 'coordinator']);
    const asText = await c.call('POST', '/v1/receipts/verify', { receipt: serializeReceipt(receipt), ...keys });
    expect(asText.body.ok).toBe(true);
    const untrusted = await c.call('POST', '/v1/receipts/verify', {
      receipt,
      minerKeys: [bytesToHex(generateKeyPair().publicKey)],
    });
    expect(untrusted.body.ok).toBe(false);
    expect(untrusted.body.signatures[0].reason).toBe('untrusted_key');
    const tampered = await c.call('POST', '/v1/receipts/verify', { receipt: { ...receipt, units: '4' }, ...keys });
    expect(tampered.body.ok).toBe(false);
    expect((await c.call('POST', '/v1/receipts/verify', { receipt, minerKeys: ['zz'] })).body.error).toMatchObject({
      code: 'WALLET_BAD_PARAMS',
      details: { param: 'minerKeys' },
    });
    expect((await c.call('POST', '/v1/receipts/verify', { receipt: '{"x":', minerKeys: [] })).body.error.code).toBe(
      'WALLET_BAD_PARAMS',
    );
  });
});

describe('wallet daemon: JSON-RPC 2.0 at /v1/rpc', () => {
  it('runs the same operations, batches up to the cap, and uses the standard error codes', async () => {
    const list = await c.rpc({ jsonrpc: '2.0', id: 1, method: 'wallet.list' });
    expect(list.body.result.items.map((w: { id: string }) => w.id)).toContain(walletId);
    const unlocked = await c.rpc({
      jsonrpc: '2.0',
      id: 'u',
      method: 'wallet.unlock',
      params: { id: walletId, passphrase: PASS },
    });
    const s = unlocked.body.result.session as string;
    secrets.push(s);
    const batch = await c.rpc([
      { jsonrpc: '2.0', id: 1, method: 'wallet.sign', params: { id: walletId, session: s, message: 'hi' } },
      { jsonrpc: '2.0', id: 2, method: 'wallet.get', params: { id: walletId } },
      { jsonrpc: '2.0', method: 'wallet.lock', params: { id: walletId } }, // notification: no answer
      { jsonrpc: '2.0', id: 3, method: 'wallet.sign', params: { id: walletId, session: s, message: 'hi' } },
    ]);
    expect(batch.body.map((r: { id: number }) => r.id)).toEqual([1, 2, 3]);
    expect(
      verifyMessage(
        'message',
        CHAIN,
        'hi',
        hexToBytes(batch.body[0].result.signature),
        hexToBytes(batch.body[0].result.publicKey),
      ),
    ).toBe(true);
    expect(batch.body[1].result.address).toBe(address);
    expect(batch.body[2].error).toMatchObject({ code: -32000, data: { code: 'WALLET_LOCKED' } });
    const over = await c.rpc(Array.from({ length: 5 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'wallet.list' })));
    expect(over.body.error).toMatchObject({
      code: -32600,
      data: { code: 'WALLET_BATCH_TOO_LARGE', details: { max: 4, received: 5 } },
    });
    expect((await c.rpc([])).body.error.code).toBe(-32600);
    expect((await c.rpc({ jsonrpc: '2.0', id: 1, method: 'wallet.nope' })).body.error).toMatchObject({
      code: -32601,
      data: { code: 'WALLET_METHOD_NOT_FOUND' },
    });
    expect((await c.rpc({ jsonrpc: '2.0', id: 1, method: 'wallet.get', params: { id: 7 } })).body.error).toMatchObject({
      code: -32602,
      data: { code: 'WALLET_BAD_PARAMS', details: { param: 'id' } },
    });
    expect((await c.rpc({ jsonrpc: '2.0', id: 1, method: 'wallet.get', params: [walletId] })).body.error.code).toBe(
      -32602,
    );
    expect((await c.rpc({ id: 1, method: 'wallet.list' })).body.error.code).toBe(-32600);
    expect(
      (await c.rpc({ jsonrpc: '2.0', id: 1, method: 'wallet.get', params: { id: '0'.repeat(32) } })).body.error,
    ).toMatchObject({
      code: -32000,
      data: { code: 'WALLET_NOT_FOUND' },
    });
    const parse = await c.rpc(`{"jsonrpc":"2.0","method":"wallet.unlock","params":{"passphrase":"${PASS}"`);
    expect(parse.status).toBe(200);
    expect(parse.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect((await c.rpc({ jsonrpc: '2.0', method: 'wallet.list' })).status).toBe(204);
    const wrong = await c.rpc({
      jsonrpc: '2.0',
      id: 9,
      method: 'wallet.unlock',
      params: { id: walletId, passphrase: 'no' },
    });
    expect(wrong.body.error).toMatchObject({ code: -32000, data: { code: 'WALLET_WRONG_PASSPHRASE' } });
    expect(
      (await c.rpc({ jsonrpc: '2.0', id: 1, method: 'receipts.verify', params: { receipt: 1, minerKeys: [] } })).body
        .error.code,
    ).toBe(-32602);
  });
});

describe('wallet daemon: restart, upgrade, no node', () => {
  it('keeps wallets and the token across a restart, removes crashed temporary files, and upgrades files on unlock', async () => {
    const before = (await c.call('GET', '/v1/wallets')).body.items;
    await daemon.stop();
    writeFileSync(join(daemon.keystoreDir, `.${walletId}.json.abcdef.tmp`), '{"half":');
    const stronger = { m: MIN_KDF.m * 2, t: 1, p: 1 };
    daemon = startDaemon(dataDir, { kdf: stronger });
    c = await client(daemon, await daemon.start());
    expect(c.token).toBe(secrets[2]);
    expect((await c.call('GET', '/v1/wallets')).body.items).toEqual(before);
    expect(readdirSync(daemon.keystoreDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const u = await c.call('POST', `/v1/wallets/${walletId}/unlock`, { passphrase: PASS });
    expect(u.status).toBe(200);
    secrets.push(u.body.session);
    const stored = JSON.parse(readFileSync(join(daemon.keystoreDir, `${walletId}.json`), 'utf8'));
    expect(stored).toMatchObject({ id: walletId, address, kdf: { m: stronger.m } });
    expect(statSync(join(daemon.keystoreDir, `${walletId}.json`)).mode & 0o777).toBe(0o600);
    expect((await c.call('GET', `/v1/wallets/${walletId}`)).body.kdf).toEqual({ name: 'argon2id', ...stronger });
  });

  it('signs without a node and refuses sends with WALLET_NO_NODE', async () => {
    const d = createWalletDaemon({ dataDir: tmp(), port: 0, kdf: MIN_KDF, logLevel: false });
    const k = await client(d, await d.start());
    try {
      const w = (await k.call('POST', '/v1/wallets', { passphrase: PASS })).body;
      secrets.push(w.mnemonic);
      const s = (await k.call('POST', `/v1/wallets/${w.wallet.id}/unlock`, { passphrase: PASS })).body.session;
      expect((await k.call('GET', `/v1/wallets/${w.wallet.id}`)).body.balance).toBeUndefined();
      const r = await k.call('POST', `/v1/wallets/${w.wallet.id}/send`, { session: s, to: address, amount: '1' });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('WALLET_NO_NODE');
    } finally {
      await d.stop();
    }
  });
});

describe('wallet daemon: secrets stay out of the logs', () => {
  it('captured every debug log line of the sessions above and none holds a passphrase, mnemonic, seed, token or session', async () => {
    expect(logLines.length).toBeGreaterThan(50);
    const metrics = (await c.call('GET', '/metrics')).body as string;
    expect(metrics).toContain('wallet_operations_total{method="wallet.unlock",outcome="ok"}');
    const all = `${logLines.join('\n')}\n${metrics}`;
    expect(all).toContain('wallet unlocked');
    expect(all).toContain('incoming request');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all).not.toContain(secret);
      for (const word of secret.split(' ').length > 1 ? [secret.split(' ').slice(0, 3).join(' ')] : [])
        expect(all).not.toContain(word);
    }
  });
});
