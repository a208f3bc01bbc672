/**
 * The AITBC reference node: composition of the @aitbc packages.
 * @packageDocumentation
 */
export {
  type AdmissionControl,
  type AdmissionControlOptions,
  type AdmissionStatus,
  createAdmissionControl,
  fillsNonceGap,
} from './admissionControl.js';
export {
  API_KEY_ROLES,
  addApiKey,
  apiKeyEntries,
  readApiKeysFile,
  removeApiKey,
  type StoredApiKey,
} from './apiKeys.js';
export { type ChainBackend, type ChainBackendNetwork, createChainBackend } from './chainBackend.js';
export { type CliIo, EXIT_USAGE, runCli } from './cli.js';
export {
  type ConsensusPriority,
  type ConsensusPriorityOptions,
  createConsensusPriority,
} from './consensusPriority.js';
export {
  COORDINATOR_KEY_ROLES,
  type CoordinatorServices,
  type CoordinatorServicesOptions,
  startCoordinatorRole,
  startCoordinatorServices,
} from './coordinatorRole.js';
export { type Devnet, type DevnetOptions, startDevnet } from './devnet.js';
export { type DevnetOfOne, type DevnetOfOneOptions, startDevnetOfOne } from './devnetOfOne.js';
export { type DevnetServices, type DevnetServicesOptions, startDevnetServices } from './devnetServices.js';
export { type DevnetWeb, type DevnetWebOptions, startDevnetWeb } from './devnetWeb.js';
export {
  type InitializedNetwork,
  type InitializedNode,
  type InitNetworkOptions,
  initNetwork,
} from './initNetwork.js';
export {
  createLocalTxJournal,
  type LocalTx,
  type LocalTxJournal,
  type LocalTxJournalOptions,
  type LocalTxReplay,
} from './localTxJournal.js';
export { mempoolExchangePool } from './mempoolExchangePool.js';
export {
  type LoadNodeConfigOptions,
  loadNodeConfig,
  NODE_CONFIG_KEYS,
  NODE_ROLES,
  type NodeConfig,
  type NodeConfigKey,
  type NodeConfigProblem,
  type NodeLogLevel,
  type NodeRole,
} from './nodeConfig.js';
export { ensurePassphrase, PASSPHRASE_ENV, readKeystoreFile, readPassphrase, writeKeystoreFile } from './nodeKeys.js';
export { createNodeLog, type NodeLog } from './nodeLog.js';
export { NODE_MAIN, type NodeProcess, type SpawnNodeOptions, spawnNode, waitForHealth } from './nodeProcess.js';
export { POOL_KEY_ROLES, type RunningPool, startPoolRole } from './poolRole.js';
export { createNodeSettlementGateway, settleTxSigner } from './settlementGateway.js';
export {
  type RunningNode,
  type StartNodeModules,
  startNode,
  type ValidatorEngine,
  type ValidatorEngineDeps,
  type ValidatorEngineFactory,
} from './startNode.js';
export {
  createStorageHealth,
  probeStoreWrites,
  type ReopenableStore,
  type StorageHealth,
  type StorageHealthOptions,
} from './storageHealth.js';
export { createTxIntake, type TxIntake, type TxIntakeOptions } from './txIntake.js';
export { TxJournal, type TxJournalContents, type TxJournalOptions } from './txJournal.js';
export { createValidatorEngine } from './validatorEngine.js';
export { createWalletNodeGateway } from './walletNodeGateway.js';
export { type RunningWallet, startWalletRole } from './walletRole.js';
export { createWebServer, type WebServer, type WebServerOptions, type WebUpstreamName } from './webServer.js';
