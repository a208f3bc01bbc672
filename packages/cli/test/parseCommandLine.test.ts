import { describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS } from '../src/commandTable.js';
import { EXIT } from '../src/exitCodes.js';
import { closest, parseCommandLine } from '../src/parseCommandLine.js';
import { cli } from './cliHarness.js';

const parse = (argv: string[]) => parseCommandLine(argv, GROUPS, COMMANDS);

describe('parseCommandLine', () => {
  it('finds the command, its arguments and options, with global options anywhere', () => {
    const p = parse(['--profile', 'test', 'chain', 'account', 'ait1abc', '--proof', '--json']);
    expect(p.kind).toBe('command');
    if (p.kind !== 'command') return;
    expect(`${p.spec.group} ${p.spec.name}`).toBe('chain account');
    expect(p.input.args).toEqual({ address: 'ait1abc' });
    expect(p.input.options.proof).toBe(true);
    expect(p.globals).toMatchObject({ json: true, profile: 'test' });
  });

  it('takes --opt=value, short aliases and -- before positionals that look like options', () => {
    const p = parse(['client', 'submit', '-k', 'hash', '--input={"a":1}', '--max-price', '1.5']);
    expect(p.kind === 'command' && p.input.options).toMatchObject({
      kind: 'hash',
      input: '{"a":1}',
      'max-price': '1.5',
    });
    const q = parse(['config', 'set', 'apiKey', '--', '-dash-key']);
    expect(q.kind === 'command' && q.input.args).toEqual({ key: 'apiKey', value: '-dash-key' });
  });

  it('routes --help, help and bare groups to help', () => {
    expect(parse(['chain', 'head', '--help'])).toMatchObject({ kind: 'help', topic: ['chain', 'head'] });
    expect(parse(['-h'])).toMatchObject({ kind: 'help', topic: [] });
    expect(parse(['chain'])).toMatchObject({
      kind: 'help',
      topic: ['chain'],
      usageError: { code: 'CLI_USAGE_NO_COMMAND' },
    });
    expect(parse([])).toMatchObject({ kind: 'help', usageError: { code: 'CLI_USAGE_NO_COMMAND' } });
    expect(parse(['--version'])).toMatchObject({ kind: 'version' });
  });

  it.each([
    [['chian', 'head'], 'CLI_USAGE_UNKNOWN_COMMAND', 'did you mean `aitbc chain`'],
    [['chain', 'hed'], 'CLI_USAGE_UNKNOWN_COMMAND', 'did you mean `aitbc chain head`'],
    [['chain', 'head', '--jsn'], 'CLI_USAGE', 'did you mean --json'],
    [['chain', 'block'], 'CLI_USAGE', 'usage: aitbc chain block <id>'],
    [['chain', 'head', 'extra'], 'CLI_USAGE', 'usage: aitbc chain head'],
    [['client', 'submit', '--kind', 'hash'], 'CLI_USAGE', '--input'],
    [['completion', 'fish'], 'CLI_USAGE', 'bash'],
    [['monitor', 'metrics', '--service', 'x'], 'CLI_USAGE', 'node, coordinator, pool'],
    [['chain', 'head', '--profile'], 'CLI_USAGE', 'aitbc help chain head'],
  ])('%j is a usage error %s (%s)', (argv, code, hint) => {
    try {
      parse(argv);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code });
      expect(`${(e as Error).message} ${String((e as { details?: { hint?: string } }).details?.hint)}`).toContain(hint);
    }
  });

  it('suggests only close names', () => {
    expect(closest('stauts', ['status', 'submit'])).toBe('status');
    expect(closest('zzzzzz', ['status', 'submit'])).toBeUndefined();
  });
});

describe('usage errors through runCli', () => {
  it('exit 2 with one line on stderr, nothing on stdout; JSON error with --json', async () => {
    const r = await cli(['chain', 'hed']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error CLI_USAGE_UNKNOWN_COMMAND: unknown command "chain hed" \(hint: did you mean `aitbc chain head`\?\)\n$/,
    );
    const j = await cli(['chain', 'block', '--json']);
    expect(j.code).toBe(EXIT.usage);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { code: 'CLI_USAGE', exit_code: 2 } });
  });

  it('bad amounts, bad --timeout, bad URLs and bad JSON input are usage errors (exit 2)', async () => {
    const base = ['client', 'submit', '--kind', 'hash', '--input', '{}'];
    expect((await cli([...base, '--max-price', '1.2.3'])).stderr).toContain('CLI_BAD_AMOUNT');
    expect((await cli([...base, '--max-price', '1.2.3'])).code).toBe(2);
    expect((await cli(['client', 'submit', '--kind', 'hash', '--input', '{nope', '--max-price', '1'])).code).toBe(2);
    expect((await cli(['chain', 'head', '--timeout', '-3'])).code).toBe(2);
    const url = await cli(['chain', 'head', '--node', 'ftp://x']);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('CLI_CONFIG_BAD_VALUE');
    expect((await cli(['chain', 'head'], { AITBC_NODE: 'not a url' })).code).toBe(2);
  });

  it('no command prints the help on stderr and exits 2; help exits 0 on stdout', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: aitbc');
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: aitbc');
    expect((await cli(['help', 'nope'])).code).toBe(2);
  });

  it('every command in the table is wired to the SDK (none waits for a missing API)', () => {
    expect(COMMANDS.filter((c) => c.status !== 'wired').map((c) => `${c.group} ${c.name}`)).toEqual([]);
  });

  it('version prints the package version', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    expect((await cli(['version'])).stdout).toBe(`aitbc ${version}\n`);
    expect(JSON.parse((await cli(['--version', '--json'])).stdout)).toEqual({ version });
  });
});
