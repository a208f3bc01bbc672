import { signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import type { SettlementGateway, SettleTxSigner } from '@aitbc/coordinator';
import { isAitbcError } from '@aitbc/crypto';
import type { NodeClient } from '@aitbc/rpc/client';

/** The coordinator's {@link SettlementGateway} over the node API client. */
export function createNodeSettlementGateway(node: NodeClient): SettlementGateway {
  return {
    async nextNonce(address) {
      const account = await node.account(address);
      const pending = (await node.mempool(1000)).txs.filter((t) => t.from === address).length;
      return (account.nonce as number) + pending;
    },
    async submit(json) {
      const id = await node.sendTx(json);
      return id.startsWith('0x') ? id : `0x${id}`; // tolerate a node API answering bare hex
    },
    async escrow(jobId) {
      try {
        const e = await node.escrow(jobId);
        return { status: e.status as 'locked' | 'settled' | 'refunded' };
      } catch (err) {
        if (isAitbcError(err, 'RPC_NOT_FOUND')) return undefined;
        throw err;
      }
    },
  };
}

/** Signs `escrow.settle` with chain-core (the coordinator package stays free of chain building). */
export const settleTxSigner: SettleTxSigner = (body, seed) => {
  const tx = signTx({ type: 'escrow.settle', ...body }, seed);
  return { id: txIdHex(tx), json: txToJson(tx) };
};
