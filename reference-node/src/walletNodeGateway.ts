import type { TxJson } from '@aitbc/chain-core';
import { isAitbcError } from '@aitbc/crypto';
import type { NodeClient } from '@aitbc/rpc/client';
import type { WalletNode } from '@aitbc/wallet/daemon';

/**
 * The wallet daemon's {@link WalletNode} over the node API client: accounts (unknown = empty),
 * submission (the node's codes pass through, e.g. `CHAIN_BAD_NONCE`) and transaction status (a
 * committed transaction is final: consensus finalizes each block on commit).
 */
export function createWalletNodeGateway(node: NodeClient): WalletNode {
  return {
    async account(address) {
      try {
        const a = await node.account(address);
        return { balance: BigInt(a.balance as string), nonce: a.nonce as number };
      } catch (err) {
        if (isAitbcError(err, 'RPC_NOT_FOUND')) return { balance: 0n, nonce: 0 };
        throw err;
      }
    },
    async submitTx(tx: TxJson) {
      const id = await node.sendTx(tx);
      return id.startsWith('0x') ? id : `0x${id}`; // tolerate a node API answering bare hex
    },
    async txStatus(id) {
      try {
        const t = await node.tx(id.startsWith('0x') ? id.slice(2) : id);
        if (t.status === 'committed')
          return typeof t.height === 'number' ? { status: 'final', height: t.height } : { status: 'final' };
        return { status: 'pending' };
      } catch (err) {
        if (isAitbcError(err, 'RPC_NOT_FOUND')) return { status: 'unknown' };
        throw err;
      }
    },
  };
}
