import { createValidatorDriver, decodeConsensusMessage, encodeConsensusMessage } from '@aitbc/consensus-poa';
import type { JsonObject } from '@aitbc/rpc';
import type { ValidatorEngine, ValidatorEngineDeps } from './startNode.js';

/**
 * The default {@link ValidatorEngine}: `@aitbc/consensus-poa`'s validator driver over the node's chain,
 * mempool and store, with the genesis block time and the configured round timeouts. Messages travel as
 * `encodeConsensusMessage` JSON; malformed ones from peers are dropped (the peer network scores peers
 * whose gossip fails its shape check).
 */
export function createValidatorEngine(deps: ValidatorEngineDeps): ValidatorEngine {
  const { chain, genesis, config, log } = deps;
  // The driver re-sends the same message objects (periodic re-gossip of what it signed): encode each
  // once — a proposal's JSON is its whole block.
  const encoded = new WeakMap<object, JsonObject>();
  const encode = (message: Parameters<typeof encodeConsensusMessage>[0]): JsonObject => {
    let json = encoded.get(message);
    if (json === undefined) {
      json = encodeConsensusMessage(message) as JsonObject;
      encoded.set(message, json);
    }
    return json;
  };
  const driver = createValidatorDriver({
    chain,
    mempool: deps.mempool,
    seed: deps.nodeKey.seed,
    store: deps.store,
    transport: { broadcast: (message) => deps.broadcast(encode(message)) },
    blockTimeMs: genesis.params.blockTimeMs,
    emptyBlockIntervalMs: genesis.params.emptyBlockIntervalMs,
    maxBlockTxs: genesis.params.maxBlockTxs,
    maxBlockBytes: genesis.params.maxBlockBytes,
    timeouts: {
      propose: config.consensus.timeoutProposeMs,
      prevote: config.consensus.timeoutVoteMs,
      precommit: config.consensus.timeoutVoteMs,
      delta: config.consensus.timeoutDeltaMs,
    },
  });
  driver.on('error', ({ during, error }) => log.warn(`consensus ${during} failed: ${(error as Error).message}`));
  driver.on('round', (e) => {
    if (e.round > 0 && e.step === 'propose')
      log.info(`height ${e.height}: round ${e.round} (the earlier rounds did not decide)`);
  });
  driver.on('commit', (e) => log.debug(`height ${e.height} final in round ${e.round} after ${e.latencyMs} ms`));
  driver.on('rejected', (e) => log.debug(`consensus message refused: ${e.code} ${e.reason}`));
  driver.on('evidence', (e) => log.warn(`double signing by ${e.validator} at ${e.height}/${e.round} (${e.type})`));
  return {
    start: () => driver.start(),
    stop: () => driver.stop(),
    receive(json) {
      let message: ReturnType<typeof decodeConsensusMessage>;
      try {
        message = decodeConsensusMessage(json);
      } catch {
        return;
      }
      driver.receive(message);
    },
    onCommit(listener) {
      driver.on('commit', (e) =>
        listener({ height: e.height, round: e.round, blockHash: e.blockHash, latencyMs: e.latencyMs }),
      );
    },
    onRound(listener) {
      driver.on('round', (e) => listener({ height: e.height, round: e.round, step: e.step }));
    },
    resend: () => driver.resend(),
  };
}
