import { parseArgs } from 'node:util';
import { AitbcError } from '@aitbc/crypto';
import { type CommandInput, type CommandSpec, commandPath, type GroupSpec, type OptionSpec } from './commandSpec.js';
import { CONFIG_KEYS } from './configStore.js';

/**
 * Options every command accepts.
 *
 * @example
 * ```ts
 * import { GLOBAL_OPTIONS } from '@aitbc/cli';
 * const flags = GLOBAL_OPTIONS.map((o) => (o.short ? `-${o.short}, --${o.name}` : `--${o.name}`));
 * ```
 */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', type: 'boolean', description: 'print JSON on stdout (for scripts); no spinner' },
  {
    name: 'profile',
    short: 'p',
    type: 'string',
    valueName: '<name>',
    description: 'config profile to use (default: the file’s defaultProfile, else "default")',
  },
  {
    name: 'config',
    type: 'string',
    valueName: '<file>',
    complete: 'file',
    description: 'config file (default $AITBC_CONFIG, else ~/.config/aitbc/config.json)',
  },
  ...CONFIG_KEYS.map(
    (k): OptionSpec => ({
      name: k.flag,
      type: 'string',
      valueName: k.kind === 'url' ? '<url>' : k.kind === 'publicKey' ? '<hex>' : '<key>',
      description: `${k.description} (env ${k.env})`,
    }),
  ),
  { name: 'timeout', type: 'string', valueName: '<seconds>', description: 'give up waiting after this long (exit 5)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help for the command' },
  { name: 'version', type: 'boolean', description: 'print the version' },
];

/**
 * Global option values of one run.
 *
 * @example
 * ```ts
 * import { COMMANDS, GROUPS, parseCommandLine } from '@aitbc/cli';
 * const { globals } = parseCommandLine(['chain', 'head', '--json', '--node', 'http://127.0.0.1:8006'], GROUPS, COMMANDS);
 * console.log(globals.json, globals.strings.node); // true 'http://127.0.0.1:8006'
 * ```
 */
export interface GlobalFlags {
  readonly json: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly profile?: string;
  readonly timeout?: string;
  /** Every string-valued global option by flag name (`config`, `node`, `api-key`...). */
  readonly strings: Readonly<Partial<Record<string, string>>>;
}

/**
 * What the command line asks for.
 *
 * @example
 * ```ts
 * import { COMMANDS, commandPath, GROUPS, helpText, parseCommandLine } from '@aitbc/cli';
 * const parsed = parseCommandLine(process.argv.slice(2), GROUPS, COMMANDS);
 * if (parsed.kind === 'help') console.log(helpText(parsed.topic));
 * else if (parsed.kind === 'command') console.log(commandPath(parsed.spec), parsed.input.args);
 * ```
 */
export type ParsedCommandLine =
  | {
      readonly kind: 'command';
      readonly spec: CommandSpec;
      readonly input: CommandInput;
      readonly globals: GlobalFlags;
    }
  | {
      readonly kind: 'help';
      readonly topic: readonly string[];
      readonly globals: GlobalFlags;
      readonly usageError?: AitbcError;
    }
  | { readonly kind: 'version'; readonly globals: GlobalFlags };

/** A usage error (exit code 2) with a hint. */
export function usageError(message: string, hint: string, code = 'CLI_USAGE'): AitbcError {
  return new AitbcError(code, message, { details: { hint } });
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** The closest candidate within edit distance 2, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const dd = distance(word, c);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best;
}

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function toParseArgs(options: readonly OptionSpec[]): ParseArgsOptions {
  const out: ParseArgsOptions = {};
  for (const o of options) out[o.name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  return out;
}

const GLOBAL_STRING = new Set(
  GLOBAL_OPTIONS.filter((o) => o.type === 'string').flatMap((o) => [
    `--${o.name}`,
    ...(o.short ? [`-${o.short}`] : []),
  ]),
);

function globalsFrom(values: Record<string, string | boolean | undefined>): GlobalFlags {
  const strings: Record<string, string> = {};
  for (const o of GLOBAL_OPTIONS) {
    const v = values[o.name];
    if (o.type === 'string' && typeof v === 'string') strings[o.name] = v;
  }
  return {
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
    ...(strings.profile !== undefined ? { profile: strings.profile } : {}),
    ...(strings.timeout !== undefined ? { timeout: strings.timeout } : {}),
    strings,
  };
}

function parseTokens(tokens: readonly string[], options: readonly OptionSpec[], where: string) {
  try {
    return parseArgs({ args: [...tokens], options: toParseArgs(options), allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as { code?: string; message: string };
    const name = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const guess =
        name === undefined
          ? undefined
          : closest(
              name.replace(/^-+/, ''),
              options.map((o) => o.name),
            );
      throw usageError(
        `unknown option ${name ?? ''} for ${where}`.replace('  ', ' '),
        guess === undefined ? `see \`aitbc help ${where}\`` : `did you mean --${guess}?`,
      );
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw usageError(
        `option ${name ?? ''} ${/argument missing/.test(err.message) ? 'needs a value' : 'takes no value'}`,
        `see \`aitbc help ${where}\``,
      );
    throw usageError(err.message.split('\n')[0]!, `see \`aitbc help ${where}\``);
  }
}

/**
 * Parses a command line against the command table: finds the command (`group name`, or a top-level
 * one), then its options (plus the global ones, anywhere on the line) and positional arguments.
 * @throws AitbcError `CLI_USAGE*` (exit code 2) for an unknown command or option, a missing or extra
 *   argument, a missing required option or a value outside an option's choices.
 *
 * @example
 * ```ts
 * import { COMMANDS, GROUPS, parseCommandLine } from '@aitbc/cli';
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   const parsed = parseCommandLine(['chian', 'head'], GROUPS, COMMANDS);
 * } catch (e) {
 *   if (isAitbcError(e) && e.code.startsWith('CLI_USAGE')) console.error(e.message, e.details?.hint); // exit 2
 * }
 * ```
 */
export function parseCommandLine(
  argv: readonly string[],
  groups: readonly GroupSpec[],
  commands: readonly CommandSpec[],
): ParsedCommandLine {
  // The command words are the first positionals (global option values are not words).
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const t = argv[i]!;
    if (t === '--') break;
    if (t.startsWith('-')) {
      if (GLOBAL_STRING.has(t)) i++;
      continue;
    }
    words.push(i);
  }
  const first = words[0] === undefined ? undefined : argv[words[0]];
  const second = words[1] === undefined ? undefined : argv[words[1]];
  const rest = (n: number) => argv.filter((_, i) => !words.slice(0, n).includes(i));

  if (first === undefined) {
    const { values } = parseTokens(argv, GLOBAL_OPTIONS, 'aitbc');
    const globals = globalsFrom(values);
    if (globals.version) return { kind: 'version', globals };
    return globals.help
      ? { kind: 'help', topic: [], globals }
      : {
          kind: 'help',
          topic: [],
          globals,
          usageError: usageError('no command given', 'try `aitbc help`', 'CLI_USAGE_NO_COMMAND'),
        };
  }
  const top = commands.find((c) => c.group === '' && c.name === first);
  const group = groups.find((g) => g.name === first);
  let spec: CommandSpec | undefined;
  let consumed: number;
  if (top !== undefined) {
    spec = top;
    consumed = 1;
  } else if (group !== undefined) {
    const names = commands.filter((c) => c.group === first).map((c) => c.name);
    if (second === undefined) {
      const { values } = parseTokens(rest(1), GLOBAL_OPTIONS, first);
      const globals = globalsFrom(values);
      return globals.help
        ? { kind: 'help', topic: [first], globals }
        : {
            kind: 'help',
            topic: [first],
            globals,
            usageError: usageError(
              `${first} needs a command: ${names.join(', ')}`,
              `see \`aitbc help ${first}\``,
              'CLI_USAGE_NO_COMMAND',
            ),
          };
    }
    spec = commands.find((c) => c.group === first && c.name === second);
    if (spec === undefined) {
      const guess = closest(second, names);
      throw usageError(
        `unknown command "${first} ${second}"`,
        guess === undefined ? `${first} commands: ${names.join(', ')}` : `did you mean \`aitbc ${first} ${guess}\`?`,
        'CLI_USAGE_UNKNOWN_COMMAND',
      );
    }
    consumed = 2;
  } else {
    const candidates = [...groups.map((g) => g.name), ...commands.filter((c) => c.group === '').map((c) => c.name)];
    const guess = closest(first, candidates);
    throw usageError(
      `unknown command "${first}"`,
      guess === undefined ? 'see `aitbc help`' : `did you mean \`aitbc ${guess}\`?`,
      'CLI_USAGE_UNKNOWN_COMMAND',
    );
  }

  const path = commandPath(spec);
  const { values, positionals } = parseTokens(rest(consumed), [...GLOBAL_OPTIONS, ...spec.options], path);
  const globals = globalsFrom(values);
  if (globals.help) return { kind: 'help', topic: path.split(' '), globals };
  const args: Record<string, string | undefined> = {};
  const required = spec.args.filter((a) => a.required !== false).length;
  if (positionals.length < required) {
    const missing = spec.args[positionals.length]!;
    throw usageError(`${path}: missing <${missing.name}> (${missing.description})`, `usage: ${usageLine(spec)}`);
  }
  if (positionals.length > spec.args.length)
    throw usageError(`${path}: unexpected argument "${positionals[spec.args.length]}"`, `usage: ${usageLine(spec)}`);
  spec.args.forEach((a, i) => {
    const v = positionals[i];
    if (v !== undefined && a.choices !== undefined && !a.choices.includes(v))
      throw usageError(`${path}: <${a.name}> must be one of ${a.choices.join(', ')}`, `usage: ${usageLine(spec)}`);
    args[a.name] = v;
  });
  const options: Record<string, string | boolean | undefined> = {};
  for (const o of spec.options) {
    const v = values[o.name];
    if (v === undefined && o.required)
      throw usageError(`${path}: --${o.name} is required`, `usage: ${usageLine(spec)}`);
    if (typeof v === 'string' && o.choices !== undefined && !o.choices.includes(v))
      throw usageError(`${path}: --${o.name} must be one of ${o.choices.join(', ')}`, `usage: ${usageLine(spec)}`);
    options[o.name] = v as string | boolean | undefined;
  }
  return { kind: 'command', spec, input: { args, options }, globals };
}

/**
 * `aitbc chain block <id> [--proof]` — the one-line usage of a command.
 *
 * @example
 * ```ts
 * import { COMMANDS, usageLine } from '@aitbc/cli';
 * const spec = COMMANDS.find((c) => c.group === 'chain' && c.name === 'block')!;
 * console.log(usageLine(spec)); // 'aitbc chain block <id>'
 * ```
 */
export function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((a) => (a.required === false ? `[${a.name}]` : `<${a.name}>`));
  const opts = spec.options.map((o) => {
    const flag = o.type === 'boolean' ? `--${o.name}` : `--${o.name} ${o.valueName ?? '<value>'}`;
    return o.required ? flag : `[${flag}]`;
  });
  return ['aitbc', commandPath(spec), ...args, ...opts].join(' ');
}
