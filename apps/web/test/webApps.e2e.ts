import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { createClient, createLocalSigner } from '@aitbc/sdk';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINER_PRICE, startWebRig, WALLET_FUNDS, type WebRig } from './webRig.ts';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let rig: WebRig;
let browser: Browser;
let context: BrowserContext;
/** Every request the pages made to another origin (must stay empty: no external network). */
const foreign: string[] = [];
/** Uncaught page errors and console errors. */
const pageErrors: string[] = [];

async function newPage(viewport = DESKTOP): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  rig = await startWebRig(DIST);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  context = await browser.newContext();
  const origins = new Set([new URL(rig.webUrl).origin, new URL(rig.deadWebUrl).origin]);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (origins.has(url.origin) || url.protocol === 'data:') return route.continue();
    foreign.push(url.href);
    return route.abort();
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await rig?.stop();
});

/** Sends a transfer from the faucet with the SDK (the chain grows while the page watches). */
async function transfer(to: string, amount: bigint): Promise<string> {
  const client = createClient({ node: rig.node.rpcUrl });
  const alice = createLocalSigner(rig.node.faucet.seed);
  const nonce = (await client.node.account(alice.address)).nonce;
  return client.node.sendTx(
    await alice.signTx({
      type: 'transfer',
      chainId: rig.node.chainId,
      from: alice.address,
      nonce,
      fee: DEFAULT_PARAMS.minFee,
      to,
      amount,
    }),
  );
}

const bob = addressFromPublicKey(generateKeyPair().publicKey);
const carol = addressFromPublicKey(generateKeyPair().publicKey);
let bobTx = '';

describe('explorer (real devnet, headless chromium)', () => {
  it('overview: head height, stats, recent blocks; a new block with our transfer appears live over the WebSocket', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/explorer/`);
    await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 20_000 }).toBe('live');
    const before = Number(await page.locator('#head-height').textContent());
    expect(before).toBeGreaterThanOrEqual(0);
    await expect.poll(() => page.locator('dt', { hasText: 'Validators' }).locator('+ dd').textContent()).toBe('1');
    bobTx = await transfer(bob, 5n * 10n ** 18n);
    // The block carrying the transfer arrives over /ws without a reload.
    const txCell = page.locator('table', { hasText: 'Recent transactions' }).locator(`a[href="#/tx/${bobTx}"]`);
    await txCell.waitFor({ timeout: 20_000 });
    expect(Number(await page.locator('#head-height').textContent())).toBeGreaterThan(before);
    await expect.poll(() => page.locator('#live').textContent()).toMatch(/^New block #\d+/);
    await shot(page, 'explorer-overview-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'explorer-overview-phone');
    await page.close();
  });

  it('follows links: block → tx → address; the balance proof is verified in the browser', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/explorer/#/tx/${bobTx}`);
    await page.getByRole('heading', { name: 'Transaction' }).waitFor();
    await expect.poll(() => page.locator('dd .badge').first().textContent()).toBe('committed');
    const blockHref = await page.locator('dt:text-is("Block") + dd a').getAttribute('href');
    await page.locator('dt:text-is("Block") + dd a').click();
    await page.getByRole('heading', { name: /^Block #\d+$/ }).waitFor();
    expect(page.url()).toContain(blockHref ?? 'none');
    // Its commit arrives in the next block (live, if this is the head): the page verifies it
    // against the pinned validators. Another transfer makes the devnet produce that block now.
    await page
      .locator('#finality')
      .filter({ hasText: /verified|Not final yet/ })
      .waitFor();
    await transfer(carol, 1n);
    await expect.poll(() => page.locator('#finality').textContent(), { timeout: 20_000 }).toMatch(/^verified: 1 of/);
    await expect.poll(() => page.locator('table', { hasText: 'Precommits' }).locator('tbody tr').count()).toBe(1);
    await shot(page, 'explorer-block-desktop');
    await page.locator(`a[href="#/tx/${bobTx}"]`).click();
    await page.getByRole('heading', { name: 'Transaction' }).waitFor();
    await page.locator(`dt:text-is("To") + dd a`).click();
    await page.getByRole('heading', { name: 'Address' }).waitFor();
    await expect.poll(() => page.locator('#balance').textContent()).toBe('5 AIT');
    await transfer(carol, 1n); // the block after the proven one carries the commit that finalizes it
    await expect
      .poll(() => page.locator('#proof-state').textContent(), { timeout: 30_000 })
      .toMatch(/^verified at block #\d+: 5 AIT, nonce 0$/);
    await expect.poll(() => page.locator(`table a[href="#/tx/${bobTx}"]`).count()).toBe(1);
    await page.setViewportSize(PHONE);
    await shot(page, 'explorer-address-phone');
    await page.close();
  });

  it('search box (keyboard only): height, tx id, address, unknown hash, nonsense', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/explorer/`);
    const search = page.getByLabel('Search the chain');
    const go = async (term: string) => {
      await search.fill(term);
      await search.press('Enter');
    };
    await go('1');
    await page.getByRole('heading', { name: 'Block #1' }).waitFor();
    await go(bobTx);
    await page.getByRole('heading', { name: 'Transaction' }).waitFor();
    await go(bob);
    await page.getByRole('heading', { name: 'Address' }).waitFor();
    await go(`0x${'ab'.repeat(32)}`);
    await page.getByRole('alert').filter({ hasText: 'Block not found' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('RPC_NOT_FOUND');
    await go('not-a-thing');
    await page.getByRole('alert').filter({ hasText: 'Nothing matches' }).waitFor();
    await page.goto(`${rig.webUrl}/explorer/#/tx/0x${'cd'.repeat(32)}`);
    await page.getByRole('alert').filter({ hasText: 'Transaction not found' }).waitFor();
    // Keyboard: the first Tab stop is the skip link; Enter on it moves focus to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.close();
  });

  it('validators page lists the pinned validator', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/explorer/#/validators`);
    const row = page.locator('tbody tr', { hasText: 'devnet-validator' });
    await row.waitFor();
    expect(await row.locator('td').last().textContent()).toBe('yes');
    await page.close();
  });

  it('node unreachable: the page says so (no mock data)', async () => {
    const page = await newPage();
    await page.goto(`${rig.deadWebUrl}/explorer/`);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/The chain could not be read.*unreachable/);
    expect(await page.locator('#head-height').count()).toBe(0);
    await shot(page, 'explorer-unreachable-desktop');
    await page.close();
  });
});

describe('marketplace (real coordinator, miner agent, settler)', () => {
  it('offers with filters, stats, and an empty filter result', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/marketplace/`);
    const row = page.locator('tbody tr', { hasText: 'web-miner' });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('0.01 AIT');
    await page.getByLabel('Job kind').fill('llm.generate');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('td.empty', { hasText: 'No open offers match.' }).waitFor();
    await page.getByLabel('Job kind').fill('hash');
    await page.getByLabel('Max price per unit (AIT)').fill('0.001');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('td.empty', { hasText: 'No open offers match.' }).waitFor();
    await page.getByLabel('Max price per unit (AIT)').fill('1');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row.waitFor();
    await shot(page, 'marketplace-offers-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'marketplace-offers-phone');
    await page.getByRole('link', { name: 'Stats' }).click();
    await page.getByRole('heading', { name: 'Market stats' }).waitFor();
    await expect.poll(() => page.locator('dt:text-is("Open offers") + dd').textContent()).toBe('1');
    await page.close();
  });

  it('signs in with a browser key, places a bid, submits a paid job and watches it settle; the explorer verifies the receipt', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/marketplace/#/submit`);
    await page.getByRole('heading', { name: 'Sign in first' }).waitFor();
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Private key seed (64 hex characters)').fill('zz');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'The seed must be 64 hex characters.' }).waitFor();
    await page.getByLabel('Private key seed (64 hex characters)').fill(rig.faucetSeedHex);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Signed in' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#wallet-balance').textContent()).toMatch(/AIT$/);

    await page.getByRole('link', { name: 'Place bid' }).click();
    await page.getByLabel('Max price per unit (AIT)').fill('0.02');
    await page.getByRole('button', { name: 'Place bid' }).click();
    await page.getByRole('heading', { name: 'Bid placed' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('dt:text-is("Matches") + dd').textContent()).toContain('web-miner at 0.01 AIT');
    // A bid under every offer's price stays open, unmatched.
    await page.getByLabel('Max price per unit (AIT)').fill('0.001');
    await page.getByRole('button', { name: 'Place bid' }).click();
    await page.locator('dt:text-is("Matches") + dd', { hasText: 'none yet' }).waitFor({ timeout: 20_000 });

    await page.getByRole('link', { name: 'Submit job', exact: true }).click();
    await page.getByLabel('Max price (AIT, locked in escrow)').fill('not money');
    await page.getByRole('button', { name: 'Submit and pay' }).click();
    await page.getByRole('alert').filter({ hasText: 'positive amount' }).waitFor();
    await page.getByLabel('Max price (AIT, locked in escrow)').fill('0.5');
    await page.getByRole('button', { name: 'Submit and pay' }).click();
    const progress = page.locator('#progress');
    await progress.locator('li', { hasText: 'Escrow locked and final' }).waitFor({ timeout: 60_000 });
    await progress.locator('li', { hasText: 'Receipt verified' }).waitFor({ timeout: 60_000 });
    await expect
      .poll(() => page.locator('#settlement').textContent(), { timeout: 60_000 })
      .toMatch(new RegExp(`^settled: ${Number(MINER_PRICE) / 1e18} AIT paid to `));
    expect(await page.locator('pre').textContent()).toContain('digest');
    await shot(page, 'marketplace-job-settled-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'marketplace-job-settled-phone');
    await page.setViewportSize(DESKTOP);

    // Follow the job to the explorer (same tab: the session's token comes along).
    await page.locator('dt:text-is("Job") + dd a').click();
    await page.getByRole('heading', { name: 'Job' }).waitFor();
    await expect.poll(() => page.locator('#escrow-status').textContent()).toBe('settled');
    await expect.poll(() => page.locator('.sig-miner').textContent(), { timeout: 20_000 }).toBe('verified');
    expect(await page.locator('.sig-coordinator').textContent()).toBe('verified');
    expect(await page.locator(`dt:text-is("Provider (miner)") + dd a`).getAttribute('title')).toBe(rig.minerAddress);
    await shot(page, 'explorer-job-receipt-desktop');
    const jobId = (await page.locator('dt:text-is("Job") + dd code').textContent()) ?? '';
    expect(jobId).toMatch(/^job_/);
    await page.goto(`${rig.webUrl}/explorer/#/validators`);
    await page.getByLabel('Search the chain').fill(jobId);
    await page.getByLabel('Search the chain').press('Enter');
    await page.locator('#escrow-status', { hasText: 'settled' }).waitFor();
    await page.getByRole('link', { name: 'Jobs & receipts' }).click();
    await expect.poll(() => page.locator('tbody tr', { hasText: 'COMPLETED' }).count()).toBe(1);
    await page.close();
  });

  it('signs in with a wallet-daemon wallet (a wrong passphrase is refused) and pays a job from it', async () => {
    const page = await newPage(PHONE);
    await page.goto(`${rig.webUrl}/marketplace/#/wallet`);
    await page.getByLabel('Daemon token').fill(rig.wallet.token);
    await page.getByLabel('Wallet id').fill(rig.wallet.id);
    await page.getByLabel('Passphrase').fill('wrong passphrase');
    await page.getByRole('button', { name: 'Unlock and sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'WALLET_WRONG_PASSPHRASE' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Passphrase').fill(rig.wallet.passphrase);
    await page.getByRole('button', { name: 'Unlock and sign in' }).click();
    await page.getByRole('heading', { name: 'Signed in' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#wallet-balance').textContent()).toBe(`${WALLET_FUNDS / 10n ** 18n} AIT`);
    await page.getByRole('link', { name: 'Submit job', exact: true }).click();
    await page.getByLabel('Max price (AIT, locked in escrow)').fill('0.5');
    await page.getByRole('button', { name: 'Submit and pay' }).click();
    await page.locator('#progress li', { hasText: 'Receipt verified' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('#settlement').textContent(), { timeout: 60_000 }).toMatch(/^settled: /);
    await shot(page, 'marketplace-wallet-daemon-job-phone');
    await page.close();
  });

  it('the bids page lists the open bid; loaded pages made no request to another origin and threw nothing', async () => {
    const page = await newPage();
    await page.goto(`${rig.webUrl}/marketplace/#/bids`);
    await page.locator('tbody tr', { hasText: '0.001 AIT' }).waitFor({ timeout: 20_000 });
    await shot(page, 'marketplace-bids-desktop');
    await page.close();
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
