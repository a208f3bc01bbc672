import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandPath } from '../src/commandSpec.js';
import { COMMANDS, GROUPS } from '../src/commandTable.js';
import { EXIT_CODE_TABLE } from '../src/exitCodes.js';
import { GLOBAL_OPTIONS } from '../src/parseCommandLine.js';
import { cli, tempDir } from './cliHarness.js';

const grouped = COMMANDS.filter((c) => c.group !== '');
const tmp = tempDir('aitbc-completion-');
afterAll(tmp.cleanup);

describe('the command table', () => {
  it('has every command group and command of the issue', () => {
    const expected: Record<string, string[]> = {
      client: ['submit', 'status', 'result', 'cancel', 'receipts', 'run'],
      miner: ['start', 'status', 'earnings'],
      wallet: ['create', 'import', 'list', 'balance', 'send', 'sign'],
      chain: ['head', 'block', 'tx', 'account', 'validators', 'peers', 'sync'],
      marketplace: ['offers', 'miners', 'bids', 'match'],
      admin: ['stats', 'miners', 'jobs'],
      config: ['get', 'set', 'profiles'],
      monitor: ['blocks', 'jobs', 'metrics'],
    };
    for (const [group, names] of Object.entries(expected))
      expect(COMMANDS.filter((c) => c.group === group).map((c) => c.name)).toEqual(names);
    expect(COMMANDS.filter((c) => c.group === '').map((c) => c.name)).toEqual(['completion', 'help', 'version']);
  });

  it('every command has a summary and at least one example that starts with aitbc or uses it', () => {
    for (const c of COMMANDS) {
      expect(c.summary.length, commandPath(c)).toBeGreaterThan(5);
      expect(c.examples.length, commandPath(c)).toBeGreaterThan(0);
      for (const e of c.examples) expect(e.command, commandPath(c)).toContain('aitbc');
      if (c.status === 'waiting') expect(c.waitingFor, commandPath(c)).toBeDefined();
    }
  });

  it('no command option shadows a global option', () => {
    const globals = new Set(GLOBAL_OPTIONS.map((o) => o.name));
    const shorts = new Set(GLOBAL_OPTIONS.flatMap((o) => (o.short ? [o.short] : [])));
    for (const c of COMMANDS)
      for (const o of c.options) {
        expect(globals.has(o.name), `${commandPath(c)} --${o.name}`).toBe(false);
        if (o.short) expect(shorts.has(o.short), `${commandPath(c)} -${o.short}`).toBe(false);
      }
  });
});

describe('help', () => {
  it('`aitbc help` lists every group and command', async () => {
    const { stdout, code } = await cli(['help']);
    expect(code).toBe(0);
    for (const g of GROUPS) expect(stdout).toContain(`${g.name} — ${g.summary}`);
    for (const c of COMMANDS)
      expect(stdout).toMatch(new RegExp(`\\n  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    for (const o of GLOBAL_OPTIONS) expect(stdout).toContain(`--${o.name}`);
  });

  it('`aitbc help <group> <command>` and `--help` show usage, every option and the examples', async () => {
    for (const c of grouped) {
      const { stdout, code } = await cli(['help', c.group, c.name]);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: aitbc ${c.group} ${c.name}`);
      for (const o of c.options) expect(stdout).toContain(`--${o.name}`);
      for (const e of c.examples) expect(stdout).toContain(e.command);
      expect((await cli([c.group, c.name, '--help'])).stdout).toBe(stdout);
    }
  });

  it('group help lists the group’s commands; exit-codes and config have topics', async () => {
    for (const g of GROUPS) {
      const { stdout } = await cli(['help', g.name]);
      for (const c of COMMANDS.filter((x) => x.group === g.name)) expect(stdout).toContain(`aitbc ${g.name} ${c.name}`);
    }
    const codes = (await cli(['help', 'exit-codes'])).stdout;
    for (const r of EXIT_CODE_TABLE)
      expect(codes).toMatch(new RegExp(`\\n  ${r.code} +${r.meaning.slice(0, 20).replace(/[()]/g, '.')}`));
    expect((await cli(['help', 'config'])).stdout).toContain('AITBC_API_KEY');
  });
});

function bashComplete(script: string, words: string[]): string[] {
  const file = join(tmp.dir, 'aitbc.bash');
  writeFileSync(file, script);
  const line = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source "$1"; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _aitbc; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'x',
      file,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((s) => s !== '');
}

describe('completion', () => {
  it('the bash and zsh scripts name every group, command and option', async () => {
    for (const shell of ['bash', 'zsh']) {
      const { stdout, code } = await cli(['completion', shell]);
      expect(code).toBe(0);
      for (const g of GROUPS) expect(stdout).toContain(g.name);
      for (const c of COMMANDS) {
        expect(stdout).toContain(c.name);
        for (const o of c.options) expect(stdout).toContain(`--${o.name}`);
      }
    }
  });

  it('the bash script completes groups, commands, options and choices when run by bash', async () => {
    const script = (await cli(['completion', 'bash'])).stdout;
    expect(bashComplete(script, ['aitbc', ''])).toEqual([
      ...GROUPS.map((g) => g.name),
      'completion',
      'help',
      'version',
    ]);
    expect(bashComplete(script, ['aitbc', 'ch'])).toEqual(['chain']);
    expect(bashComplete(script, ['aitbc', 'chain', ''])).toEqual(
      COMMANDS.filter((c) => c.group === 'chain').map((c) => c.name),
    );
    // a global option's value is not taken for a command word
    expect(bashComplete(script, ['aitbc', '--profile', 'dev', 'client', 's'])).toEqual(['submit', 'status']);
    const opts = bashComplete(script, ['aitbc', 'client', 'submit', '--']);
    for (const o of [...GLOBAL_OPTIONS, ...COMMANDS.find((c) => c.group === 'client' && c.name === 'submit')!.options])
      expect(opts).toContain(`--${o.name}`);
    expect(bashComplete(script, ['aitbc', 'monitor', 'metrics', '--service', ''])).toEqual([
      'node',
      'coordinator',
      'pool',
    ]);
    expect(bashComplete(script, ['aitbc', 'completion', ''])).toEqual(['bash', 'zsh']);
  });
});
