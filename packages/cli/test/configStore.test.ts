import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configPath, readConfigFile, resolveConfig, writeConfigFile } from '../src/configStore.js';
import { cli, tempDir } from './cliHarness.js';

const tmp = tempDir('aitbc-config-');
afterAll(tmp.cleanup);
let n = 0;
const fresh = () => join(tmp.dir, `c${n++}`, 'aitbc', 'config.json');
const mode = (p: string) => statSync(p).mode & 0o777;

describe('config file', () => {
  it('lives at $AITBC_CONFIG, else $XDG_CONFIG_HOME/aitbc, else ~/.config/aitbc', () => {
    expect(configPath({ AITBC_CONFIG: '/x/c.json', HOME: '/h' })).toBe('/x/c.json');
    expect(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/h' })).toBe('/xdg/aitbc/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/aitbc/config.json');
  });

  it('`config set` writes the file 0600 in a 0700 directory, and narrows a file that was wider', async () => {
    const path = fresh();
    const r = await cli(['config', 'set', 'apiKey', 'k-123456789'], { AITBC_CONFIG: path });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('k-123456789'); // the key is masked in the output
    expect(mode(path)).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ profiles: { default: { apiKey: 'k-123456789' } } });
    chmodSync(path, 0o644);
    const warned = await cli(['config', 'get'], { AITBC_CONFIG: path });
    expect(warned.stderr).toContain('chmod 600');
    await cli(['config', 'set', 'node', 'http://127.0.0.1:9006/'], { AITBC_CONFIG: path });
    expect(mode(path)).toBe(0o600);
    expect(readConfigFile(path).profiles.default).toEqual({ apiKey: 'k-123456789', node: 'http://127.0.0.1:9006' });
  });

  it('a missing file is an empty config; a broken one is a usage error naming the file', async () => {
    const path = fresh();
    expect(readConfigFile(path)).toEqual({ profiles: {} });
    expect(existsSync(path)).toBe(false);
    writeConfigFile(path, { profiles: {} });
    writeFileSync(path, '{not json');
    const r = await cli(['chain', 'head'], { AITBC_CONFIG: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CLI_CONFIG_BAD_FILE');
    expect(r.stderr).toContain(path);
    writeFileSync(path, JSON.stringify({ profiles: { default: { nod: 'http://x' } } }));
    expect((await cli(['chain', 'head'], { AITBC_CONFIG: path })).stderr).toContain('CLI_CONFIG_UNKNOWN_KEY');
    writeFileSync(path, JSON.stringify({ profiles: { default: { node: 'gopher://x' } } }));
    expect((await cli(['chain', 'head'], { AITBC_CONFIG: path })).code).toBe(2);
  });
});

describe('profile selection and overrides', () => {
  const path = fresh();
  writeConfigFile(path, {
    defaultProfile: 'dev',
    profiles: {
      dev: { node: 'http://127.0.0.1:1111', apiKey: 'dev-key-000' },
      prod: { node: 'https://node.example', coordinator: 'https://coord.example', apiKey: 'prod-key-000' },
    },
  });

  it('uses --profile, else AITBC_PROFILE, else defaultProfile', () => {
    expect(resolveConfig({ env: { AITBC_CONFIG: path }, flags: {} }).values.node).toBe('http://127.0.0.1:1111');
    expect(resolveConfig({ env: { AITBC_CONFIG: path, AITBC_PROFILE: 'prod' }, flags: {} }).values.node).toBe(
      'https://node.example',
    );
    const c = resolveConfig({ env: { AITBC_CONFIG: path, AITBC_PROFILE: 'dev' }, flags: {}, profile: 'prod' });
    expect(c.profile).toBe('prod');
    expect(c.values.apiKey).toBe('prod-key-000');
  });

  it('flag beats env beats profile beats default, and says where each value came from', () => {
    const c = resolveConfig({
      env: { AITBC_CONFIG: path, AITBC_NODE: 'http://env:1', AITBC_API_KEY: 'env-key-000' },
      flags: { node: 'http://flag:1' },
      profile: 'prod',
    });
    expect(c.values).toMatchObject({
      node: 'http://flag:1',
      apiKey: 'env-key-000',
      coordinator: 'https://coord.example',
      pool: 'http://127.0.0.1:8018',
    });
    expect(c.sources).toMatchObject({ node: 'flag', apiKey: 'env', coordinator: 'profile', pool: 'default' });
  });

  it('an unknown profile is a usage error listing the real ones', async () => {
    const r = await cli(['chain', 'head', '--profile', 'staging'], { AITBC_CONFIG: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CLI_CONFIG_UNKNOWN_PROFILE: no profile "staging".*profiles: dev, prod/);
    expect((await cli(['chain', 'head', '--profile', '../etc'], { AITBC_CONFIG: path })).code).toBe(2);
  });

  it('`config get` shows values and sources, masks keys unless --reveal, prints one value for scripts', async () => {
    const all = await cli(['config', 'get', '--json'], { AITBC_CONFIG: path, AITBC_COORDINATOR: 'http://c:1' });
    const j = JSON.parse(all.stdout) as {
      profile: string;
      settings: { key: string; value: string | null; source: string | null }[];
    };
    expect(j.profile).toBe('dev');
    expect(j.settings.find((s) => s.key === 'coordinator')).toMatchObject({ value: 'http://c:1', source: 'env' });
    expect(j.settings.find((s) => s.key === 'apiKey')!.value).not.toContain('dev-key-000');
    expect((await cli(['config', 'get', 'apiKey', '--reveal'], { AITBC_CONFIG: path })).stdout).toBe('dev-key-000\n');
    expect((await cli(['config', 'get', 'node'], { AITBC_CONFIG: path })).stdout).toBe('http://127.0.0.1:1111\n');
    expect((await cli(['config', 'get', 'adminKey'], { AITBC_CONFIG: path })).stdout).toBe('(unset)\n');
  });

  it('`config profiles` lists, switches (--use) and removes profiles; `config set --profile` creates one', async () => {
    const env = { AITBC_CONFIG: path };
    expect((await cli(['config', 'set', 'node', 'http://127.0.0.1:2222', '--profile', 'ci'], env)).code).toBe(0);
    const list = JSON.parse((await cli(['config', 'profiles', '--json'], env)).stdout) as {
      profiles: { name: string }[];
    };
    expect(list.profiles.map((p) => p.name)).toEqual(['dev', 'prod', 'ci']);
    expect((await cli(['config', 'profiles', '--use', 'ci'], env)).code).toBe(0);
    expect(resolveConfig({ env, flags: {} }).values.node).toBe('http://127.0.0.1:2222');
    expect((await cli(['config', 'profiles', '--use', 'nope'], env)).code).toBe(2);
    expect((await cli(['config', 'profiles', '--remove', 'ci'], env)).code).toBe(0);
    expect(readConfigFile(path).defaultProfile).toBeUndefined();
    expect((await cli(['config', 'set', 'apiKey', '--unset', '--profile', 'dev'], env)).code).toBe(0);
    expect(readConfigFile(path).profiles.dev).toEqual({ node: 'http://127.0.0.1:1111' });
    expect((await cli(['config', 'set', 'apiKey'], env)).code).toBe(2);
    expect((await cli(['config', 'set', 'nodee', 'x'], env)).code).toBe(2);
    expect(mode(path)).toBe(0o600);
  });
});
