import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { createClient, createLocalSigner } from '@aitbc/sdk';
import { createHashRunner, createMinerAgent, type JobRunner, type MinerAgent } from '@aitbc/sdk/miner';
import { MIN_KDF } from '@aitbc/wallet';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import {
  createWalletNodeGateway,
  createWebServer,
  type DevnetOfOne,
  startCoordinatorServices,
  startDevnetOfOne,
  type WebServer,
} from 'aitbc-node';
import { until } from '../../../test-support/until.ts';

/** The miner's price per unit of work: 0.01 AIT. */
export const MINER_PRICE = 10n ** 16n;

/** What the faucet sends the wallet-daemon wallet at set-up: 10 AIT. */
export const WALLET_FUNDS = 10n * 10n ** 18n;

/** A real devnet for the browser tests; see {@link startWebRig}. */
export interface WebRig {
  readonly node: DevnetOfOne;
  /** The web server (built apps + same-origin proxy), e.g. `http://127.0.0.1:41234`. */
  readonly webUrl: string;
  readonly coordinatorUrl: string;
  /** The faucet seed as hex, what a person pastes into the marketplace's browser-key form. */
  readonly faucetSeedHex: string;
  readonly minerAddress: string;
  /** A wallet-daemon wallet funded with {@link WALLET_FUNDS}: the daemon's token, the wallet id and passphrase. */
  readonly wallet: { readonly token: string; readonly id: string; readonly passphrase: string };
  /** A web server whose node and coordinator are a closed port (the "node unreachable" case). */
  readonly deadWebUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts, on 127.0.0.1 with free ports: a devnet of one (LevelDB in a temp dir, 100 ms blocks), the
 * coordinator with its marketplace, job engine and settler (paying on chain), a miner agent from
 * `@aitbc/sdk/miner` with an open offer, the wallet daemon with a funded wallet, and the reference
 * node's web server over `dist/`.
 */
export async function startWebRig(distDir: string): Promise<WebRig> {
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-web-e2e-'));
  const stack: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const fn of stack.splice(0).reverse()) await fn();
  };
  try {
    const node = await startDevnetOfOne({ dataDir: join(dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
    stack.push(() => node.stop());
    const minerKey = 'web-e2e-miner-key';
    const services = await startCoordinatorServices({
      dataDir: join(dir, 'services'),
      nodeRpcUrl: node.rpcUrl,
      chainId: node.chainId,
      coordinatorSeed: node.coordinator.seed,
      coordinatorId: 'coord-web',
      coordinator: { port: 0, apiKeys: [{ role: 'miner', subject: 'web-miner', hash: hashApiKey(minerKey) }] },
      settler: { intervalMs: 200 },
      logLevel: false,
    });
    stack.push(() => services.stop());
    const { coordinatorUrl } = services;

    // The miner works a job only once its escrow is locked on chain: the settler gives up on a
    // job completed before its escrow exists (a real miner checks it is paid, too).
    const chain = createClient({ node: node.rpcUrl }).node;
    const hash = createHashRunner();
    const paidHash: JobRunner = {
      kind: 'hash',
      async run(job, context) {
        await until(
          async () => ((await chain.escrow(job.jobId).catch(() => undefined))?.status === 'locked' ? true : undefined),
          30_000,
        );
        return hash.run(job, context);
      },
    };
    const minerKeys = generateKeyPair();
    const agent: MinerAgent = createMinerAgent({
      coordinatorUrl,
      apiKey: minerKey,
      minerId: 'web-miner',
      seed: minerKeys.seed,
      chainId: node.chainId,
      coordinatorId: 'coord-web',
      runners: [paidHash],
      pricePerUnit: MINER_PRICE,
      heartbeatMs: 1_000,
      pollWaitSeconds: 1,
      probe: { nvidiaSmiPath: false },
      capabilities: { region: 'local' },
    });
    await agent.start();
    stack.push(() => agent.stop({ drainTimeoutMs: 0 }));
    await createClient({ coordinator: coordinatorUrl, apiKey: minerKey }).coordinator.market.placeOffer({
      jobKinds: ['hash'],
      pricePerUnit: MINER_PRICE,
      slots: 4,
    });

    // The wallet daemon over the same node, with one wallet funded by the faucet.
    const daemon = createWalletDaemon({
      dataDir: join(dir, 'wallet'),
      port: 0,
      kdf: MIN_KDF,
      node: createWalletNodeGateway(createNodeClient({ baseUrl: node.rpcUrl })),
      chainId: node.chainId,
      logLevel: false,
    });
    const walletUrl = await daemon.start();
    stack.push(() => daemon.stop());
    const walletToken = readFileSync(daemon.tokenFile, 'utf8').trim();
    const passphrase = 'web e2e passphrase';
    const { wallet } = await createClient({ wallet: { url: walletUrl, token: walletToken } }).wallet.create({
      passphrase,
    });
    const faucet = createLocalSigner(node.faucet.seed);
    const fundTx = await chain.sendTx(
      await faucet.signTx({
        type: 'transfer',
        chainId: node.chainId,
        from: faucet.address,
        nonce: (await chain.account(faucet.address)).nonce,
        fee: DEFAULT_PARAMS.minFee,
        to: wallet.address,
        amount: WALLET_FUNDS,
      }),
    );
    await until(async () =>
      (await chain.tx(fundTx).catch(() => undefined))?.status === 'committed' ? true : undefined,
    );

    // Pinned from the node at set-up (the rig plays the operator who pins the genesis validators).
    const validators = await chain.validators();
    const config = {
      chainId: node.chainId,
      coordinatorPublicKey: bytesToHex(publicKeyFromSeed(node.coordinator.seed)),
      coordinatorAddress: node.coordinator.address,
      validators,
    };
    const web: WebServer = createWebServer({
      root: distDir,
      port: 0,
      upstreams: { node: node.rpcUrl, coordinator: coordinatorUrl, wallet: walletUrl },
      config,
    });
    const webUrl = await web.start();
    stack.push(() => web.stop());
    // A closed port: bind, note it, close.
    const probe = createWebServer({ root: distDir, port: 0, upstreams: {} });
    const closed = await probe.start();
    await probe.stop();
    const dead = createWebServer({ root: distDir, port: 0, upstreams: { node: closed, coordinator: closed }, config });
    const deadWebUrl = await dead.start();
    stack.push(() => dead.stop());
    return {
      node,
      webUrl,
      coordinatorUrl,
      faucetSeedHex: bytesToHex(node.faucet.seed),
      minerAddress: agent.address,
      wallet: { token: walletToken, id: wallet.id, passphrase },
      deadWebUrl,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
