/**
 * The SDK's main entry in a real headless browser: bundled for the browser with esbuild, served
 * with a tiny page from a real HTTP server on 127.0.0.1, loaded in Debian's Chromium (through
 * playwright-core, headless, `--no-sandbox`), and run against a real devnet of one whose node API
 * allows the page's origin (CORS). In the page, with the browser's own `fetch` and `WebSocket`: read
 * the head, subscribe to new blocks and see one arrive, verify an account with the light client,
 * verify a receipt (and refuse a tampered one), and see a cross-origin call the node refuses.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { attestReceipt, createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'aitbc-sdk-browser-'));
let node: DevnetOfOne;
let server: Server;
let origin: string;
let browser: Browser;
let page: Page;
let nonce = 0;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>aitbc sdk</title></head><body>
<script type="module">
  import * as sdk from '/sdk.js';
  window.sdk = sdk;
  document.title = 'ready';
</script></body></html>`;

async function transfer(): Promise<string> {
  const bob = addressFromPublicKey(generateKeyPair().publicKey);
  const tx = signTx(
    {
      type: 'transfer',
      chainId: node.chainId,
      from: node.faucet.address,
      nonce: nonce++,
      fee: DEFAULT_PARAMS.minFee,
      to: bob,
      amount: 1n,
    },
    node.faucet.seed,
  );
  return createClient({ node: node.rpcUrl }).node.sendTx(txToJson(tx));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/apt-packages)`);
  const bundle = await build({
    entryPoints: [join(root, 'src/index.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    conditions: ['@aitbc/source'],
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.contents;
  server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(js);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 100, corsOrigins: [origin] });
  await transfer(); // a first block, so that there is a committed header to prove against
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(
    () => (globalThis as unknown as { document: { title: string } }).document.title === 'ready',
    undefined,
    { timeout: 30_000 },
  );
  expect(errors).toEqual([]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the SDK in headless Chromium against a devnet of one', () => {
  it('reads the head and sees a new block arrive over the browser’s WebSocket', async () => {
    const head = await page.evaluate(async (rpcUrl) => {
      const { createClient } = (globalThis as unknown as { sdk: typeof import('../src/index.js') }).sdk;
      const client = createClient({ node: rpcUrl });
      const h = await client.node.head();
      const sub = client.node.subscribeBlocks({ fromHeight: h.height + 1 });
      await sub.ready;
      const w = globalThis as unknown as { next: Promise<number> };
      w.next = (async () => {
        for await (const b of sub) {
          sub.close();
          return b.height;
        }
        return -1;
      })();
      return { height: h.height, hash: h.hash, native: typeof WebSocket === 'function' };
    }, node.rpcUrl);
    expect(head.native).toBe(true);
    expect(head.height).toBeGreaterThanOrEqual(1);
    expect(head.hash).toMatch(/^(0x)?[0-9a-f]{64}$/);
    await transfer(); // the devnet makes a block for it
    const arrived = await page.evaluate(
      () =>
        Promise.race([
          (globalThis as unknown as { next: Promise<number> }).next,
          new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no block within 20 s')), 20_000)),
        ]),
      undefined,
    );
    expect(arrived).toBe(head.height + 1);
  }, 60_000);

  it('verifies an account with the light client, and refuses a validator set it was not given', async () => {
    const validators = (await createClient({ node: node.rpcUrl }).node.validators()).map((v) => ({
      publicKey: v.publicKey,
      power: v.power,
      name: v.name,
    }));
    const stranger = [{ publicKey: bytesToHex(generateKeyPair().publicKey), power: 1, name: 'mallory' }];
    const r = await page.evaluate(
      async ({ rpcUrl, address, validators, stranger }) => {
        const { createClient } = (globalThis as unknown as { sdk: typeof import('../src/index.js') }).sdk;
        const client = createClient({ node: rpcUrl });
        const v = await client.verifyAccount(address, { validators, commitWaitMs: 10_000 });
        const refused = await client.verifyAccount(address, { validators: stranger, commitWaitMs: 10_000 }).then(
          () => null,
          (e: { code?: string; details?: { reason?: string } }) => ({ code: e.code, reason: e.details?.reason }),
        );
        return { balance: v.balance.toString(), nonce: v.nonce, signedPower: v.signedPower, refused };
      },
      { rpcUrl: node.rpcUrl, address: node.faucet.address, validators, stranger },
    );
    expect(BigInt(r.balance)).toBeGreaterThan(0n);
    expect(r.nonce).toBeGreaterThanOrEqual(1);
    expect(r.signedPower).toBe(1);
    expect(r.refused).toEqual({ code: 'SDK_PROOF_INVALID', reason: 'validators_mismatch' });
  }, 60_000);

  it('verifies a receipt under pinned keys and refuses a tampered one', async () => {
    const miner = generateKeyPair();
    const text = serializeReceipt(
      attestReceipt(
        signReceipt(
          createReceipt({
            jobId: 'job-browser',
            provider: addressFromPublicKey(miner.publicKey),
            client: node.faucet.address,
            units: 2n,
            unitType: 'job',
            unitPrice: 5n,
            startedAt: 1_000,
            completedAt: 2_000,
            chainId: node.chainId,
          }),
          miner.seed,
        ),
        node.coordinator.seed,
      ),
    );
    const trust = {
      coordinatorKeys: [bytesToHex(publicKeyFromSeed(node.coordinator.seed))],
      minerKeys: [bytesToHex(miner.publicKey)],
    };
    const r = await page.evaluate(
      ({ text, trust }) => {
        const { checkReceipt } = (globalThis as unknown as { sdk: typeof import('../src/index.js') }).sdk;
        const good = checkReceipt(JSON.parse(text), trust);
        const bad = checkReceipt(JSON.parse(text.replace('"price":"10"', '"price":"11"')), trust);
        const attestedOnly = checkReceipt(JSON.parse(text), { coordinatorKeys: trust.coordinatorKeys });
        return {
          good: good.ok,
          bad: bad.ok,
          attestedOnly: attestedOnly.ok,
          tampered: text.includes('"price":"10"'),
        };
      },
      { text, trust },
    );
    expect(r).toEqual({ good: true, bad: false, attestedOnly: true, tampered: true });
  });

  it('a page on an origin the node does not allow is refused by the browser (CORS)', async () => {
    const other = await browser.newPage();
    try {
      // Same bundle, other origin: `localhost` is not the allowed `127.0.0.1` origin.
      await other.goto(`${origin.replace('127.0.0.1', 'localhost')}/`);
      await other.waitForFunction(
        () => (globalThis as unknown as { document: { title: string } }).document.title === 'ready',
        undefined,
        { timeout: 30_000 },
      );
      const code = await other.evaluate(async (rpcUrl) => {
        const { createClient } = (globalThis as unknown as { sdk: typeof import('../src/index.js') }).sdk;
        return createClient({ node: rpcUrl, retry: { retries: 0 } })
          .node.head()
          .then(
            () => 'answered',
            (e: { code?: string }) => e.code,
          );
      }, node.rpcUrl);
      expect(code).toBe('SDK_NETWORK');
    } finally {
      await other.close();
    }
  }, 60_000);
});
