import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AitbcError } from '@aitbc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeConfig, NODE_CONFIG_KEYS, type NodeConfigProblem } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problemsOf(fn: () => unknown): NodeConfigProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AitbcError);
    expect((err as AitbcError).code).toBe('NODE_CONFIG_INVALID');
    return (err as AitbcError).details?.problems as unknown as NodeConfigProblem[];
  }
  throw new Error('expected NODE_CONFIG_INVALID');
}

const minimal = { dataDir: 'data', genesis: 'genesis.json', keystore: 'keystore.json' };

describe('loadNodeConfig', () => {
  it('reads JSON with defaults and resolves paths against the file', () => {
    const cfg = loadNodeConfig({ file: file('a.json', JSON.stringify({ ...minimal, rpc: { port: 9106 } })), env: {} });
    expect(cfg.role).toBe('validator');
    expect(cfg.name).toBe('validator');
    expect(cfg.dataDir).toBe(join(dir, 'data'));
    expect(cfg.genesis).toBe(join(dir, 'genesis.json'));
    expect(cfg.rpc).toMatchObject({ host: '127.0.0.1', port: 9106 });
    expect(cfg.p2p).toEqual({ host: '127.0.0.1', port: 8005, peers: [] });
    expect(cfg.log.level).toBe('info');
  });

  it('reads YAML the same way', () => {
    const yaml = `role: follower\nname: f-1\ndataDir: d\ngenesis: g.json\nkeystore: k.json\np2p:\n  peers:\n    - ws://127.0.0.1:8005\n    - ws://127.0.0.1:8015\n`;
    const cfg = loadNodeConfig({ file: file('b.yaml', yaml), env: {} });
    expect(cfg.role).toBe('follower');
    expect(cfg.name).toBe('f-1');
    expect(cfg.p2p.peers).toEqual(['ws://127.0.0.1:8005', 'ws://127.0.0.1:8015']);
  });

  it('lets AITBC_* variables override the file, and overrides win over both', () => {
    const cfg = loadNodeConfig({
      file: file('c.json', JSON.stringify({ ...minimal, rpc: { port: 9106 }, role: 'validator' })),
      env: {
        AITBC_RPC_PORT: '9206',
        AITBC_P2P_PEERS: 'ws://127.0.0.1:1, ws://127.0.0.1:2',
        AITBC_LOG_LEVEL: 'warn',
        AITBC_ROLE: 'follower',
        AITBC_DATA_DIR: '/var/lib/aitbc',
      },
      overrides: { role: 'validator' },
      cwd: '/tmp',
    });
    expect(cfg.rpc.port).toBe(9206);
    expect(cfg.p2p.peers).toEqual(['ws://127.0.0.1:1', 'ws://127.0.0.1:2']);
    expect(cfg.log.level).toBe('warn');
    expect(cfg.role).toBe('validator');
    expect(cfg.dataDir).toBe('/var/lib/aitbc');
  });

  it('names every bad value with its key, variable and what is expected, all at once', () => {
    const problems = problemsOf(() =>
      loadNodeConfig({
        file: file(
          'd.json',
          JSON.stringify({
            ...minimal,
            role: 'miner',
            rpc: { port: 70000, maxBatch: 0 },
            p2p: { peers: ['http://x'] },
          }),
        ),
        env: { AITBC_P2P_PORT: 'abc', AITBC_LOG_LEVEL: 'loud' },
      }),
    );
    const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(
      ['log.level', 'p2p.peers', 'p2p.port', 'role', 'rpc.maxBatch', 'rpc.port'].sort(),
    );
    expect(byKey['rpc.port']).toMatchObject({ env: 'AITBC_RPC_PORT', source: 'file', got: '70000' });
    expect(byKey['rpc.port']?.expected).toMatch(/port in 0\.\.65535/);
    expect(byKey['p2p.port']).toMatchObject({ env: 'AITBC_P2P_PORT', source: 'env', got: '"abc"' });
    expect(byKey.role?.expected).toContain('validator|follower');
    expect(byKey['p2p.peers']?.expected).toContain('ws://host:port');
  });

  it('the error message lists each key and variable', () => {
    try {
      loadNodeConfig({ env: { AITBC_RPC_PORT: '-1' } });
      expect.unreachable();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('rpc.port (AITBC_RPC_PORT): expected an integer port');
      expect(message).toContain('dataDir (AITBC_DATA_DIR)');
      expect(message).toContain('required for role validator');
    }
  });

  it('requires dataDir, genesis and keystore for chain roles', () => {
    const problems = problemsOf(() => loadNodeConfig({ env: {} }));
    expect(problems.map((p) => p.key).sort()).toEqual(['dataDir', 'genesis', 'keystore']);
    expect(loadNodeConfig({ env: { AITBC_ROLE: 'wallet', AITBC_DATA_DIR: 'w' } }).wallet).toEqual({
      nodeUrl: 'http://127.0.0.1:8006',
      chainId: 'aitbc-devnet',
      host: '127.0.0.1',
      port: 8002,
    });
  });

  it('rejects integers given as strings in a file, but accepts them from the environment', () => {
    const problems = problemsOf(() =>
      loadNodeConfig({ file: file('e.json', JSON.stringify({ ...minimal, rpc: { port: '8006' } })), env: {} }),
    );
    expect(problems).toEqual([expect.objectContaining({ key: 'rpc.port', source: 'file' })]);
    expect(
      loadNodeConfig({ file: file('e2.json', JSON.stringify(minimal)), env: { AITBC_RPC_PORT: '8006' } }).rpc.port,
    ).toBe(8006);
  });

  it('refuses unknown keys (typos) naming them', () => {
    expect(() =>
      loadNodeConfig({ file: file('f.json', JSON.stringify({ ...minimal, rpc: { prot: 1 }, dataDri: 'x' })), env: {} }),
    ).toThrow(expect.objectContaining({ code: 'NODE_CONFIG_UNKNOWN_KEY', details: { keys: ['rpc.prot', 'dataDri'] } }));
  });

  it('reports unreadable files and bad syntax with their own codes', () => {
    expect(() => loadNodeConfig({ file: join(dir, 'missing.json'), env: {} })).toThrow(
      expect.objectContaining({ code: 'NODE_CONFIG_UNREADABLE' }),
    );
    expect(() => loadNodeConfig({ file: file('g.json', '{"role":'), env: {} })).toThrow(
      expect.objectContaining({ code: 'NODE_CONFIG_BAD_SYNTAX' }),
    );
    expect(() => loadNodeConfig({ file: file('h.yaml', 'role: [unclosed'), env: {} })).toThrow(
      expect.objectContaining({ code: 'NODE_CONFIG_BAD_SYNTAX' }),
    );
    expect(() => loadNodeConfig({ file: file('i.json', '[1,2]'), env: {} })).toThrow(
      expect.objectContaining({ code: 'NODE_CONFIG_BAD_SYNTAX' }),
    );
  });

  it('bounds the gossip intake by default, overridable, and names a bad bound', () => {
    const f = file('intake.json', JSON.stringify(minimal));
    expect(loadNodeConfig({ file: f, env: {} }).mempool).toEqual({
      maxTxs: 50_000,
      maxPerSender: 256,
      maxIntakeTxs: 20_000,
      maxIntakeBytes: 64 * 1024 * 1024,
      journalMaxBytes: 64 * 1024 * 1024,
      intakeShare: 25,
    });
    const env = { AITBC_MEMPOOL_MAX_INTAKE_TXS: '4096', AITBC_MEMPOOL_MAX_INTAKE_BYTES: '1048576' };
    expect(loadNodeConfig({ file: f, env }).mempool).toMatchObject({ maxIntakeTxs: 4096, maxIntakeBytes: 1_048_576 });
    const problems = problemsOf(() =>
      loadNodeConfig({ file: f, env: { AITBC_MEMPOOL_MAX_INTAKE_TXS: '0', AITBC_MEMPOOL_MAX_INTAKE_BYTES: '1000' } }),
    );
    expect(problems.map((p) => p.key).sort()).toEqual(['mempool.maxIntakeBytes', 'mempool.maxIntakeTxs']);
  });

  it('journals local transactions in up to 64 MiB by default; 0 turns the journal off', () => {
    const f = file('journal.json', JSON.stringify(minimal));
    expect(loadNodeConfig({ file: f, env: { AITBC_MEMPOOL_JOURNAL_MAX_BYTES: '0' } }).mempool.journalMaxBytes).toBe(0);
    const problems = problemsOf(() => loadNodeConfig({ file: f, env: { AITBC_MEMPOOL_JOURNAL_MAX_BYTES: '-1' } }));
    expect(problems.map((p) => p.key)).toEqual(['mempool.journalMaxBytes']);
  });

  it('bounds pending API submissions by default, overridable, and names a bad bound', () => {
    const f = file('pending.json', JSON.stringify(minimal));
    expect(loadNodeConfig({ file: f, env: {} }).rpc.maxPendingTxs).toBe(20_000);
    expect(loadNodeConfig({ file: f, env: { AITBC_RPC_MAX_PENDING_TXS: '500' } }).rpc.maxPendingTxs).toBe(500);
    const problems = problemsOf(() => loadNodeConfig({ file: f, env: { AITBC_RPC_MAX_PENDING_TXS: '0' } }));
    expect(problems).toEqual([expect.objectContaining({ key: 'rpc.maxPendingTxs' })]);
  });

  it('admission control: measured-capacity defaults, overridable, 0 turns it off, bad values named', () => {
    const f = file('admission.json', JSON.stringify(minimal));
    expect(loadNodeConfig({ file: f, env: {} }).admission).toEqual({
      budgetMs: 1500,
      minBacklogTxs: 1000,
      windowMs: 5000,
    });
    const env = {
      AITBC_ADMISSION_BUDGET_MS: '0',
      AITBC_ADMISSION_MIN_BACKLOG_TXS: '64',
      AITBC_ADMISSION_WINDOW_MS: '10000',
      AITBC_MEMPOOL_INTAKE_SHARE: '100',
    };
    const c = loadNodeConfig({ file: f, env });
    expect(c.admission).toEqual({ budgetMs: 0, minBacklogTxs: 64, windowMs: 10_000 });
    expect(c.mempool.intakeShare).toBe(100);
    const problems = problemsOf(() =>
      loadNodeConfig({
        file: f,
        env: { AITBC_ADMISSION_BUDGET_MS: '-1', AITBC_ADMISSION_MIN_BACKLOG_TXS: '0', AITBC_ADMISSION_WINDOW_MS: '10' },
      }),
    );
    expect(problems.map((p) => p.key).sort()).toEqual([
      'admission.budgetMs',
      'admission.minBacklogTxs',
      'admission.windowMs',
    ]);
  });

  it('documents every key with a distinct AITBC_ variable', () => {
    const envs = NODE_CONFIG_KEYS.map((k) => k.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const k of NODE_CONFIG_KEYS) {
      expect(k.env).toMatch(/^AITBC_[A-Z0-9_]+$/);
      expect(k.expected.length).toBeGreaterThan(3);
    }
  });
});

describe('loadNodeConfig: roles coordinator and pool', () => {
  it('reads the coordinator keys with the library defaults and resolves key files against the config file', () => {
    const cfg = loadNodeConfig({
      file: file(
        'coord.json',
        JSON.stringify({
          role: 'coordinator',
          dataDir: 'c',
          keystore: 'coordinator.keystore.json',
          coordinator: { apiKeysFile: 'keys.json', leaseMs: 10_000 },
        }),
      ),
      env: {},
    });
    expect(cfg.role).toBe('coordinator');
    expect(cfg.coordinator).toEqual({
      host: '127.0.0.1',
      port: 8000,
      apiKeysFile: join(dir, 'keys.json'),
      nodeUrl: 'http://127.0.0.1:8006',
      chainId: 'aitbc-devnet',
      id: 'local-coordinator',
      leaseMs: 10_000,
      maxAttempts: 3,
      sweepIntervalMs: 1_000,
      maxPollSeconds: 60,
      settleIntervalMs: 1_000,
      settleMaxAttempts: 10,
      settleLockWaitMs: 600_000,
    });
    expect(cfg.pool).toEqual({ host: '127.0.0.1', port: 8018, apiKeysFile: undefined });
    expect(cfg.keystore).toBe(join(dir, 'coordinator.keystore.json'));
  });

  it('takes AITBC_COORDINATOR_* and AITBC_POOL_* variables', () => {
    const cfg = loadNodeConfig({
      env: {
        AITBC_ROLE: 'pool',
        AITBC_DATA_DIR: '/var/lib/aitbc-pool',
        AITBC_POOL_PORT: '9018',
        AITBC_POOL_HOST: '0.0.0.0',
        AITBC_POOL_API_KEYS_FILE: '/etc/aitbc/pool-keys.json',
        AITBC_COORDINATOR_LEASE_MS: '45000',
        AITBC_COORDINATOR_NODE_URL: 'http://10.0.0.5:8006/',
      },
    });
    expect(cfg.pool).toEqual({ host: '0.0.0.0', port: 9018, apiKeysFile: '/etc/aitbc/pool-keys.json' });
    expect(cfg.coordinator.leaseMs).toBe(45_000);
    expect(cfg.coordinator.nodeUrl).toBe('http://10.0.0.5:8006');
  });

  it('requires what each role needs (no genesis for coordinator and pool)', () => {
    expect(
      problemsOf(() => loadNodeConfig({ env: { AITBC_ROLE: 'coordinator' } }))
        .map((p) => p.key)
        .sort(),
    ).toEqual(['coordinator.apiKeysFile', 'dataDir', 'keystore']);
    const pool = problemsOf(() => loadNodeConfig({ env: { AITBC_ROLE: 'pool', AITBC_DATA_DIR: 'p' } }));
    expect(pool).toEqual([
      expect.objectContaining({
        key: 'pool.apiKeysFile',
        env: 'AITBC_POOL_API_KEYS_FILE',
        expected: expect.stringContaining('required for role pool'),
      }),
    ]);
  });

  it('names every bad coordinator value at once', () => {
    const problems = problemsOf(() =>
      loadNodeConfig({
        file: file(
          'coord-bad.json',
          JSON.stringify({
            role: 'coordinator',
            dataDir: 'c',
            keystore: 'k.json',
            coordinator: {
              apiKeysFile: 'keys.json',
              leaseMs: 10,
              maxAttempts: 0,
              nodeUrl: 'ftp://node',
              id: 'bad id!',
              settleIntervalMs: 1.5,
              port: 65_536,
            },
            pool: { port: -1 },
          }),
        ),
        env: { AITBC_COORDINATOR_SETTLE_MAX_ATTEMPTS: 'ten' },
      }),
    );
    const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'coordinator.id',
        'coordinator.leaseMs',
        'coordinator.maxAttempts',
        'coordinator.nodeUrl',
        'coordinator.port',
        'coordinator.settleIntervalMs',
        'coordinator.settleMaxAttempts',
        'pool.port',
      ].sort(),
    );
    expect(byKey['coordinator.leaseMs']).toMatchObject({
      env: 'AITBC_COORDINATOR_LEASE_MS',
      source: 'file',
      got: '10',
      expected: 'an integer number of ms in 1000..3600000',
    });
    expect(byKey['coordinator.settleMaxAttempts']).toMatchObject({ source: 'env', got: '"ten"' });
  });

  it('refuses unknown coordinator keys', () => {
    expect(() =>
      loadNodeConfig({
        file: file('coord-typo.json', JSON.stringify({ role: 'coordinator', coordinator: { leaseMS: 1 } })),
        env: {},
      }),
    ).toThrow(expect.objectContaining({ code: 'NODE_CONFIG_UNKNOWN_KEY', details: { keys: ['coordinator.leaseMS'] } }));
  });
});
