import type { CommandSpec, GroupSpec } from './commandSpec.js';
import { ADMIN_COMMANDS } from './commands/adminCommands.js';
import { CHAIN_COMMANDS } from './commands/chainCommands.js';
import { CLIENT_COMMANDS } from './commands/clientCommands.js';
import { CONFIG_COMMANDS } from './commands/configCommands.js';
import { MARKETPLACE_COMMANDS } from './commands/marketplaceCommands.js';
import { MINER_COMMANDS } from './commands/minerCommands.js';
import { MONITOR_COMMANDS } from './commands/monitorCommands.js';
import { topCommands } from './commands/topCommands.js';
import { WALLET_COMMANDS } from './commands/walletCommands.js';

/**
 * The command groups, in help order.
 *
 * @example
 * ```ts
 * import { GROUPS } from '@aitbc/cli';
 * for (const g of GROUPS) console.log(`${g.name.padEnd(12)} ${g.summary}`);
 * ```
 */
export const GROUPS: readonly GroupSpec[] = [
  { name: 'client', summary: 'submit compute jobs and collect results and receipts (coordinator)' },
  { name: 'miner', summary: 'run a miner, check its status and earnings' },
  { name: 'wallet', summary: 'keys in the wallet daemon, balances, transfers' },
  { name: 'chain', summary: 'read the chain: head, blocks, transactions, accounts, validators' },
  { name: 'marketplace', summary: 'offers and bids (coordinator), registered miners and matching (pool hub)' },
  { name: 'admin', summary: 'operator views (admin key)' },
  { name: 'config', summary: 'profiles of URLs and API keys' },
  { name: 'monitor', summary: 'live blocks, jobs and metrics' },
];

/**
 * The one declarative command table: parsing, help, completion and the README reference come from it.
 *
 * @example
 * ```ts
 * import { COMMANDS, commandPath } from '@aitbc/cli';
 * const waiting = COMMANDS.filter((c) => c.status === 'waiting').map(commandPath);
 * ```
 */
export const COMMANDS: readonly CommandSpec[] = [
  ...CLIENT_COMMANDS,
  ...MINER_COMMANDS,
  ...WALLET_COMMANDS,
  ...CHAIN_COMMANDS,
  ...MARKETPLACE_COMMANDS,
  ...ADMIN_COMMANDS,
  ...CONFIG_COMMANDS,
  ...MONITOR_COMMANDS,
  ...topCommands(GROUPS),
];
