import type { CommandSpec } from '../commandSpec.js';
import {
  CONFIG_KEYS,
  configKeySpec,
  maskSecret,
  readConfigFile,
  validateConfigValue,
  validateProfileName,
  writeConfigFile,
} from '../configStore.js';
import { usageError } from '../parseCommandLine.js';
import { arg, flag, stringOption } from './commandHelpers.js';

/** `aitbc config …`: the profile file. */
export const CONFIG_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'config',
    name: 'get',
    summary: 'show the settings in force and where each comes from',
    args: [
      {
        name: 'key',
        description: `one key: ${CONFIG_KEYS.map((k) => k.key).join(', ')}`,
        required: false,
        choices: CONFIG_KEYS.map((k) => k.key),
      },
    ],
    options: [{ name: 'reveal', type: 'boolean', description: 'print API keys in full (masked by default)' }],
    examples: [
      {
        command: 'aitbc config get',
        description: 'every setting, its value and its source (flag, env, profile, default)',
      },
      { command: 'aitbc config get node --profile testnet', description: 'one value, for a script' },
    ],
    status: 'wired',
    async handler(ctx) {
      const reveal = flag(ctx, 'reveal');
      const shown = (key: (typeof CONFIG_KEYS)[number]) => {
        const v = ctx.config.values[key.key];
        return v === undefined ? null : key.kind === 'secret' && !reveal ? maskSecret(v) : v;
      };
      const key = ctx.args.key;
      if (key !== undefined) {
        const spec = configKeySpec(key);
        const v = shown(spec);
        ctx.out.result({ key, value: v, source: ctx.config.sources[spec.key] ?? null }, (r) => r.value ?? '(unset)');
        return;
      }
      const rows = CONFIG_KEYS.map((k) => ({
        key: k.key,
        value: shown(k),
        source: ctx.config.sources[k.key] ?? null,
        env: k.env,
      }));
      if (ctx.out.json) {
        ctx.out.result({ path: ctx.config.path, profile: ctx.config.profile, settings: rows });
        return;
      }
      ctx.out.note(`profile ${ctx.config.profile} (${ctx.config.path})`);
      ctx.out.table(rows, [
        { header: 'KEY', value: (r) => r.key },
        { header: 'VALUE', value: (r) => r.value ?? '(unset)' },
        { header: 'SOURCE', value: (r) => r.source ?? '-' },
        { header: 'ENV', value: (r) => r.env },
      ]);
    },
  },
  {
    group: 'config',
    name: 'set',
    summary: 'save a setting in the profile (the file is written 0600)',
    args: [
      {
        name: 'key',
        description: `one of ${CONFIG_KEYS.map((k) => k.key).join(', ')}`,
        choices: CONFIG_KEYS.map((k) => k.key),
      },
      { name: 'value', description: 'the value (omit with --unset)', required: false },
    ],
    options: [{ name: 'unset', type: 'boolean', description: 'remove the key from the profile' }],
    examples: [
      { command: 'aitbc config set node http://127.0.0.1:8006', description: 'point the default profile at a node' },
      {
        command: 'aitbc config set apiKey s3cr3t --profile testnet',
        description: 'store a key in (or create) the testnet profile',
      },
      { command: 'aitbc config set apiKey --unset', description: 'forget a key' },
    ],
    status: 'wired',
    async handler(ctx) {
      const spec = configKeySpec(arg(ctx, 'key'));
      const value = ctx.args.value;
      const unset = flag(ctx, 'unset');
      if (unset === (value !== undefined))
        throw usageError(
          unset ? 'config set: give a value or --unset, not both' : 'config set: missing <value>',
          'usage: aitbc config set <key> <value> | aitbc config set <key> --unset',
        );
      const file = readConfigFile(ctx.config.path);
      const profile = { ...(file.profiles[ctx.config.profile] ?? {}) };
      if (unset) delete profile[spec.key];
      else profile[spec.key] = validateConfigValue(spec.key, value!, spec.key);
      file.profiles[ctx.config.profile] = profile;
      writeConfigFile(ctx.config.path, file);
      const shown = unset ? null : spec.kind === 'secret' ? maskSecret(value!) : profile[spec.key]!;
      ctx.out.result({ path: ctx.config.path, profile: ctx.config.profile, key: spec.key, value: shown }, (r) =>
        unset
          ? `unset ${r.key} in profile ${r.profile} (${r.path})`
          : `set ${r.key} = ${r.value} in profile ${r.profile} (${r.path})`,
      );
    },
  },
  {
    group: 'config',
    name: 'profiles',
    summary: 'list profiles; --use makes one the default, --remove deletes one',
    args: [],
    options: [
      { name: 'use', type: 'string', valueName: '<name>', description: 'make this profile the default' },
      { name: 'remove', type: 'string', valueName: '<name>', description: 'delete this profile' },
    ],
    examples: [
      { command: 'aitbc config profiles', description: 'every profile; * marks the one in use' },
      { command: 'aitbc config profiles --use testnet', description: 'switch the default profile' },
    ],
    status: 'wired',
    async handler(ctx) {
      const file = readConfigFile(ctx.config.path);
      const use = stringOption(ctx, 'use');
      const remove = stringOption(ctx, 'remove');
      let active = ctx.config.profile;
      if (use !== undefined || remove !== undefined) {
        if (use !== undefined) {
          validateProfileName(use);
          if (file.profiles[use] === undefined)
            throw usageError(
              `no profile "${use}" to use`,
              `create it: aitbc config set node <url> --profile ${use}`,
              'CLI_CONFIG_UNKNOWN_PROFILE',
            );
          file.defaultProfile = use;
          active = use;
        }
        if (remove !== undefined) {
          if (file.profiles[remove] === undefined)
            throw usageError(
              `no profile "${remove}" to remove`,
              'see `aitbc config profiles`',
              'CLI_CONFIG_UNKNOWN_PROFILE',
            );
          delete file.profiles[remove];
          if (file.defaultProfile === remove) delete file.defaultProfile;
        }
        writeConfigFile(ctx.config.path, file);
      }
      const rows = Object.entries(file.profiles).map(([name, p]) => ({
        name,
        active: name === active,
        default: name === (file.defaultProfile ?? 'default'),
        keys: Object.keys(p),
      }));
      ctx.out.table(
        rows,
        [
          { header: '', value: (r) => (r.active ? '*' : '') },
          { header: 'PROFILE', value: (r) => r.name },
          { header: 'DEFAULT', value: (r) => (r.default ? 'yes' : '') },
          { header: 'SETTINGS', value: (r) => r.keys.join(', ') || '-' },
        ],
        { path: ctx.config.path, default_profile: file.defaultProfile ?? 'default', active, profiles: rows },
      );
    },
  },
];
