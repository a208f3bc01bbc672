import { createNodeClient } from '@aitbc/rpc/client';
import { createWalletDaemon, type WalletDaemon } from '@aitbc/wallet/daemon';
import type { NodeConfig } from './nodeConfig.js';
import { createNodeLog, type NodeLog } from './nodeLog.js';
import { createWalletNodeGateway } from './walletNodeGateway.js';

/** A running wallet daemon; see {@link startWalletRole}. */
export interface RunningWallet {
  readonly url: string;
  /** The bearer-token file (0600) clients read. */
  readonly tokenFile: string;
  stop(): Promise<void>;
}

/**
 * `aitbc-node start` with `role: wallet`: the `@aitbc/wallet` daemon on `wallet.host:wallet.port`
 * (default 127.0.0.1:8002), keystores under `dataDir`, reaching the chain through the node API at
 * `wallet.nodeUrl`.
 */
export async function startWalletRole(
  config: NodeConfig,
  log: NodeLog = createNodeLog(config.name, config.log.level),
): Promise<RunningWallet> {
  const daemon: WalletDaemon = createWalletDaemon({
    dataDir: config.dataDir,
    host: config.wallet.host,
    port: config.wallet.port,
    chainId: config.wallet.chainId,
    node: createWalletNodeGateway(createNodeClient({ baseUrl: config.wallet.nodeUrl })),
    logLevel: config.log.level === 'silent' ? false : config.log.level,
  });
  const url = await daemon.start();
  log.info(`wallet daemon ${url} (token file ${daemon.tokenFile}) using the node API at ${config.wallet.nodeUrl}`);
  return { url, tokenFile: daemon.tokenFile, stop: () => daemon.stop() };
}
