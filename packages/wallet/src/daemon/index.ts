/**
 * The wallet daemon (Node only): `@aitbc/wallet/daemon`.
 * @packageDocumentation
 */
export {
  createWalletDaemon,
  TOKEN_FILE,
  type WalletDaemon,
  type WalletDaemonOptions,
} from './createWalletDaemon.js';
export {
  handleWalletJsonRpc,
  WALLET_JSON_RPC_CODES,
  type WalletJsonRpcError,
  type WalletJsonRpcOptions,
  type WalletJsonRpcResponse,
  walletJsonRpcParseError,
} from './handleWalletJsonRpc.js';
export { createKdfWorker, type KdfWorker } from './kdfWorker.js';
export { KeystoreDirectory, writeFileAtomic } from './keystoreDirectory.js';
export { UnlockThrottle, type UnlockThrottleOptions } from './unlockThrottle.js';
export type { WalletAccount, WalletNode, WalletTxStatus } from './walletNode.js';
export {
  MAX_SIGN_MESSAGE_CHARS,
  WALLET_OPERATIONS,
  type WalletJson,
  type WalletOperation,
  type WalletParams,
} from './walletOperations.js';
export {
  MAX_IMPORT_KDF,
  type SendBody,
  type SendResult,
  type SessionGrant,
  type VaultLogger,
  type WalletInfo,
  WalletVault,
  type WalletVaultOptions,
} from './walletVault.js';
