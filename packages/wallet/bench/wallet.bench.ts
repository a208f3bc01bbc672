/**
 * Wallet figures: unlock at the default Argon2id parameters (main thread and worker thread), message
 * signing on an unlocked signer (library), and POST /v1/wallets/{id}/sign through the daemon over HTTP
 * (undici, 4 connections, 32 requests in flight, ~2 s). Targets: library ≥ 10,000/s, daemon ≥ 3,000 req/s.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@aitbc/crypto';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { type BenchResult, emit, measure } from '../../../bench/harness.ts';
import { createKdfWorker, createWalletDaemon } from '../src/daemon/index.js';
import { createKeystore, createWalletSigner, MIN_KDF, unlockKeystore } from '../src/index.js';

const rows: BenchResult[] = [];
const { seed } = generateKeyPair();

// Unlock at the defaults (64 MiB, t = 3, p = 1): three runs each, median.
const file = await createKeystore(seed, 'bench passphrase');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (fn: () => Promise<unknown>) => {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
};
const mainMs = await time(() => unlockKeystore(file, 'bench passphrase'));
const worker = createKdfWorker();
const workerMs = await time(() => unlockKeystore(file, 'bench passphrase', { derive: worker.derive }));
await worker.close();
rows.push({
  group: 'wallet',
  name: 'unlock, default Argon2id (main thread)',
  opsPerSec: 1000 / mainMs,
  note: `${mainMs.toFixed(0)} ms`,
});
rows.push({
  group: 'wallet',
  name: 'unlock, default Argon2id (worker thread)',
  opsPerSec: 1000 / workerMs,
  note: `${workerMs.toFixed(0)} ms; event loop free`,
});

/** CPU seconds (user + system) of this process spent in `fn`: on a loaded machine, ops per CPU-second is the steadier figure. */
const cpu = async <T>(fn: () => Promise<T> | T): Promise<{ value: T; cpuS: number }> => {
  const start = process.cpuUsage();
  const value = await fn();
  const d = process.cpuUsage(start);
  return { value, cpuS: (d.user + d.system) / 1e6 };
};

// Library: signMessage on an unlocked signer.
const signer = createWalletSigner(seed);
const body = { challenge: 'b3f1c0de', nonce: 42 };
const N = 20_000;
const perCpu = await cpu(() => {
  for (let i = 0; i < N; i++) signer.signMessage('message', 'aitbc-devnet', body);
});
rows.push({
  group: 'wallet',
  name: 'signMessage, unlocked signer (library)',
  opsPerSec: measure(() => signer.signMessage('message', 'aitbc-devnet', body)),
  note: `${Math.round(N / perCpu.cpuS)} per CPU-second; target ≥ 10,000/s`,
});

// Daemon: POST /v1/wallets/{id}/sign over HTTP.
const dir = mkdtempSync(join(tmpdir(), 'aitbc-wallet-bench-'));
const daemon = createWalletDaemon({
  dataDir: dir,
  port: 0,
  kdf: MIN_KDF,
  logLevel: false,
  rateLimitPerMinute: 10_000_000,
});
const url = await daemon.start();
const token = readFileSync(daemon.tokenFile, 'utf8').trim();
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const pool = new Pool(url, { connections: 4, pipelining: 1 });
const post = async (path: string, payload: unknown) => {
  const res = await pool.request({ path, method: 'POST', headers, body: JSON.stringify(payload) });
  const json = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode >= 300) throw new Error(`${path} answered ${res.statusCode}`);
  return json;
};
const { wallet } = (await post('/v1/wallets', { passphrase: 'bench passphrase' })) as { wallet: { id: string } };
const { session } = (await post(`/v1/wallets/${wallet.id}/unlock`, { passphrase: 'bench passphrase' })) as {
  session: string;
};
const signBody = JSON.stringify({ session, message: body });
const sign = async () => {
  const res = await pool.request({ path: `/v1/wallets/${wallet.id}/sign`, method: 'POST', headers, body: signBody });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`sign answered ${res.statusCode}`);
};
const run = async (ms: number) => {
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        await sign();
        n++;
      }
    }),
  );
  return (n * 1000) / (performance.now() - start);
};
await run(500); // warm-up
const rates: number[] = [];
const perCpuHttp: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const { value, cpuS } = await cpu(() => run(2_000));
  rates.push(value);
  perCpuHttp.push((value * (performance.now() - t)) / 1000 / cpuS);
}
rows.push({
  group: 'wallet',
  name: 'POST /v1/wallets/{id}/sign (daemon, HTTP, 4 connections)',
  opsPerSec: median(rates),
  note: `${Math.round(median(perCpuHttp))} per CPU-second (client + server in one process); target ≥ 3,000 req/s`,
});
await pool.close();
await daemon.stop();

// Calibration in the same minute: a bare fastify POST with the same client and body size, so a loaded
// machine's figure can be read against the daemon's.
const bare = Fastify();
bare.post('/x', async (req) => ({ signature: 'ab'.repeat(64), echo: (req.body as { message: unknown }).message }));
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
const barePool = new Pool(bareUrl, { connections: 4, pipelining: 1 });
const bareRun = async (ms: number) => {
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const res = await barePool.request({ path: '/x', method: 'POST', headers, body: signBody });
        await res.body.text();
        n++;
      }
    }),
  );
  return (n * 1000) / (performance.now() - start);
};
await bareRun(500);
const bareRates = [await bareRun(2_000), await bareRun(2_000), await bareRun(2_000)];
rows.push({
  group: 'wallet',
  name: 'calibration: bare fastify POST, same client and body',
  opsPerSec: median(bareRates),
  note: `daemon sign / bare = ${(median(rates) / median(bareRates)).toFixed(2)}`,
});
await barePool.close();
await bare.close();
rmSync(dir, { recursive: true, force: true });
emit(rows);
