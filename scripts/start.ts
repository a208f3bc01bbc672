/**
 * `npm start`: the local AITBC devnet on embedded defaults, bound to 127.0.0.1, with data under
 * ./.aitbc/devnet — 4 validator processes (`aitbc-node start`, BFT finality over the peer network;
 * node APIs on 8006/8016/8026/8036), the pool hub (8018) with a demo miner, and the coordinator API
 * (8000) with the settler paying completed jobs on chain through node 0. Same as `aitbc-node devnet`;
 * extra arguments are passed on (e.g. `npm start -- --validators 7`). Ctrl-C stops everything cleanly.
 */
import { runCli } from 'aitbc-node';

process.exit(await runCli(['devnet', ...process.argv.slice(2)]));
