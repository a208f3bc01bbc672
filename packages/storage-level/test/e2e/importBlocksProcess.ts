/**
 * Crash-test worker: opens a LevelKVStore chain at AITBC_DATA_DIR and imports blocks of transfers
 * forever, printing each imported height. The test kills it with SIGKILL at random moments.
 * Keys are derived from AITBC_SEED so that the test can rebuild the same genesis.
 */
import { LevelKVStore } from '@aitbc/storage-level';
import { crashNetwork } from './crashNetwork.js';

const net = crashNetwork(process.env.AITBC_SEED ?? '1');
const chain = net.chain(await LevelKVStore.open({ path: process.env.AITBC_DATA_DIR! }));
await chain.open();
for (;;) {
  const height = chain.head.height + 1;
  const lastCommit = height === 1 ? null : (await chain.getCommit(height - 1))!;
  const nonce = (await chain.account(net.sender)).nonce;
  const txs = Array.from({ length: 20 }, (_, i) => net.transfer(nonce + i, height * 100 + i));
  const block = await chain.buildBlock({
    round: 0,
    timestamp: chain.head.timestamp + 1000,
    proposerSeed: net.proposerSeed,
    lastCommit,
    txs,
  });
  await chain.importBlock(block, net.commitFor(block));
  process.stdout.write(`${height}\n`);
}
