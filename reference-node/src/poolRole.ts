import { join } from 'node:path';
import { createPoolHub, createPoolHubServer } from '@aitbc/pool';
import { LevelKVStore } from '@aitbc/storage-level';
import { apiKeyEntries } from './apiKeys.js';
import type { NodeConfig } from './nodeConfig.js';
import { createNodeLog, type NodeLog } from './nodeLog.js';

/** The roles a pool hub API key may have. */
export const POOL_KEY_ROLES: readonly string[] = Object.freeze(['admin', 'coordinator', 'miner', 'client']);

/** A running pool hub; see {@link startPoolRole}. */
export interface RunningPool {
  readonly url: string;
  /** Stops the server, then closes the hub's database. */
  stop(): Promise<void>;
}

/**
 * `aitbc-node start` with `role: pool`: the `@aitbc/pool` hub server on `pool.host:pool.port` (default
 * 127.0.0.1:8018) with its level database in `<dataDir>/pool` and the API keys of `pool.apiKeysFile`.
 */
export async function startPoolRole(
  config: NodeConfig,
  log: NodeLog = createNodeLog(config.name, config.log.level),
): Promise<RunningPool> {
  const apiKeys = apiKeyEntries(config.pool.apiKeysFile as string, POOL_KEY_ROLES);
  const store = await LevelKVStore.open({ path: join(config.dataDir, 'pool') });
  try {
    const hub = createPoolHub({ store });
    await hub.open();
    const server = createPoolHubServer({
      hub,
      host: config.pool.host,
      port: config.pool.port,
      apiKeys,
      logLevel: config.log.level === 'silent' ? false : config.log.level,
    });
    const { url } = await server.start();
    log.info(`pool hub ${url} (${apiKeys.length} API keys, data in ${join(config.dataDir, 'pool')})`);
    return {
      url,
      async stop() {
        await server.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
