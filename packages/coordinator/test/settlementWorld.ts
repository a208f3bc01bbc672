/**
 * The settlement tests' world: a one-validator chain in process (blocks produced on demand), a
 * mempool behind a {@link SettlementGateway} whose calls can be made to fail (the node down) and whose
 * mempool can be lost (the node restarted), a job engine with a registered miner, and settlers on
 * the engine's store.
 */
import {
  blockHash,
  createChain,
  createMempool,
  DEFAULT_PARAMS,
  type Genesis,
  type KVStore,
  MemoryKVStore,
  type Mempool,
  precommitSigningBody,
  SignatureCache,
  signTx,
  txIdHex,
  txToJson,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import { AitbcError, addressFromPublicKey, generateKeyPair, signMessage } from '@aitbc/crypto';
import { createPoolHub } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import {
  createReceiptHandler,
  JobEngine,
  type SettlementGateway,
  Settler,
  type SettlerOptions,
  type SettleTxSigner,
} from '../src/index.js';

export const CHAIN = 'aitbc-settle';
export const AIT = 10n ** 18n;

/** How a gateway method fails: an async rejection (the node client's way) or a synchronous throw. */
export type FaultMode = 'rejects' | 'throws';
export type GatewayMethod = keyof SettlementGateway;

export async function world(
  settlerOptions: Partial<Omit<SettlerOptions, 'engine' | 'store' | 'gateway' | 'sign' | 'chainId'>> = {},
  engineStore: KVStore = new MemoryKVStore(),
) {
  const validator = generateKeyPair();
  const client = generateKeyPair();
  const coordinator = generateKeyPair();
  const miner = generateKeyPair();
  const addr = (k: { publicKey: Uint8Array }) => addressFromPublicKey(k.publicKey);
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: [{ publicKey: validator.publicKey, power: 1, name: 'v' }],
    allocations: [
      { address: addr(client), amount: 100n * AIT },
      { address: addr(coordinator), amount: AIT },
    ],
    params: DEFAULT_PARAMS,
  };
  const cache = new SignatureCache();
  const chain = createChain({
    store: new MemoryKVStore(),
    genesis,
    consensus: createPoaConsensus(),
    signatureCache: cache,
  });
  await chain.open();
  const newMempool = (): Mempool =>
    createMempool({
      chainId: CHAIN,
      minFee: DEFAULT_PARAMS.minFee,
      account: (a) => chain.account(a),
      signatureCache: cache,
    });
  const node = { mempool: newMempool() };
  const produce = async () => {
    const height = chain.head.height + 1;
    const block = await chain.buildBlock({
      round: 0,
      timestamp: chain.head.timestamp + 1000,
      proposerSeed: validator.seed,
      lastCommit: height === 1 ? null : ((await chain.getCommit(height - 1)) ?? null),
      txs: await node.mempool.select(1000, 1e9),
    });
    const hash = blockHash(block.header);
    await chain.importBlock(block, {
      height,
      round: 0,
      blockHash: hash,
      signatures: [
        {
          validator: addr(validator),
          signature: signMessage('vote', CHAIN, precommitSigningBody(height, 0, hash), validator.seed),
        },
      ],
    });
    await node.mempool.revalidate();
  };
  /** The node "restarts": every pending transaction is lost. */
  const restartNode = () => {
    node.mempool = newMempool();
  };
  const pendingFrom = async (a: string) =>
    (await node.mempool.select(1000, 1e9)).filter((t) => t.body.from === a).length;
  /** Gateway methods made to fail (the node down), and how. */
  const faults = new Map<GatewayMethod, FaultMode>();
  /** Answers of `nextNonce` to give instead of the real one (a lagging node), first in first out. */
  const staleNonces: number[] = [];
  const fault = (method: GatewayMethod) => {
    const mode = faults.get(method);
    const error = new AitbcError('RPC_HTTP_ERROR', 'request to the node failed', { details: { path: method } });
    if (mode === 'throws') throw error;
    if (mode === 'rejects') return Promise.reject(error);
    return undefined;
  };
  const submitted: string[] = [];
  const gateway: SettlementGateway = {
    // chain nonce plus the sender's transactions still pending in the mempool
    nextNonce: (a) =>
      fault('nextNonce') ??
      (async () => staleNonces.shift() ?? (await chain.account(a)).nonce + (await pendingFrom(a)))(),
    submit: (json) =>
      fault('submit') ??
      (async () => {
        const r = await node.mempool.addJson(json);
        submitted.push(r.id);
        return r.id;
      })(),
    escrow: (jobId) => fault('escrow') ?? chain.escrow(jobId),
  };
  const sign: SettleTxSigner = (body, seed) => {
    const tx = signTx({ type: 'escrow.settle', ...body }, seed);
    return { id: txIdHex(tx), json: txToJson(tx) };
  };
  const hub = createPoolHub();
  const store = engineStore;
  const engine = new JobEngine({
    store,
    hub,
    receipts: createReceiptHandler({ chainId: CHAIN, coordinatorSeed: coordinator.seed }),
  });
  await engine.start();
  await hub.registry.register({
    id: 'm1',
    address: addr(miner),
    publicKey: miner.publicKey,
    pricePerUnit: 1n,
    maxConcurrency: 1,
    capabilities: { gpus: [], cpuCores: 1, ramGb: 1, models: [], jobKinds: ['hash'], region: 'x' },
  });
  /** A settler on the engine's store (or `on`). */
  const newSettler = (options: typeof settlerOptions = {}, on: KVStore = store) =>
    new Settler({
      engine,
      store: on,
      gateway,
      sign,
      chainId: CHAIN,
      coordinatorSeed: coordinator.seed,
      fee: DEFAULT_PARAMS.minFee,
      intervalMs: 3_600_000,
      ...settlerOptions,
      ...options,
    });
  const settler = newSettler();
  /** The miner takes the next job and completes it with a signed receipt for `price`. */
  const completeNext = async (price: bigint) => {
    const a = await engine.poll('m1', { maxWaitMs: 1000 });
    const receipt = serializeReceipt(
      signReceipt(
        createReceipt({
          jobId: a!.jobId,
          provider: addr(miner),
          client: addr(client),
          units: 1n,
          unitType: 'job',
          unitPrice: price,
          startedAt: 0,
          completedAt: 1000,
          chainId: CHAIN,
        }),
        miner.seed,
      ),
    );
    await engine.complete('m1', a!.jobId, { ok: true }, receipt);
    return a!.jobId;
  };
  /** The client locks `amount` for `jobId` on chain, naming the coordinator. */
  const lockEscrow = async (jobId: string, amount: bigint) =>
    node.mempool.add(
      signTx(
        {
          type: 'escrow.lock',
          chainId: CHAIN,
          from: addr(client),
          nonce: (await chain.account(addr(client))).nonce + (await pendingFrom(addr(client))),
          fee: DEFAULT_PARAMS.minFee,
          jobId,
          amount,
          coordinator: addr(coordinator),
          expiresAtHeight: 100,
        },
        client.seed,
      ),
    );
  return {
    lockEscrow,
    completeNext,
    chain,
    node,
    produce,
    restartNode,
    engine,
    settler,
    newSettler,
    client,
    coordinator,
    miner,
    addr,
    submitted,
    store,
    gateway,
    faults,
    staleNonces,
    sign,
    hub,
  };
}
