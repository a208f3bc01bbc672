import { type AitbcClient, createClient } from '@aitbc/sdk';

/** A validator pinned in `/config.json` (as the node lists it: public key in hex). */
export interface PinnedValidator {
  readonly address?: string;
  readonly publicKey: string;
  readonly power: number;
  readonly name: string;
}

/**
 * `/config.json` as the serving node writes it: same-origin paths of the proxied services and the
 * public values the apps pin (the coordinator key receipts must carry, the genesis validators).
 */
export interface AppConfig {
  readonly node: string;
  readonly coordinator?: string;
  readonly wallet?: string;
  readonly chainId?: string;
  /** The coordinator's Ed25519 public key, hex: receipts must carry its attestation. */
  readonly coordinatorPublicKey?: string;
  /** The coordinator's chain address, named in escrow locks. */
  readonly coordinatorAddress?: string;
  /** Validators pinned from genesis; without them the app trusts the node's list (said so on screen). */
  readonly validators?: readonly PinnedValidator[];
}

/** The loaded config and an SDK client over the same-origin service paths. */
export interface AppContext {
  readonly config: AppConfig;
  readonly client: AitbcClient;
  /**
   * A fresh client with this coordinator bearer token (none: a client to sign in with) and, for a
   * wallet-daemon wallet, the daemon's bearer token.
   */
  readonly withToken: (token?: string, walletToken?: string) => AitbcClient;
}

const TOKEN_KEY = 'aitbc.coordinatorToken';

/** The coordinator bearer token of this tab (set by the marketplace's sign-in), if any. */
export function sessionToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Stores (or, with `undefined`, forgets) the coordinator bearer token for this tab. */
export function setSessionToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** Reads `/config.json` and builds the SDK client; throws a plain `Error` with a user message when the server is unreachable. */
export async function loadAppContext(): Promise<AppContext> {
  let config: AppConfig;
  try {
    const res = await fetch('/config.json', { cache: 'no-cache' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    config = (await res.json()) as AppConfig;
  } catch (e) {
    throw new Error(`The server's /config.json could not be read (${e instanceof Error ? e.message : String(e)}).`);
  }
  const abs = (p: string) => new URL(p, location.origin).href;
  const build = (token?: string, walletToken?: string) =>
    createClient({
      node: abs(config.node),
      ...(config.coordinator !== undefined
        ? { coordinator: token !== undefined ? { url: abs(config.coordinator), token } : abs(config.coordinator) }
        : {}),
      ...(config.wallet !== undefined
        ? { wallet: walletToken !== undefined ? { url: abs(config.wallet), token: walletToken } : abs(config.wallet) }
        : {}),
      ...(config.chainId !== undefined ? { chainId: config.chainId } : {}),
      ...(config.coordinatorAddress !== undefined ? { coordinatorAddress: config.coordinatorAddress } : {}),
      ...(config.coordinatorPublicKey !== undefined
        ? { trust: { coordinatorKeys: [config.coordinatorPublicKey] } }
        : {}),
      timeoutMs: 15_000,
      retry: { retries: 1 },
    });
  const token = sessionToken();
  return { config, client: build(token), withToken: (t, w) => build(t, w) };
}
