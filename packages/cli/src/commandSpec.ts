import type { CliIo } from './cliIo.js';
import type { CliConfig } from './configStore.js';
import type { Output } from './output.js';

/** One `--option` of a command (or a global option). */
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

/** One positional argument of a command. */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  /** Default true. */
  readonly required?: boolean;
  /** Values offered by shell completion (and the only ones accepted). */
  readonly choices?: readonly string[];
}

/** One example shown by `aitbc help <command>` and the README. */
export interface CommandExample {
  readonly command: string;
  readonly description: string;
}

/** Parsed values handed to a command handler. */
export interface CommandInput {
  /** Positional arguments by name (absent optional ones are `undefined`). */
  readonly args: Readonly<Record<string, string | undefined>>;
  /** Options by long name; string options are strings, flags booleans. */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

/** What a handler gets: its input, the output, the resolved configuration and the I/O. */
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

/** A command group, e.g. `chain`. */
export interface GroupSpec {
  readonly name: string;
  readonly summary: string;
}

/**
 * One row of the declarative command table: it drives parsing, help, shell completion and the
 * README's command reference.
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

/** The full name of a command as typed: `chain head`, or `completion`. */
export function commandPath(spec: CommandSpec): string {
  return spec.group === '' ? spec.name : `${spec.group} ${spec.name}`;
}
