import { formatAmount } from '../amount.js';
import type { CommandSpec } from '../commandSpec.js';
import { renderKeyValues, renderTable } from '../output.js';
import { sdkClient } from '../sdkClient.js';
import { arg, flag, formatTime, shortId } from './commandHelpers.js';

function amountOfTx(tx: Record<string, unknown>): string {
  const a = tx.amount;
  return typeof a === 'string' && /^[0-9]+$/.test(a) ? formatAmount(BigInt(a)) : '-';
}

/** `aitbc chain …`: read the chain through the node API. */
export const CHAIN_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'chain',
    name: 'head',
    summary: 'show the latest final block (height and hash)',
    args: [],
    options: [],
    examples: [
      { command: 'aitbc chain head', description: 'height and hash of the head' },
      { command: 'aitbc chain head --json | jq .height', description: 'just the height, for a script' },
    ],
    status: 'wired',
    async handler(ctx) {
      const head = await (await sdkClient(ctx)).node.head({ signal: ctx.signal });
      ctx.out.result(head, (h) =>
        renderKeyValues({
          height: h.height,
          hash: h.hash,
          time: formatTime(h.timestamp),
          stateRoot: h.stateRoot ?? '-',
        }),
      );
    },
  },
  {
    group: 'chain',
    name: 'block',
    summary: 'show a block by height or hash, with its transactions',
    args: [{ name: 'id', description: 'block height (e.g. 1) or hash (0x… or hex)' }],
    options: [],
    examples: [
      { command: 'aitbc chain block 1', description: 'the first block after genesis' },
      { command: 'aitbc chain block 0x5e1f…', description: 'a block by its hash' },
    ],
    status: 'wired',
    async handler(ctx) {
      const id = arg(ctx, 'id');
      const block = await (await sdkClient(ctx)).node.block(/^[0-9]{1,15}$/.test(id) ? Number(id) : id, {
        signal: ctx.signal,
      });
      ctx.out.result(block, (b) => {
        const head = renderKeyValues({
          height: b.height,
          hash: b.hash,
          time: formatTime(b.header.timestamp),
          round: b.header.round,
          proposer: b.header.proposer,
          parent: b.header.parentHash,
          stateRoot: b.header.stateRoot,
          txs: b.txs.length,
        });
        if (b.txs.length === 0) return head;
        return `${head}\n\n${renderTable(b.txs as unknown as Record<string, unknown>[], [
          { header: 'TX', value: (t) => shortId(String(t.id)) },
          { header: 'TYPE', value: (t) => String(t.type) },
          { header: 'FROM', value: (t) => String(t.from) },
          { header: 'AMOUNT', value: amountOfTx },
        ])}`;
      });
    },
  },
  {
    group: 'chain',
    name: 'tx',
    summary: 'show a transaction (committed or pending) by id',
    args: [{ name: 'id', description: 'transaction id (hex)' }],
    options: [],
    examples: [{ command: 'aitbc chain tx 3f9a…', description: 'where a transaction is and what it did' }],
    status: 'wired',
    async handler(ctx) {
      const tx = await (await sdkClient(ctx)).node.tx(arg(ctx, 'id'), { signal: ctx.signal });
      ctx.out.result(tx, (t) => {
        const o = t as unknown as Record<string, unknown>;
        const shown: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) if (k !== 'signature' && k !== 'publicKey') shown[k] = v;
        if (typeof o.amount === 'string') shown.amount = amountOfTx(o);
        if (typeof o.fee === 'string' && /^[0-9]+$/.test(o.fee)) shown.fee = formatAmount(BigInt(o.fee));
        return renderKeyValues(shown);
      });
    },
  },
  {
    group: 'chain',
    name: 'account',
    summary: 'show an account: balance, nonce, optionally a state proof',
    args: [{ name: 'address', description: 'an ait1… address' }],
    options: [{ name: 'proof', type: 'boolean', description: 'include the state proof against the state root' }],
    examples: [
      { command: 'aitbc chain account ait1qxy…', description: 'balance and nonce' },
      { command: 'aitbc chain account ait1qxy… --proof --json', description: 'with a Merkle proof, for verification' },
    ],
    status: 'wired',
    async handler(ctx) {
      const account = await (await sdkClient(ctx)).node.account(arg(ctx, 'address'), {
        signal: ctx.signal,
        proof: flag(ctx, 'proof'),
      });
      ctx.out.result(account, (a) =>
        renderKeyValues({
          address: a.address,
          balance: formatAmount(BigInt(a.balance)),
          nonce: a.nonce,
          height: a.height,
          stateRoot: a.stateRoot,
          ...(a.proof !== undefined ? { proof: 'included (print it with --json)' } : {}),
        }),
      );
    },
  },
  {
    group: 'chain',
    name: 'validators',
    summary: 'list the validator set with voting power',
    args: [],
    options: [],
    examples: [{ command: 'aitbc chain validators', description: 'who finalizes blocks' }],
    status: 'wired',
    async handler(ctx) {
      const vs = await (await sdkClient(ctx)).node.validators({ signal: ctx.signal });
      ctx.out.table(vs, [
        { header: 'NAME', value: (v) => v.name },
        { header: 'ADDRESS', value: (v) => v.address },
        { header: 'POWER', value: (v) => String(v.power) },
      ]);
    },
  },
  {
    group: 'chain',
    name: 'peers',
    summary: 'list the node’s connected peers',
    args: [],
    options: [],
    examples: [{ command: 'aitbc chain peers', description: 'peers and their scores' }],
    status: 'wired',
    async handler(ctx) {
      const ps = await (await sdkClient(ctx)).node.peers({ signal: ctx.signal });
      ctx.out.table(ps, [
        { header: 'NODE', value: (p) => shortId(p.nodeId) },
        { header: 'ADDRESS', value: (p) => p.address },
        { header: 'DIRECTION', value: (p) => p.direction },
        { header: 'SCORE', value: (p) => String(p.score) },
      ]);
    },
  },
  {
    group: 'chain',
    name: 'sync',
    summary: 'show sync progress; --wait blocks until the node is in sync',
    args: [],
    options: [{ name: 'wait', type: 'boolean', description: 'wait (with a progress line on a terminal) until synced' }],
    examples: [
      { command: 'aitbc chain sync', description: 'is the node caught up?' },
      { command: 'aitbc chain sync --wait --timeout 300', description: 'wait up to 5 minutes for sync' },
    ],
    status: 'wired',
    async handler(ctx) {
      const node = (await sdkClient(ctx)).node;
      let status = await node.syncStatus({ signal: ctx.signal });
      if (flag(ctx, 'wait') && status.syncing) {
        const spin = ctx.out.spinner(`syncing ${status.height}/${status.targetHeight}`);
        try {
          while (status.syncing) {
            await new Promise((r) => setTimeout(r, 500));
            ctx.signal.throwIfAborted();
            status = await node.syncStatus({ signal: ctx.signal });
            spin.update(`syncing ${status.height}/${status.targetHeight}`);
          }
        } finally {
          spin.stop();
        }
      }
      ctx.out.result(status, (s) =>
        renderKeyValues({ syncing: s.syncing, height: s.height, targetHeight: s.targetHeight }),
      );
    },
  },
];
