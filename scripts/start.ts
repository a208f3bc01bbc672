/**
 * `npm start`: the local AITBC devnet on embedded defaults, bound to 127.0.0.1, with data under
 * ./.aitbc/devnet — 4 validator processes (`aitbc-node start`, BFT finality over the peer network;
 * node APIs on 8006/8016/8026/8036), the pool hub (8018), the coordinator API (8000) with the
 * marketplace and the settler paying completed jobs on chain through node 0, the wallet daemon (8002),
 * a demo miner agent, and the explorer and marketplace web apps (8080). Same as `aitbc-node devnet`;
 * extra arguments are passed on (e.g. `npm start -- --validators 7`). Ctrl-C stops everything cleanly.
 *
 * On a fresh clone the web apps are not built yet: they are built here first (Vite, a few seconds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from 'aitbc-node';

const root = join(import.meta.dirname, '..');
if (process.env.AITBC_WEB_ROOT === undefined && !existsSync(join(root, 'apps', 'web', 'dist', 'index.html'))) {
  console.log('building the web apps (apps/web) …');
  const built = spawnSync('npm', ['run', 'build:web', '--silent'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) console.error('the web apps did not build; the devnet starts without them');
}
process.exit(await runCli(['devnet', ...process.argv.slice(2)]));
