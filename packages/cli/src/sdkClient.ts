import type { AitbcClient } from '@aitbc/sdk';
import type { CommandContext } from './commandSpec.js';

const clients = new WeakMap<CommandContext, Map<string, AitbcClient>>();

/**
 * The SDK client for one run, built from the resolved config: node, coordinator, pool hub and wallet
 * URLs with their credentials. `role: 'admin'` uses the admin key at the coordinator and the pool hub
 * (falling back to the API key); a pinned `coordinatorKey` gives `jobs.run` its trust and the coordinator's
 * escrow address. Construction does no I/O; a service is contacted when first used.
 * The SDK is loaded on first use, so `help`, `config` and `completion` start fast.
 */
export async function sdkClient(ctx: CommandContext, role: 'client' | 'admin' = 'client'): Promise<AitbcClient> {
  let byRole = clients.get(ctx);
  if (byRole === undefined) {
    byRole = new Map();
    clients.set(ctx, byRole);
  }
  const cached = byRole.get(role);
  if (cached !== undefined) return cached;
  const [{ createClient }, { WebSocket }, { addressFromPublicKey, hexToBytes }] = await Promise.all([
    import('@aitbc/sdk'),
    import('ws'),
    import('@aitbc/crypto'),
  ]);
  const v = ctx.config.values;
  const coordinatorKey = role === 'admin' ? (v.adminKey ?? v.apiKey) : v.apiKey;
  const poolKey = v.poolKey ?? v.adminKey ?? v.apiKey;
  const client = createClient({
    ...(v.node !== undefined ? { node: v.node } : {}),
    ...(v.coordinator !== undefined
      ? { coordinator: coordinatorKey === undefined ? v.coordinator : { url: v.coordinator, apiKey: coordinatorKey } }
      : {}),
    ...(v.pool !== undefined ? { pool: poolKey === undefined ? v.pool : { url: v.pool, apiKey: poolKey } } : {}),
    ...(v.wallet !== undefined
      ? { wallet: v.walletToken === undefined ? v.wallet : { url: v.wallet, token: v.walletToken } }
      : {}),
    ...(v.coordinatorKey !== undefined
      ? {
          coordinatorAddress: addressFromPublicKey(hexToBytes(v.coordinatorKey, 32)),
          trust: { coordinatorKeys: [v.coordinatorKey] },
        }
      : {}),
    ...(ctx.io.fetch !== undefined ? { fetch: ctx.io.fetch } : {}),
    webSocket: WebSocket,
    retry: { retries: 2, baseDelayMs: 100, maxDelayMs: 1000 },
  });
  byRole.set(role, client);
  return client;
}
