import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bytesToHex } from '@aitbc/crypto';
import { createWebServer, type WebServer } from './webServer.js';

/** Options of {@link startDevnetWeb}. */
export interface DevnetWebOptions {
  /** Built apps (default `$AITBC_WEB_ROOT`, else `./apps/web/dist` — what `npm run build:web` writes). */
  readonly root?: string;
  /** Port (default 8080; 0 = any). */
  readonly port?: number;
  readonly nodeRpcUrl: string;
  readonly coordinatorUrl?: string;
  readonly walletUrl?: string;
  readonly chainId: string;
  /** The coordinator's public key (receipts must carry its attestation) and chain address. */
  readonly coordinatorPublicKey?: Uint8Array;
  readonly coordinatorAddress?: string;
  /** The genesis validators, pinned for the apps' light-client checks. */
  readonly validators: readonly {
    readonly publicKey: Uint8Array | string;
    readonly power: number;
    readonly name: string;
  }[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The devnet's web front when the apps are built; see {@link startDevnetWeb}. */
export interface DevnetWeb {
  readonly url: string;
  readonly root: string;
  stop(): Promise<void>;
}

/**
 * Starts the reference node's web server for a devnet: the built explorer and marketplace from
 * `root`, `/config.json` pinning the genesis validators and the coordinator key, and the same-origin
 * proxy to node 0, the coordinator and the wallet daemon. Resolves `undefined` when the apps are
 * not built (`root/index.html` missing), so the devnet runs without them.
 */
export async function startDevnetWeb(options: DevnetWebOptions): Promise<DevnetWeb | undefined> {
  const env = options.env ?? process.env;
  const root = resolve(options.root ?? env.AITBC_WEB_ROOT ?? join(process.cwd(), 'apps', 'web', 'dist'));
  if (!existsSync(join(root, 'index.html'))) return undefined;
  const web: WebServer = createWebServer({
    root,
    port: options.port ?? 8080,
    upstreams: {
      node: options.nodeRpcUrl,
      ...(options.coordinatorUrl !== undefined ? { coordinator: options.coordinatorUrl } : {}),
      ...(options.walletUrl !== undefined ? { wallet: options.walletUrl } : {}),
    },
    config: {
      chainId: options.chainId,
      ...(options.coordinatorPublicKey !== undefined
        ? { coordinatorPublicKey: bytesToHex(options.coordinatorPublicKey) }
        : {}),
      ...(options.coordinatorAddress !== undefined ? { coordinatorAddress: options.coordinatorAddress } : {}),
      validators: options.validators.map((v) => ({
        publicKey: typeof v.publicKey === 'string' ? v.publicKey : bytesToHex(v.publicKey),
        power: v.power,
        name: v.name,
      })),
    },
  });
  const url = await web.start();
  return { url, root, stop: () => web.stop() };
}
