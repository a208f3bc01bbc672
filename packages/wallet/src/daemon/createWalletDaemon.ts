import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { AitbcError, bytesToBase64url, isAitbcError, randomBytes } from '@aitbc/crypto';
import { ApiKeyRing, createService, hashApiKey, type ServiceLogLevel } from '@aitbc/service-kit';
import type { FastifyReply } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { DEFAULT_KDF, deriveKey, type KdfParams } from '../keystore.js';
import { handleWalletJsonRpc, walletJsonRpcParseError } from './handleWalletJsonRpc.js';
import { createKdfWorker, type KdfWorker } from './kdfWorker.js';
import { writeFileAtomic } from './keystoreDirectory.js';
import { UnlockThrottle, type UnlockThrottleOptions } from './unlockThrottle.js';
import type { WalletNode } from './walletNode.js';
import { WALLET_OPERATIONS, type WalletParams } from './walletOperations.js';
import { WalletVault } from './walletVault.js';

/**
 * Options of {@link createWalletDaemon}.
 *
 * @example
 * ```ts
 * import { createWalletDaemon, type WalletDaemonOptions } from '@aitbc/wallet/daemon';
 * const options: WalletDaemonOptions = { dataDir: './.aitbc/wallet', port: 8002, chainId: 'aitbc-devnet',
 *   sessionTtlSeconds: 120, unlockThrottle: { freeAttempts: 5 } };
 * const daemon = createWalletDaemon(options);
 * ```
 */
export interface WalletDaemonOptions {
  /** Data directory (0700): `api-token` (0600) and `keystores/` (0700, one 0600 file per wallet). */
  readonly dataDir: string;
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string;
  /** Port (default 8002; 0 picks a free one). */
  readonly port?: number;
  /** Chain access for balances and sends; without it the daemon creates, unlocks and signs only. */
  readonly node?: WalletNode;
  /** Chain id of transactions and the default for message signing (default `aitbc-devnet`). */
  readonly chainId?: string;
  /** Argon2id parameters of new files and of upgrades on unlock (default {@link DEFAULT_KDF}). */
  readonly kdf?: KdfParams;
  /** Run Argon2id on a worker thread (default true) so the event loop keeps answering during unlocks. */
  readonly kdfWorker?: boolean;
  /** Session lifetime when unlock names none (seconds, default 300). */
  readonly sessionTtlSeconds?: number;
  /** Longest session a caller may ask for (seconds, default 3 600). */
  readonly maxSessionTtlSeconds?: number;
  /** Open sessions per wallet (default 8; the oldest is closed beyond it). */
  readonly maxSessionsPerWallet?: number;
  /** Delays after wrong passphrases (defaults: 3 free, then 1 s doubling to 5 min). */
  readonly unlockThrottle?: UnlockThrottleOptions;
  /** Fee of sends that name none (default chain-core's `DEFAULT_PARAMS.minFee`). */
  readonly defaultFee?: bigint;
  /** Maximum request body in bytes (default 64 KiB). */
  readonly bodyLimit?: number;
  /** Maximum JSON-RPC batch (default 16). */
  readonly maxBatch?: number;
  /** Requests per client IP per minute (default 6 000). */
  readonly rateLimitPerMinute?: number;
  /** pino log level (default `info`), or `false`. */
  readonly logLevel?: ServiceLogLevel;
  /** Where log lines go (default stdout). */
  readonly logStream?: { write(line: string): void };
}

/**
 * A wallet daemon: `start()` binds and resolves the URL; `stop()` zeroes sessions and closes.
 *
 * @example
 * ```ts
 * import { createWalletDaemon, type WalletDaemon } from '@aitbc/wallet/daemon';
 * const daemon: WalletDaemon = createWalletDaemon({ dataDir, port: 0 });
 * const url = await daemon.start(); // 'http://127.0.0.1:<port>'
 * await daemon.stop(); // sessions zeroed, port released
 * ```
 */
export interface WalletDaemon {
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Path of the bearer-token file (0600), written on first start. */
  readonly tokenFile: string;
  /** The keystore directory. */
  readonly keystoreDir: string;
}

/**
 * Name of the bearer-token file in the data directory.
 *
 * @example
 * ```ts
 * import { join } from 'node:path';
 * import { TOKEN_FILE } from '@aitbc/wallet/daemon';
 * const token = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim(); // send as `Authorization: Bearer <token>`
 * ```
 */
export const TOKEN_FILE = 'api-token';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  WALLET_BAD_PARAMS: 400,
  WALLET_NOT_FOUND: 404,
  WALLET_EXISTS: 409,
  WALLET_IDEMPOTENCY_CONFLICT: 409,
  WALLET_WRONG_PASSPHRASE: 403,
  WALLET_UNLOCK_THROTTLED: 429,
  WALLET_LOCKED: 423,
  WALLET_BAD_SESSION: 403,
  WALLET_SESSION_EXPIRED: 403,
  WALLET_FORBIDDEN_KIND: 403,
  WALLET_NO_NODE: 503,
  WALLET_NODE_UNAVAILABLE: 502,
  WALLET_WAIT_TIMEOUT: 504,
  WALLET_KDF_FAILED: 500,
};

async function loadToken(dataDir: string, log: (msg: string) => void): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  try {
    const mode = (await stat(path)).mode & 0o777;
    if (mode !== 0o600) {
      await chmod(path, 0o600);
      log(`tightened ${TOKEN_FILE} from mode ${mode.toString(8)} to 600`);
    }
    const token = (await readFile(path, 'utf8')).trim();
    if (!/^[A-Za-z0-9_-]{32,256}$/.test(token))
      throw new AitbcError('WALLET_BAD_CONFIG', `${path} does not hold a token (32-256 base64url characters)`);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = bytesToBase64url(randomBytes(32));
  await writeFileAtomic(dataDir, TOKEN_FILE, `${token}\n`);
  return token;
}

/**
 * The wallet daemon (`aitbc-node start --role wallet`, default 127.0.0.1:8002): REST under
 * `/v1/wallets` and `/v1/receipts/verify`, JSON-RPC 2.0 at `POST /v1/rpc` (same operations,
 * {@link WALLET_OPERATIONS}), `GET /health` (public) and `GET /metrics`. Every route but health needs
 * `Authorization: Bearer <token>` with the token from `<dataDir>/api-token` (generated on first
 * start, mode 0600, compared in constant time).
 *
 * @example
 * ```ts
 * const daemon = createWalletDaemon({ dataDir: './.aitbc/wallet', port: 0 });
 * const url = await daemon.start();
 * const token = readFileSync(daemon.tokenFile, 'utf8').trim();
 * ```
 */
export function createWalletDaemon(options: WalletDaemonOptions): WalletDaemon {
  const dataDir = options.dataDir;
  const keystoreDir = join(dataDir, 'keystores');
  const tokenFile = join(dataDir, TOKEN_FILE);
  let worker: KdfWorker | undefined;
  let vault: WalletVault | undefined;
  let service: ReturnType<typeof createService> | undefined;

  return {
    tokenFile,
    keystoreDir,
    async start() {
      if (service !== undefined) throw new AitbcError('WALLET_BAD_STATE', 'the daemon is already started');
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      await chmod(dataDir, 0o700);
      let ring: ApiKeyRing | undefined;
      const svc = createService({
        errorPrefix: 'WALLET',
        statusByCode: STATUS_BY_CODE,
        authenticate: (request) => {
          const h = request.headers.authorization;
          const m = typeof h === 'string' ? /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(h) : null;
          return m === null ? undefined : ring?.principalOf(m[1]);
        },
        bodyLimit: options.bodyLimit ?? 64 * 1024,
        ...(options.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
        ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
        ...(options.logStream !== undefined ? { logStream: options.logStream } : {}),
      });
      const log = svc.app.log;
      const token = await loadToken(dataDir, (msg) => log.warn(msg));
      ring = new ApiKeyRing([{ hash: hashApiKey(token), role: 'owner' }]);
      worker = options.kdfWorker === false ? undefined : createKdfWorker();
      const v = new WalletVault({
        dir: keystoreDir,
        ...(options.node !== undefined ? { node: options.node } : {}),
        chainId: options.chainId ?? 'aitbc-devnet',
        kdf: options.kdf ?? DEFAULT_KDF,
        derive: worker?.derive ?? deriveKey,
        sessionTtlMs: {
          default: (options.sessionTtlSeconds ?? 300) * 1000,
          max: (options.maxSessionTtlSeconds ?? 3_600) * 1000,
        },
        maxSessionsPerWallet: options.maxSessionsPerWallet ?? 8,
        throttle: new UnlockThrottle(options.unlockThrottle),
        defaultFee: options.defaultFee ?? DEFAULT_PARAMS.minFee,
        log,
      });
      await v.open();
      vault = v;

      const calls = new Counter({
        name: 'wallet_operations_total',
        help: 'Wallet daemon operations by method and outcome (ok or error code)',
        labelNames: ['method', 'outcome'],
        registers: [svc.metrics],
      });
      new Gauge({
        name: 'wallet_wallets',
        help: 'Stored wallets',
        registers: [svc.metrics],
        collect() {
          this.set(v.list().length);
        },
      });
      new Gauge({
        name: 'wallet_unlocked_wallets',
        help: 'Wallets with an open session',
        registers: [svc.metrics],
        collect() {
          this.set(v.list().filter((w) => w.unlocked).length);
        },
      });
      const onCall = (method: string, outcome: string) => calls.inc({ method, outcome });
      const onError = (err: unknown) => log.error({ err }, 'unexpected error in a wallet operation');
      const owner = { roles: ['owner'] as const };

      const run = async (method: string, params: WalletParams, reply: FastifyReply) => {
        const op = WALLET_OPERATIONS.get(method)!;
        try {
          const out = await op.run(v, params);
          onCall(method, 'ok');
          return out;
        } catch (err) {
          if (isAitbcError(err)) {
            onCall(method, err.code);
            const retry = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
            if (typeof retry === 'number') void reply.header('retry-after', String(Math.ceil(retry / 1000)));
          } else onCall(method, 'WALLET_INTERNAL');
          throw err;
        }
      };
      const bodyOf = (b: unknown): Record<string, unknown> => {
        if (b === undefined || b === null) return {};
        if (typeof b !== 'object' || Array.isArray(b))
          throw new AitbcError('WALLET_BAD_PARAMS', 'the body must be a JSON object', { details: { param: 'body' } });
        return b as Record<string, unknown>;
      };
      const idOf = (p: unknown) => ({ id: (p as { id: string }).id });

      svc.routes((app) => {
        app.get('/health', { config: { roles: 'public' } }, async () => ({ status: 'ok' }));
        app.get('/metrics', { config: owner }, async (_req, reply) => {
          void reply.header('content-type', svc.metrics.contentType);
          return svc.metrics.metrics();
        });
        app.post('/v1/wallets', { config: owner }, async (req, reply) => {
          const out = await run('wallet.create', bodyOf(req.body), reply);
          return reply.code(201).send(out);
        });
        app.get('/v1/wallets', { config: owner }, async (_req, reply) => run('wallet.list', {}, reply));
        app.get('/v1/wallets/:id', { config: owner }, async (req, reply) => run('wallet.get', idOf(req.params), reply));
        for (const [path, method] of [
          ['unlock', 'wallet.unlock'],
          ['lock', 'wallet.lock'],
          ['sign', 'wallet.sign'],
        ] as const) {
          app.post(`/v1/wallets/:id/${path}`, { config: owner }, async (req, reply) =>
            run(method, { ...bodyOf(req.body), ...idOf(req.params) }, reply),
          );
        }
        app.post('/v1/wallets/:id/send', { config: owner }, async (req, reply) => {
          const key = req.headers['idempotency-key'];
          const params: Record<string, unknown> = { ...bodyOf(req.body), ...idOf(req.params) };
          if (key !== undefined) params.idempotencyKey = key;
          return run('wallet.send', params, reply);
        });
        app.post('/v1/receipts/verify', { config: owner }, async (req, reply) =>
          run('receipts.verify', bodyOf(req.body), reply),
        );
        // JSON-RPC parses its own body so that bad JSON is answered with -32700, not the REST envelope.
        void app.register(async (rpc) => {
          rpc.removeContentTypeParser('application/json');
          rpc.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
          rpc.post('/v1/rpc', { config: owner }, async (req, reply) => {
            let body: unknown;
            try {
              body = JSON.parse(req.body as string);
            } catch {
              return reply.send(walletJsonRpcParseError());
            }
            const res = await handleWalletJsonRpc(WALLET_OPERATIONS, v, body, {
              maxBatch: options.maxBatch ?? 16,
              onCall,
              onError,
            });
            return res === undefined ? reply.code(204).send() : reply.send(res);
          });
        });
      });
      service = svc;
      try {
        return await svc.listen(options.host, options.port ?? 8002);
      } catch (err) {
        await this.stop();
        throw err;
      }
    },
    async stop() {
      vault?.close();
      vault = undefined;
      const svc = service;
      service = undefined;
      if (svc !== undefined) await svc.close();
      await worker?.close();
      worker = undefined;
    },
  };
}
