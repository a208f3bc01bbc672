import { AitbcError, bytesToBase64url, encodeAddress, hexToBytes } from '@aitbc/crypto';
import type { ServiceName } from './apiError.js';
import {
  type CoordinatorApi,
  type CoordinatorJobsApi,
  createCoordinatorApi,
  type LoginSession,
} from './coordinatorApi.js';
import { type CallOptions, createHttpTransport, type RetryPolicy } from './httpTransport.js';
import type { TxSigner } from './localSigner.js';
import { createNodeApi, type NodeApi } from './nodeApi.js';
import type { WebSocketConstructor } from './nodeSubscription.js';
import { createPoolApi, type PoolApi } from './poolApi.js';
import { assertReceiptTrusted, checkReceipt, type ReceiptTrust } from './receiptTrust.js';
import { type JobRun, type RunJobParams, runJob } from './runJob.js';
import { type VerifiedAccount, type VerifyAccountOptions, verifyAccountState } from './verifyAccountState.js';
import { createWalletApi, type WalletApi } from './walletApi.js';

/**
 * One service endpoint: a URL, or a URL with its own credentials.
 *
 * @example
 * ```ts
 * import { createClient, type ServiceEndpoint } from '@aitbc/sdk';
 * const wallet: ServiceEndpoint = { url: 'http://127.0.0.1:8002', token: session };
 * const client = createClient({ node: 'http://127.0.0.1:8006', wallet });
 * ```
 */
export type ServiceEndpoint = string | { readonly url: string; readonly apiKey?: string; readonly token?: string };

/**
 * Options of {@link createClient}. Every service is optional; using one that is not configured throws `SDK_BAD_CONFIG`.
 *
 * @example
 * ```ts
 * import { type ClientOptions, createClient } from '@aitbc/sdk';
 * import WebSocket from 'ws';
 * const options: ClientOptions = { node: 'http://127.0.0.1:8006', webSocket: WebSocket, timeoutMs: 10_000, retry: { retries: 5 } };
 * const client = createClient(options);
 * ```
 */
export interface ClientOptions {
  /** Node API, e.g. `http://127.0.0.1:8006`. */
  readonly node?: ServiceEndpoint;
  /** Coordinator API, e.g. `http://127.0.0.1:8000` (`apiKey` → `X-Api-Key`, `token` → bearer). */
  readonly coordinator?: ServiceEndpoint;
  /** Pool hub, e.g. `http://127.0.0.1:8018`. */
  readonly pool?: ServiceEndpoint;
  /** Wallet daemon, e.g. `{ url: 'http://127.0.0.1:8002', token }` (bearer token). */
  readonly wallet?: ServiceEndpoint;
  /** Default `X-Api-Key` for the coordinator and the pool hub. */
  readonly apiKey?: string;
  /** A fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
  /** WebSocket class for subscriptions (default: `globalThis.WebSocket`; in Node 20 pass `WebSocket` from `ws`). */
  readonly webSocket?: WebSocketConstructor;
  /** Per-attempt timeout (ms, default 30 000). */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Chain id for locally signed transactions (default: read from the head block). */
  readonly chainId?: string;
  /** The coordinator's chain address, named in escrow locks by `jobs.run`. */
  readonly coordinatorAddress?: string;
  /** Pinned keys receipts must verify under (`jobs.run`, `receipts.verify`). */
  readonly trust?: ReceiptTrust;
}

/**
 * The coordinator's job routes plus the high-level paid flow.
 *
 * @example
 * ```ts
 * const run = await client.jobs.run({ kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n, wallet: signer });
 * console.log(run.output, run.receipt.receipt_id, run.escrowTxId);
 * ```
 */
export interface ClientJobsApi extends CoordinatorJobsApi {
  /** Submit → lock escrow → wait → verify the receipt → the result; see {@link runJob}. */
  run(params: RunJobParams): Promise<JobRun>;
}

/**
 * The SDK client.
 *
 * @example
 * ```ts
 * import { createClient } from '@aitbc/sdk';
 * const client = createClient({ node: 'http://127.0.0.1:8006', coordinator: { url: 'http://127.0.0.1:8000', apiKey } });
 * const head = await client.node.head();
 * const job = await client.jobs.submit({ kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n });
 * ```
 */
export interface AitbcClient {
  readonly node: NodeApi;
  readonly coordinator: CoordinatorApi;
  /** Shorthand of `coordinator.jobs` plus `run`. */
  readonly jobs: ClientJobsApi;
  readonly pool: PoolApi;
  readonly wallet: WalletApi;
  /** Receipt checks against pinned keys (the client's `trust` unless given). */
  readonly receipts: {
    check(receipt: unknown, trust?: ReceiptTrust): ReturnType<typeof checkReceipt>;
    verify(receipt: unknown, trust?: ReceiptTrust): ReturnType<typeof assertReceiptTrusted>;
  };
  /** Light-client read of an account (proof against a header finalized by the pinned validators). */
  verifyAccount(address: string, options: VerifyAccountOptions): Promise<VerifiedAccount>;
  /**
   * Wallet login at the coordinator: challenge → sign (kind `login`, by a local signer or by the
   * wallet daemon with an unlocked session) → a bearer token this client uses from then on.
   */
  login(
    signer: TxSigner | { readonly walletId: string; readonly session: string },
    options?: CallOptions,
  ): Promise<LoginSession>;
}

function endpoint(e: ServiceEndpoint | undefined): { url: string; apiKey?: string; token?: string } | undefined {
  if (e === undefined) return undefined;
  return typeof e === 'string' ? { url: e } : e;
}

function unconfigured<T extends object>(service: ServiceName): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new AitbcError('SDK_BAD_CONFIG', `the ${service} URL is not configured`, { details: { service } });
    },
  });
}

/**
 * Creates the AITBC client: typed methods for every route of the node, coordinator, pool hub and
 * wallet daemon, with retries (exponential backoff, jitter, `Retry-After`), timeouts, `AbortSignal`,
 * idempotency keys, cursor iterators, WebSocket subscriptions that resume, verification helpers and
 * `jobs.run`. Browser-safe: only `fetch`, `WebSocket` and `@aitbc/*` browser-safe code.
 *
 * @example
 * ```ts
 * const client = createClient({ node: 'http://127.0.0.1:8006', coordinator: 'http://127.0.0.1:8000', apiKey });
 * const head = await client.node.head();
 * for await (const job of client.jobs.list()) console.log(job.job_id, job.state);
 * ```
 * @throws AitbcError `SDK_BAD_CONFIG` for a URL that is not absolute http(s).
 */
export function createClient(options: ClientOptions): AitbcClient {
  const common = {
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  };
  const nodeE = endpoint(options.node);
  const coordE = endpoint(options.coordinator);
  const poolE = endpoint(options.pool);
  const walletE = endpoint(options.wallet);

  const node =
    nodeE === undefined
      ? unconfigured<NodeApi>('node')
      : createNodeApi(createHttpTransport({ service: 'node', baseUrl: nodeE.url, ...common }), options.webSocket);

  let coordinatorToken = coordE?.token;
  const coordKey = coordE?.apiKey ?? options.apiKey;
  const coordinator =
    coordE === undefined
      ? unconfigured<CoordinatorApi>('coordinator')
      : createCoordinatorApi(
          createHttpTransport({
            service: 'coordinator',
            baseUrl: coordE.url,
            ...common,
            headers: () =>
              coordinatorToken !== undefined
                ? { authorization: `Bearer ${coordinatorToken}` }
                : coordKey !== undefined
                  ? { 'x-api-key': coordKey }
                  : {},
          }),
          (session) => {
            coordinatorToken = session.token;
          },
        );

  const poolKey = poolE?.apiKey ?? options.apiKey;
  const pool =
    poolE === undefined
      ? unconfigured<PoolApi>('pool')
      : createPoolApi(
          createHttpTransport({
            service: 'pool',
            baseUrl: poolE.url,
            ...common,
            ...(poolKey !== undefined ? { headers: { 'x-api-key': poolKey } } : {}),
          }),
        );

  const walletToken = walletE?.token;
  const wallet =
    walletE === undefined
      ? unconfigured<WalletApi>('wallet')
      : createWalletApi(
          createHttpTransport({
            service: 'wallet',
            baseUrl: walletE.url,
            ...common,
            ...(walletToken !== undefined ? { headers: { authorization: `Bearer ${walletToken}` } } : {}),
          }),
        );

  let chainId = options.chainId;
  const nonces = new Map<string, number>();
  const needTrust = (t: ReceiptTrust | undefined) => {
    const trust = t ?? options.trust;
    if (trust === undefined)
      throw new AitbcError('SDK_BAD_CONFIG', 'pin the coordinator keys (trust) to verify receipts');
    return trust;
  };

  const resolveChainId = async (call: CallOptions): Promise<string> => {
    if (chainId !== undefined) return chainId;
    const head = await node.head(call);
    if (head.height >= 1) chainId = (await node.block(head.height, call)).header.chainId;
    // A chain without blocks yet: the coordinator's login challenge names the chain it works for.
    // (any valid address will do: only `chain_id` of the answer is read).
    else if (coordE !== undefined)
      chainId = (await coordinator.challenge(encodeAddress(new Uint8Array(20)), call)).chain_id;
    else throw new AitbcError('SDK_BAD_CONFIG', 'the chain has no block yet: set chainId');
    return chainId;
  };

  const jobs: ClientJobsApi =
    coordE === undefined
      ? unconfigured<ClientJobsApi>('coordinator')
      : {
          ...coordinator.jobs,
          run: (params) =>
            runJob(
              {
                node,
                coordinator,
                wallet: walletE === undefined ? undefined : wallet,
                coordinatorAddress: options.coordinatorAddress,
                trust: options.trust,
                chainId: resolveChainId,
                async nextNonce(address, call) {
                  const onChain = (await node.account(address, call)).nonce;
                  const next = Math.max(onChain, nonces.get(address) ?? 0);
                  nonces.set(address, next + 1);
                  return next;
                },
                resetNonce: (address) => {
                  nonces.delete(address);
                },
              },
              params,
            ),
        };

  return {
    node,
    coordinator,
    jobs,
    pool,
    wallet,
    receipts: {
      check: (receipt, trust) => checkReceipt(receipt, needTrust(trust)),
      verify: (receipt, trust) => assertReceiptTrusted(receipt, needTrust(trust)),
    },
    verifyAccount: (address, o) => verifyAccountState(node, address, o),
    async login(signer, o) {
      if ('walletId' in signer) {
        const info = await wallet.get(signer.walletId, o);
        const c = await coordinator.challenge(info.address, o);
        const signed = await wallet.sign(
          signer.walletId,
          { session: signer.session, kind: 'login', chainId: c.chain_id, message: { ...c.message } },
          o,
        );
        const signature = bytesToBase64url(hexToBytes(signed.signature, 64));
        return coordinator.login({ address: info.address, nonce: c.nonce, publicKey: signed.publicKey, signature }, o);
      }
      const c = await coordinator.challenge(signer.address, o);
      const signature = await signer.signLogin(c.chain_id, { ...c.message });
      return coordinator.login({ address: signer.address, nonce: c.nonce, publicKey: signer.publicKey, signature }, o);
    },
  };
}
