/**
 * The `aitbc` command line, as a library: {@link runCli} runs it in-process against injected I/O;
 * the command table drives parsing, help, shell completion and the README's command reference.
 * @packageDocumentation
 */
export { AIT_DECIMALS, formatAmount, MAX_AMOUNT, parseAmount } from './amount.js';
export { type CapturedStream, type CliIo, type CliStream, captureStream } from './cliIo.js';
export {
  type ArgSpec,
  type CommandContext,
  type CommandExample,
  type CommandInput,
  type CommandSpec,
  commandPath,
  type GroupSpec,
  type OptionSpec,
} from './commandSpec.js';
export { COMMANDS, GROUPS } from './commandTable.js';
export {
  type CliConfig,
  CONFIG_KEYS,
  type ConfigFile,
  type ConfigKey,
  type ConfigKeySpec,
  type ConfigSource,
  configPath,
  maskSecret,
  type Profile,
  readConfigFile,
  resolveConfig,
  writeConfigFile,
} from './configStore.js';
export { EXIT, EXIT_CODE_TABLE, type ExitCodeRow, exitCodeOf } from './exitCodes.js';
export { type Column, createOutput, type Output } from './output.js';
export {
  GLOBAL_OPTIONS,
  type GlobalFlags,
  type ParsedCommandLine,
  parseCommandLine,
  usageLine,
} from './parseCommandLine.js';
export { renderCommandReference } from './renderCommandReference.js';
export { renderBashCompletion, renderZshCompletion } from './renderCompletion.js';
export { describeError, type ErrorReport, renderError, renderErrorJson } from './renderError.js';
export { cliVersion, helpText, runCli } from './runCli.js';
export type { Spinner } from './spinner.js';

/**
 * The command's name.
 *
 * @example
 * ```ts
 * import { COMMAND_NAME } from '@aitbc/cli';
 * const hint = `see ${COMMAND_NAME} help`; // 'see aitbc help'
 * ```
 */
export const COMMAND_NAME = 'aitbc';
