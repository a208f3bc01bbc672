import type { CliIo } from './cliIo.js';
import type { CliConfig } from './configStore.js';
import type { Output } from './output.js';

/**
 * One `--option` of a command (or a global option).
 *
 * @example
 * ```ts
 * import type { OptionSpec } from '@aitbc/cli';
 * const maxPrice: OptionSpec = { name: 'max-price', type: 'string', valueName: '<amount>', description: 'most to pay per job' };
 * ```
 */
export interface OptionSpec {
  /** Long name without dashes, e.g. `max-price`. */
  readonly name: string;
  /** One-letter alias, e.g. `n`. */
  readonly short?: string;
  /** `string` takes a value; `boolean` is a flag. */
  readonly type: 'string' | 'boolean';
  /** One line for help and completion. */
  readonly description: string;
  /** Placeholder shown in help, e.g. `<amount>`. */
  readonly valueName?: string;
  /** The option must be given. */
  readonly required?: boolean;
  /** The only accepted values (also offered by shell completion). */
  readonly choices?: readonly string[];
  /** Shell completion hint for the value. */
  readonly complete?: 'file';
}

/**
 * One positional argument of a command.
 *
 * @example
 * ```ts
 * import type { ArgSpec } from '@aitbc/cli';
 * const jobId: ArgSpec = { name: 'job-id', description: 'the job to show' };
 * ```
 */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  /** Default true. */
  readonly required?: boolean;
  /** Values offered by shell completion (and the only ones accepted). */
  readonly choices?: readonly string[];
}

/**
 * One example shown by `aitbc help <command>` and the README.
 *
 * @example
 * ```ts
 * import type { CommandExample } from '@aitbc/cli';
 * const example: CommandExample = { command: 'aitbc chain block 1', description: 'the first block after genesis' };
 * ```
 */
export interface CommandExample {
  readonly command: string;
  readonly description: string;
}

/**
 * Parsed values handed to a command handler.
 *
 * @example
 * ```ts
 * import { COMMANDS, GROUPS, parseCommandLine } from '@aitbc/cli';
 * const parsed = parseCommandLine(['chain', 'block', '42'], GROUPS, COMMANDS);
 * if (parsed.kind === 'command') console.log(parsed.input.args, parsed.input.options); // { id: '42' } {}
 * ```
 */
export interface CommandInput {
  /** Positional arguments by name (absent optional ones are `undefined`). */
  readonly args: Readonly<Record<string, string | undefined>>;
  /** Options by long name; string options are strings, flags booleans. */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

/**
 * What a handler gets: its input, the output, the resolved configuration and the I/O.
 *
 * @example
 * ```ts
 * import type { CommandContext } from '@aitbc/cli';
 * async function handler(ctx: CommandContext): Promise<void> {
 *   ctx.out.note(`profile ${ctx.config.profile}, node ${ctx.config.values.node}`);
 *   ctx.out.result({ id: ctx.args.id, verbose: ctx.options.verbose === true });
 * }
 * ```
 */
export interface CommandContext extends CommandInput {
  readonly out: Output;
  readonly config: CliConfig;
  readonly io: CliIo;
  /** Aborted on Ctrl-C (exit 130) — pass it to every wait. */
  readonly signal: AbortSignal;
  /** Overall wait limit in ms from `--timeout` (exit 5 when exceeded), if given. */
  readonly timeoutMs: number | undefined;
  /** The whole command table (for `help` and `completion`). */
  readonly commands: readonly CommandSpec[];
}

/**
 * A command group, e.g. `chain`.
 *
 * @example
 * ```ts
 * import { GROUPS, type GroupSpec } from '@aitbc/cli';
 * const chain: GroupSpec | undefined = GROUPS.find((g) => g.name === 'chain');
 * console.log(chain?.summary);
 * ```
 */
export interface GroupSpec {
  readonly name: string;
  readonly summary: string;
}

/**
 * One row of the declarative command table: it drives parsing, help, shell completion and the
 * README's command reference.
 *
 * @example
 * ```ts
 * import type { CommandSpec } from '@aitbc/cli';
 * const ping: CommandSpec = {
 *   group: 'chain', name: 'ping', summary: 'check the node answers', status: 'wired',
 *   args: [], options: [], examples: [{ command: 'aitbc chain ping', description: 'prints pong' }],
 *   handler: async (ctx) => ctx.out.result('pong'),
 * };
 * ```
 */
export interface CommandSpec {
  /** Group name (`chain`), or `''` for top-level commands (`completion`, `help`, `version`). */
  readonly group: string;
  readonly name: string;
  readonly summary: string;
  /** Longer help text (optional). */
  readonly description?: string;
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly CommandExample[];
  /**
   * `wired` when the handler calls a real SDK API; `waiting` when the API it needs has not landed (the
   * handler then fails with `CLI_NOT_AVAILABLE`, exit 1), with `waitingFor` naming it.
   */
  readonly status: 'wired' | 'waiting';
  readonly waitingFor?: string;
  /**
   * The handler stops cleanly by itself when `signal` aborts (e.g. the miner drains its jobs), so the
   * runner waits for it instead of returning at once.
   */
  readonly ownsInterrupt?: boolean;
  readonly handler: (ctx: CommandContext) => Promise<void>;
}

/**
 * The full name of a command as typed: `chain head`, or `completion`.
 *
 * @example
 * ```ts
 * import { COMMANDS, commandPath } from '@aitbc/cli';
 * const names = COMMANDS.map(commandPath); // ['client submit', …, 'completion', 'help', 'version']
 * ```
 */
export function commandPath(spec: CommandSpec): string {
  return spec.group === '' ? spec.name : `${spec.group} ${spec.name}`;
}
