/**
 * The CLI against real servers on 127.0.0.1 (port 0), in-process: a devnet of one (level database,
 * node API), the pool hub service, the coordinator service with its engine and settler.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, generateKeyPair, sha256, utf8ToBytes } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { createClient } from '@aitbc/sdk';
import { type CoordinatorServices, type DevnetOfOne, startCoordinatorServices, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { EXIT } from '../src/exitCodes.js';
import { cli, tempDir } from './cliHarness.js';

const tmp = tempDir('aitbc-cli-e2e-');
const clientKey = 'client-key-0123456789abcdef';
const adminKey = 'admin-key-0123456789abcdef';
const minerKey = 'miner-key-0123456789abcdef';
const minerKey2 = 'miner-key-2-0123456789abcdef';
const minerKey1 = 'miner-key-1-0123456789abcdef';
const miner = generateKeyPair();
const minerAddress = addressFromPublicKey(miner.publicKey);
const bob = addressFromPublicKey(generateKeyPair().publicKey);
const AIT = 10n ** 18n;

let node: DevnetOfOne;
let services: CoordinatorServices;
let hub: CoordinatorServices['hub'];
let engine: CoordinatorServices['engine'];
let stops: Array<() => Promise<void>> = [];
let env: Record<string, string>;
let transferId: string;
let faucetNonce = 0;

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: join(tmp.dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
  services = await startCoordinatorServices({
    dataDir: join(tmp.dir, 'services'),
    nodeRpcUrl: node.rpcUrl,
    chainId: node.chainId,
    coordinatorSeed: node.coordinator.seed,
    coordinatorId: 'cli-test-coordinator',
    coordinator: {
      port: 0,
      apiKeys: [
        { role: 'client', subject: node.faucet.address, hash: hashApiKey(clientKey) },
        { role: 'admin', hash: hashApiKey(adminKey) },
        { role: 'miner', subject: 'cli-miner', hash: hashApiKey(minerKey) },
        { role: 'miner', subject: 'cli-miner-2', hash: hashApiKey(minerKey2) },
        { role: 'miner', subject: 'miner-1', hash: hashApiKey(minerKey1) },
      ],
    },
    pool: { port: 0, apiKeys: [{ role: 'admin', hash: hashApiKey(adminKey) }] },
    settler: { intervalMs: 100 },
    logLevel: false,
  });
  ({ hub, engine } = services);
  await hub.registry.register({
    id: 'miner-1',
    address: minerAddress,
    publicKey: miner.publicKey,
    pricePerUnit: AIT / 100n,
    maxConcurrency: 1,
    capabilities: { gpus: [], cpuCores: 2, ramGb: 4, models: [], jobKinds: ['hash'], region: 'local' },
  });
  const { coordinatorUrl } = services;
  const poolUrl = services.poolUrl!;
  stops = [() => services.stop(), () => node.stop()];
  env = {
    AITBC_CONFIG: join(tmp.dir, 'config.json'),
    AITBC_NODE: node.rpcUrl,
    AITBC_COORDINATOR: coordinatorUrl,
    AITBC_POOL: poolUrl,
    AITBC_API_KEY: clientKey,
    AITBC_ADMIN_KEY: adminKey,
  };
  // A transfer from the demo account, so that blocks, a transaction and a funded account exist.
  const sdk = createClient({ node: node.rpcUrl });
  transferId = await sdk.node.sendTx(
    txToJson(
      signTx(
        {
          type: 'transfer',
          chainId: node.chainId,
          from: node.faucet.address,
          nonce: faucetNonce++,
          fee: DEFAULT_PARAMS.minFee,
          to: bob,
          amount: (3n * AIT) / 2n,
        },
        node.faucet.seed,
      ),
    ),
  );
  await until(async () => ((await sdk.node.balance(bob)) > 0n ? true : undefined));
}, 60_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  tmp.cleanup();
}, 30_000);

/** The in-process miner: takes the next job and completes it with a signed receipt. */
async function mineOne(output: unknown = { digest: 'd1g3st' }, price = AIT / 10n): Promise<string> {
  const a = await engine.poll('miner-1', { maxWaitMs: 5000 });
  if (a === null) throw new Error('no job came');
  const receipt = serializeReceipt(
    signReceipt(
      createReceipt({
        jobId: a.jobId,
        provider: minerAddress,
        client: node.faucet.address,
        units: 1n,
        unitType: 'job',
        unitPrice: price,
        startedAt: Date.now() - 5,
        completedAt: Date.now(),
        chainId: node.chainId,
      }),
      miner.seed,
    ),
  );
  await engine.complete('miner-1', a.jobId, output as never, receipt);
  return a.jobId;
}

const json = <T = Record<string, unknown>>(text: string) => JSON.parse(text) as T;
const submitArgs = ['client', 'submit', '--kind', 'hash', '--input', '{"data":"aGk"}', '--max-price', '1'];

describe('chain and wallet reads', () => {
  it('chain head: human and --json', async () => {
    const human = await cli(['chain', 'head'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^height +\d+\nhash +[0-9a-f]{64}\n/);
    const r = await cli(['chain', 'head', '--json'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r.stdout)).toMatchObject({ height: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('chain block 1, chain tx, and the block that holds the transfer lists it', async () => {
    const b1 = await cli(['chain', 'block', '1', '--json'], env);
    expect(b1.code).toBe(0);
    expect(json(b1.stdout)).toMatchObject({ height: 1, header: { chainId: node.chainId, height: 1 } });
    const tx = json<{ height: number; type: string; amount: string }>(
      (await cli(['chain', 'tx', transferId, '--json'], env)).stdout,
    );
    expect(tx).toMatchObject({ type: 'transfer', to: bob, amount: '1500000000000000000' });
    const human = await cli(['chain', 'block', String(tx.height)], env);
    expect(human.stdout).toContain(`height     ${tx.height}`);
    expect(human.stdout).toContain('transfer');
    expect(human.stdout).toContain('1.5 AIT');
  });

  it('wallet balance and chain account show AIT amounts; --json carries base units', async () => {
    const human = await cli(['wallet', 'balance', bob], env);
    expect(human.stdout).toBe(`address  ${bob}\nbalance  1.5 AIT\n`);
    expect(json((await cli(['wallet', 'balance', bob, '--json'], env)).stdout)).toEqual({
      address: bob,
      balance: '1500000000000000000',
      balance_ait: '1.5',
    });
    const account = json((await cli(['chain', 'account', bob, '--proof', '--json'], env)).stdout);
    expect(account).toMatchObject({
      address: bob,
      balance: '1500000000000000000',
      nonce: 0,
      proof: expect.any(Object),
    });
    expect((await cli(['chain', 'validators', '--json'], env)).code).toBe(0);
    expect(json<unknown[]>((await cli(['chain', 'validators', '--json'], env)).stdout)).toHaveLength(1);
    expect(json((await cli(['chain', 'sync', '--json'], env)).stdout)).toMatchObject({ syncing: false });
  });

  it('an unknown block or transaction: exit 3 and one line with the server code', async () => {
    const r = await cli(['chain', 'block', '999999'], env);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error RPC_NOT_FOUND: .*\(hint: .*\)\n$/);
    const t = await cli(['chain', 'tx', 'ab'.repeat(32), '--json'], env);
    expect(t.code).toBe(EXIT.notFound);
    expect(json(t.stderr)).toMatchObject({ error: { code: 'RPC_NOT_FOUND', exit_code: 3 } });
  });
});

describe('jobs through the coordinator', () => {
  it('client submit → status → (miner runs it, paid on chain) → status --wait → result → receipts → miner earnings', async () => {
    const sub = await cli([...submitArgs, '--json'], env);
    expect(sub.code).toBe(0);
    const job = json<{ job_id: string; state: string; max_price: string }>(sub.stdout);
    expect(job).toMatchObject({ state: 'QUEUED', max_price: String(AIT) });
    const human = await cli(['client', 'status', job.job_id], env);
    expect(human.stdout).toMatch(/state +QUEUED/);
    expect(human.stdout).toMatch(/maxPrice +1 AIT/);

    // the client locks the payment in escrow, the miner runs the job, the settler pays it
    const sdk = createClient({ node: node.rpcUrl });
    await sdk.node.sendTx(
      txToJson(
        signTx(
          {
            type: 'escrow.lock',
            chainId: node.chainId,
            from: node.faucet.address,
            nonce: faucetNonce++,
            fee: DEFAULT_PARAMS.minFee,
            jobId: job.job_id,
            amount: AIT,
            coordinator: node.coordinator.address,
            expiresAtHeight: 100_000,
          },
          node.faucet.seed,
        ),
      ),
    );
    await until(async () =>
      (await sdk.node.escrow(job.job_id).catch(() => undefined))?.status === 'locked' ? true : undefined,
    );
    const waited = cli(['client', 'status', job.job_id, '--wait', '--json'], env);
    expect(await mineOne({ digest: 'abc' }, AIT / 10n)).toBe(job.job_id);
    const done = await waited;
    expect(done.code).toBe(0);
    expect(json(done.stdout)).toMatchObject({ job_id: job.job_id, state: 'COMPLETED', miner_id: 'miner-1' });

    expect((await cli(['client', 'result', job.job_id], env)).stdout).toBe('{\n  "digest": "abc"\n}\n');
    expect(json((await cli(['client', 'result', job.job_id, '--json'], env)).stdout)).toMatchObject({
      job_id: job.job_id,
      output: { digest: 'abc' },
    });
    const receipts = json<Array<Record<string, unknown>>>(
      (await cli(['client', 'receipts', job.job_id, '--json'], env)).stdout,
    );
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ job_id: job.job_id, provider: minerAddress });

    await until(async () => ((await sdk.node.escrow(job.job_id)).status === 'settled' ? true : undefined), 20_000);
    const earned = json<{ total: string; jobs: { job_id: string }[] }>(
      (await cli(['miner', 'earnings', minerAddress, '--json'], env)).stdout,
    );
    expect(earned.total).toBe(String(AIT / 10n));
    expect(earned.jobs.map((j) => j.job_id)).toEqual([job.job_id]);
    expect((await cli(['miner', 'earnings', minerAddress], env)).stdout).toMatch(/earned +0\.1 AIT/);
  }, 40_000);

  it('client run: submit, wait, print the output', async () => {
    const run = cli(['client', 'run', '--kind', 'hash', '--input', '-', '--max-price', '0.5AIT'], env, {
      stdin: '{"data":"eW8"}',
    });
    await mineOne('plain text output');
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('plain text output\n');
    expect(r.stderr).toMatch(/^job \S+ submitted\n$/);
  });

  it('--timeout on a wait: exit 5; then client cancel; result of a canceled job is an API error', async () => {
    const id = json<{ job_id: string }>((await cli([...submitArgs, '--json'], env)).stdout).job_id;
    const r = await cli(['client', 'status', id, '--wait', '--timeout', '0.3'], env);
    expect(r.code).toBe(EXIT.timeout);
    expect(r.stderr).toMatch(/^error CLI_TIMEOUT: gave up after --timeout 0\.3s \(hint: raise --timeout/);
    const c = await cli(['client', 'cancel', id, '--json'], env);
    expect(c.code).toBe(0);
    expect(json(c.stdout)).toMatchObject({ state: 'CANCELED' });
    const res = await cli(['client', 'result', id], env);
    expect(res.code).toBe(EXIT.api);
    expect(res.stderr).toMatch(/^error COORD_NOT_COMPLETED: job is CANCELED/);
    const runFail = await cli(['client', 'result', id, '--wait'], env);
    expect(runFail.stderr).toMatch(/^error CLI_JOB_NOT_COMPLETED: job \S+ ended CANCELED/);
  });

  it('an unknown job id: exit 3 and one line with COORD_UNKNOWN_JOB', async () => {
    const r = await cli(['client', 'status', 'job_does_not_exist'], env);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^error COORD_UNKNOWN_JOB: no such job \(hint: check the id/);
  });

  it('a wrong API key: exit 4 with the server code', async () => {
    const r = await cli(['client', 'status', 'job_x', '--api-key', 'wrong-key-123'], env);
    expect(r.code).toBe(EXIT.auth);
    expect(r.stderr).toMatch(/^error COORD_UNAUTHORIZED: .*hint: set the right API key/);
    const admin = await cli(['admin', 'stats'], { ...env, AITBC_ADMIN_KEY: 'not-the-admin-key' });
    expect(admin.code).toBe(EXIT.auth);
  });

  it('a spinner only on a TTY stderr, never with --json', async () => {
    const id = json<{ job_id: string }>((await cli([...submitArgs, '--json'], env)).stdout).job_id;
    const tty = cli(['client', 'status', id, '--wait'], env, { stderrTTY: true });
    const jsonTty = cli(['client', 'status', id, '--wait', '--json'], env, { stderrTTY: true });
    const piped = cli(['client', 'status', id, '--wait'], env);
    await new Promise((r) => setTimeout(r, 300));
    await mineOne();
    const [a, b, c] = await Promise.all([tty, jsonTty, piped]);
    expect(a.stderr).toContain(`\r\x1b[K`);
    expect(a.stderr).toContain(`job ${id}:`);
    expect(b.stderr).toBe('');
    expect(c.stderr).toBe('');
    expect(a.stdout).toBe(c.stdout);
  });
});

describe('miner start (the SDK miner agent)', () => {
  it('registers, runs a client job with the hash runner, prints NDJSON events; --max-jobs ends it', async () => {
    const seedFile = join(tmp.dir, 'miner.key');
    writeFileSync(seedFile, `${bytesToHex(generateKeyPair().seed)}\n`, { mode: 0o600 });
    const minerArgs = [
      'miner',
      'start',
      '--miner-id',
      'cli-miner',
      '--key-file',
      seedFile,
      '--price',
      '1000base',
      '--kinds',
      'hash',
    ];
    const mining = cli([...minerArgs, '--max-jobs', '1', '--json'], { ...env, AITBC_API_KEY: minerKey });
    const run = await cli(
      ['client', 'run', '--kind', 'hash', '--input', '{"text":"hi"}', '--max-price', '1', '--json', '--timeout', '30'],
      env,
    );
    expect(run.code).toBe(0);
    expect(json<{ output: unknown }>(run.stdout).output).toEqual({
      digest: bytesToHex(sha256(utf8ToBytes('hi'))),
      iterations: 1,
    });
    const m = await mining;
    expect(m.code).toBe(0);
    expect(m.stderr).toBe('');
    const events = m.stdout
      .trim()
      .split('\n')
      .map((l) => json<{ event: string; price?: string }>(l));
    expect(events.map((e) => e.event)).toEqual(['started', 'completed']);
    expect(events[1]!.price).toBe('1000');
    // Ctrl-C: the agent drains and the command exits 130
    const ac = new AbortController();
    const again = cli(
      [
        'miner',
        'start',
        '--miner-id',
        'cli-miner-2',
        '--key-file',
        seedFile,
        '--price',
        '1000base',
        '--kinds',
        'hash',
        '--poll-wait',
        '1',
      ],
      { ...env, AITBC_API_KEY: minerKey2 },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 1500);
    const stopped = await again;
    expect(stopped.code).toBe(EXIT.interrupted);
    const bad = await cli(
      ['miner', 'start', '--miner-id', 'x', '--price', '1', '--key-file', join(tmp.dir, 'nope')],
      env,
    );
    expect(bad.code).toBe(EXIT.usage);
  }, 40_000);
});

describe('marketplace, admin, monitor', () => {
  it('admin stats, admin miners, miner status, marketplace offers and match', async () => {
    // miner-1 (registered in-process), cli-miner and cli-miner-2 (registered by `aitbc miner start`)
    expect(json((await cli(['admin', 'stats', '--json'], env)).stdout)).toMatchObject({ miners: 3 });
    const miners = json<Array<{ miner_id: string }>>((await cli(['admin', 'miners', '--json'], env)).stdout);
    expect(miners.map((m) => m.miner_id).sort()).toEqual(['cli-miner', 'cli-miner-2', 'miner-1']);
    expect((await cli(['miner', 'status', 'miner-1'], env)).stdout).toMatch(/miner +miner-1\n/);
    expect((await cli(['miner', 'status', 'nobody'], env)).code).toBe(EXIT.notFound);
    const offers = json<Array<{ miner_id: string; price_per_unit: string }>>(
      (await cli(['marketplace', 'miners', '--all', '--json'], env)).stdout,
    );
    expect(offers).toContainEqual(expect.objectContaining({ miner_id: 'miner-1', price_per_unit: String(AIT / 100n) }));
    expect(offers).toContainEqual(expect.objectContaining({ miner_id: 'cli-miner', price_per_unit: '1000' }));
    hub.registry.heartbeat('miner-1', { activeJobs: 0, utilization: 0 });
    const match = json<{ candidates: { miner_id: string }[] }>(
      (await cli(['marketplace', 'match', '--kind', 'hash', '--json'], env)).stdout,
    );
    expect(match.candidates.map((c) => c.miner_id)).toContain('miner-1');
    const none = await cli(['marketplace', 'match', '--kind', 'wasm'], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^no miner matches/);
  });

  it('marketplace offers and bids at the coordinator: list, place, show, submit under a bid, cancel; admin jobs lists them', async () => {
    hub.registry.heartbeat('miner-1', { activeJobs: 0, utilization: 0 });
    const minerSdk = createClient({ coordinator: { url: env.AITBC_COORDINATOR!, apiKey: minerKey1 } });
    const { offer } = await minerSdk.coordinator.market.placeOffer({
      jobKinds: ['hash'],
      pricePerUnit: AIT / 100n,
      slots: 2,
    });
    const offers = json<Array<{ offer_id: string; miner_id: string; available: number }>>(
      (await cli(['marketplace', 'offers', '--kind', 'hash', '--json'], env)).stdout,
    );
    expect(offers).toContainEqual(
      expect.objectContaining({ offer_id: offer.offer_id, miner_id: 'miner-1', available: 2 }),
    );
    expect((await cli(['marketplace', 'offers', '--kind', 'wasm'], env)).stdout).toBe('(none)\n');
    expect((await cli(['marketplace', 'offers', '--kind', 'hash'], env)).stdout).toMatch(
      new RegExp(`${offer.offer_id} +miner-1 +0\\.01 AIT +2/2 +hash`),
    );

    const placed = await cli(
      ['marketplace', 'bids', 'place', '--kind', 'hash', '--max-price-per-unit', '0.02', '--quantity', '3', '--json'],
      env,
    );
    expect(placed.code).toBe(0);
    const { bid, matches } = json<{
      bid: { bid_id: string; state: string };
      matches: { offer_id: string; price_per_unit: string }[];
    }>(placed.stdout);
    expect(matches).toEqual([
      expect.objectContaining({ offer_id: offer.offer_id, price_per_unit: String(AIT / 100n) }),
    ]);
    const listed = json<Array<{ bid_id: string; filled: number }>>(
      (await cli(['marketplace', 'bids', '--kind', 'hash', '--json'], env)).stdout,
    );
    // two of the three units matched the offer's two slots: the bid stays open for the third
    expect(listed).toContainEqual(expect.objectContaining({ bid_id: bid.bid_id, filled: 2 }));
    const shown = await cli(['marketplace', 'bids', 'show', bid.bid_id], env);
    expect(shown.stdout).toMatch(
      new RegExp(`^bid +${bid.bid_id}\n[\\s\\S]*\nmatch +\\S+ miner-1 at 0\\.01 AIT × 2\n$`),
    );

    const submitted = json<{ job_id: string; market: { bid_id: string; miner_id: string } }>(
      (
        await cli(
          [
            'client',
            'submit',
            '-k',
            'hash',
            '-i',
            '{"data":"aGk"}',
            '--max-price',
            '0.1',
            '--bid',
            bid.bid_id,
            '--json',
          ],
          env,
        )
      ).stdout,
    );
    expect(submitted.market).toMatchObject({ bid_id: bid.bid_id, miner_id: 'miner-1' });
    expect((await cli(['client', 'cancel', submitted.job_id], env)).code).toBe(0);

    const canceled = json<{ state: string }>(
      (await cli(['marketplace', 'bids', 'cancel', bid.bid_id, '--json'], env)).stdout,
    );
    expect(canceled.state).toBe('canceled');
    const again = await cli(['marketplace', 'bids', 'cancel', bid.bid_id], env);
    expect(again.code).toBe(EXIT.api);
    expect(again.stderr).toMatch(/^error COORD_MARKET_/);
    const unknown = await cli(['marketplace', 'bids', 'show', 'bid_00000000000000000000000000000000'], env);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.stderr).toMatch(/^error COORD_MARKET_UNKNOWN_BID/);
    const noKind = await cli(['marketplace', 'bids', 'place', '--max-price-per-unit', '1'], env);
    expect(noKind.code).toBe(EXIT.usage);
    expect(noKind.stderr).toMatch(/needs --kind and --max-price-per-unit/);
    expect((await cli(['marketplace', 'bids', 'cancel'], env)).code).toBe(EXIT.usage);
    expect((await cli(['marketplace', 'bids', 'list', bid.bid_id], env)).code).toBe(EXIT.usage);
    expect((await cli(['marketplace', 'bids', 'burn'], env)).code).toBe(EXIT.usage);
    await minerSdk.coordinator.market.withdrawOffer(offer.offer_id);

    // admin jobs: every client's jobs, by state (the job canceled above is among them)
    const canceledJobs = json<Array<{ job_id: string; state: string }>>(
      (await cli(['admin', 'jobs', '--state', 'CANCELED', '--json'], env)).stdout,
    );
    expect(canceledJobs).toContainEqual(expect.objectContaining({ job_id: submitted.job_id, state: 'CANCELED' }));
    expect(canceledJobs.every((j) => j.state === 'CANCELED')).toBe(true);
    expect((await cli(['admin', 'jobs'], env)).stdout).toContain(submitted.job_id);
    expect((await cli(['admin', 'jobs', '--state', 'DONE'], env)).code).toBe(EXIT.usage);
  });

  it('monitor blocks --from 1 -n 2 --json prints NDJSON; Ctrl-C (abort) exits 130', async () => {
    const r = await cli(['monitor', 'blocks', '--from', '1', '-n', '2', '--json'], env);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => json<{ height: number }>(l).height),
    ).toEqual([1, 2]);
    const ac = new AbortController();
    const live = cli(['monitor', 'blocks'], env, { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const stopped = await live;
    expect(stopped.code).toBe(EXIT.interrupted);
    expect(stopped.stderr).toBe('error CLI_INTERRUPTED: interrupted\n');
  });

  it('monitor metrics and monitor jobs', async () => {
    const m = json<{ metrics: { name: string; value: string }[] }>(
      (await cli(['monitor', 'metrics', '--service', 'coordinator', '--filter', 'coordinator_jobs', '--json'], env))
        .stdout,
    );
    expect(m.metrics.find((x) => x.name === 'coordinator_jobs_submitted_total')?.value).toMatch(/^[1-9]\d*$/);
    const jobs = await cli(['monitor', 'jobs', '-n', '2', '--json'], env);
    expect(jobs.code).toBe(0);
    expect(
      jobs.stdout
        .trim()
        .split('\n')
        .map((l) => json<{ job_id: string }>(l).job_id),
    ).toHaveLength(2);
  });

  it('a server that is down: exit 6 and a clear one-line error naming the URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await cli(['chain', 'head'], { ...env, AITBC_NODE: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(EXIT.unreachable);
    expect(r.stderr).toBe(
      `error SDK_NETWORK: cannot reach the node at http://127.0.0.1:${port} (ECONNREFUSED) (hint: is the server running? check the URLs with \`aitbc config get\`)\n`,
    );
  });
});
