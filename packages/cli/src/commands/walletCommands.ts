import { readFileSync } from 'node:fs';
import { AitbcError, isAddress } from '@aitbc/crypto';
import type { WalletInfo } from '@aitbc/sdk';
import { formatAmount, parseAmount } from '../amount.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../commandSpec.js';
import { renderKeyValues } from '../output.js';
import { usageError } from '../parseCommandLine.js';
import { sdkClient } from '../sdkClient.js';
import { arg, flag, jsonArgument, stringOption } from './commandHelpers.js';

/** `--passphrase-file <file>`: the wallet passphrase is never taken on the command line itself. */
export const PASSPHRASE_OPTION: OptionSpec = {
  name: 'passphrase-file',
  type: 'string',
  valueName: '<file>',
  complete: 'file',
  description: 'read the wallet passphrase from this file (else $AITBC_PASSPHRASE)',
};

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new AitbcError(
      'CLI_BAD_FILE',
      `cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        details: { hint: 'check the path' },
      },
    );
  }
}

/** The passphrase: `--passphrase-file`, else `AITBC_PASSPHRASE`. Never echoed or logged. */
export function passphrase(ctx: CommandContext): string {
  const file = stringOption(ctx, 'passphrase-file');
  const p = file !== undefined ? readSecretFile(file, 'passphrase') : ctx.io.env.AITBC_PASSPHRASE;
  if (p === undefined || p === '')
    throw usageError(
      'a wallet passphrase is needed',
      'pass --passphrase-file <file> or set AITBC_PASSPHRASE',
      'CLI_USAGE_NO_PASSPHRASE',
    );
  return p;
}

function renderWallet(w: WalletInfo): string {
  return renderKeyValues({
    id: w.id,
    address: w.address,
    publicKey: w.publicKey,
    unlocked: w.unlocked,
    ...(w.balance !== undefined ? { balance: formatAmount(BigInt(w.balance)) } : {}),
    ...(w.nonce !== undefined ? { nonce: w.nonce } : {}),
  });
}

async function session(ctx: CommandContext, id: string): Promise<string> {
  return (
    await (
      await sdkClient(ctx)
    ).wallet.unlock(id, { passphrase: passphrase(ctx), ttlSeconds: 120 }, { signal: ctx.signal })
  ).session;
}

const fromOption: OptionSpec = {
  name: 'from',
  type: 'string',
  valueName: '<wallet-id>',
  required: true,
  description: 'the wallet id (see `aitbc wallet list`)',
};

/** `aitbc wallet …`: keys in the wallet daemon; balances from the node. */
export const WALLET_COMMANDS: readonly CommandSpec[] = [
  {
    group: 'wallet',
    name: 'create',
    summary: 'create a wallet with a fresh mnemonic (shown once)',
    args: [],
    options: [
      PASSPHRASE_OPTION,
      {
        name: 'words',
        type: 'string',
        valueName: '<n>',
        choices: ['12', '24'],
        description: 'mnemonic length (default 24)',
      },
    ],
    examples: [
      {
        command: 'aitbc wallet create --passphrase-file ~/.aitbc/pass',
        description: 'a new wallet; write the mnemonic down',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const words = stringOption(ctx, 'words');
      const r = await (await sdkClient(ctx)).wallet.create(
        { passphrase: passphrase(ctx), ...(words !== undefined ? { words: Number(words) as 12 | 24 } : {}) },
        { signal: ctx.signal },
      );
      ctx.out.result(
        r,
        (x) => `${renderWallet(x.wallet)}${x.mnemonic !== undefined ? `\nmnemonic  ${x.mnemonic}` : ''}`,
      );
      if (r.mnemonic !== undefined)
        ctx.out.note('write the mnemonic down now: it is shown only once and restores the wallet');
    },
  },
  {
    group: 'wallet',
    name: 'import',
    summary: 'import a wallet from a mnemonic or a keystore file',
    args: [],
    options: [
      {
        name: 'mnemonic-file',
        type: 'string',
        valueName: '<file>',
        complete: 'file',
        description: 'a file holding the BIP-39 mnemonic',
      },
      { name: 'keystore', type: 'string', valueName: '<file>', complete: 'file', description: 'a keystore JSON file' },
      PASSPHRASE_OPTION,
    ],
    examples: [
      {
        command: 'aitbc wallet import --mnemonic-file words.txt --passphrase-file pass',
        description: 'restore from a mnemonic',
      },
      {
        command: 'aitbc wallet import --keystore bob.json --passphrase-file pass',
        description: 'import a keystore file',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const mnemonicFile = stringOption(ctx, 'mnemonic-file');
      const keystore = stringOption(ctx, 'keystore');
      if ((mnemonicFile === undefined) === (keystore === undefined))
        throw usageError('wallet import: give --mnemonic-file or --keystore', 'see `aitbc help wallet import`');
      const p = passphrase(ctx);
      const r = await (await sdkClient(ctx)).wallet.create(
        mnemonicFile !== undefined
          ? { passphrase: p, mnemonic: readSecretFile(mnemonicFile, 'mnemonic').trim() }
          : { passphrase: p, keystore: await jsonArgument(ctx, 'keystore', `@${keystore}`) },
        { signal: ctx.signal },
      );
      ctx.out.result(r.wallet, renderWallet);
    },
  },
  {
    group: 'wallet',
    name: 'list',
    summary: 'list the daemon’s wallets and their addresses',
    args: [],
    options: [],
    examples: [{ command: 'aitbc wallet list', description: 'every wallet' }],
    status: 'wired',
    async handler(ctx) {
      const ws = await (await sdkClient(ctx)).wallet.list({ signal: ctx.signal });
      ctx.out.table(ws, [
        { header: 'ID', value: (w) => w.id },
        { header: 'ADDRESS', value: (w) => w.address },
        { header: 'UNLOCKED', value: (w) => (w.unlocked ? 'yes' : 'no') },
      ]);
    },
  },
  {
    group: 'wallet',
    name: 'balance',
    summary: 'show the balance of an address (from the node), in AIT',
    args: [{ name: 'address', description: 'an ait1… address' }],
    options: [],
    examples: [
      { command: 'aitbc wallet balance ait1qxy…', description: 'balance in AIT' },
      {
        command: 'aitbc wallet balance ait1qxy… --json',
        description: '{"address", "balance" (base units), "balance_ait"}',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const address = arg(ctx, 'address');
      const balance = await (await sdkClient(ctx)).node.balance(address, { signal: ctx.signal });
      ctx.out.result(
        { address, balance: balance.toString(), balance_ait: formatAmount(balance, { unit: false }) },
        (b) => renderKeyValues({ address: b.address, balance: formatAmount(balance) }),
      );
    },
  },
  {
    group: 'wallet',
    name: 'send',
    summary: 'send AIT from a wallet to an address and wait for finality',
    args: [
      { name: 'to', description: 'the recipient’s ait1… address' },
      { name: 'amount', description: 'amount: 1.5, 1.5AIT or 1500…base' },
    ],
    options: [
      fromOption,
      PASSPHRASE_OPTION,
      { name: 'fee', type: 'string', valueName: '<amount>', description: 'fee (default: the chain’s minimum fee)' },
      { name: 'no-wait', type: 'boolean', description: 'return once the node accepted the transaction' },
    ],
    examples: [
      {
        command: 'aitbc wallet send ait1qxy… 1.5 --from 5f3c… --passphrase-file pass',
        description: 'send 1.5 AIT and wait until final',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const to = arg(ctx, 'to');
      if (!isAddress(to))
        throw usageError(
          `"${to}" is not an ait1… address`,
          'addresses are checksummed: check for a typo',
          'CLI_BAD_ADDRESS',
        );
      const amount = parseAmount(arg(ctx, 'amount'));
      const feeText = stringOption(ctx, 'fee');
      const id = stringOption(ctx, 'from')!;
      const s = await session(ctx, id);
      const wait = !flag(ctx, 'no-wait');
      const spin = wait ? ctx.out.spinner(`sending ${formatAmount(amount)}: waiting for finality`) : undefined;
      try {
        const r = await (await sdkClient(ctx)).wallet.send(
          id,
          {
            session: s,
            tx: { type: 'transfer', to, amount },
            wait,
            ...(feeText !== undefined ? { fee: parseAmount(feeText) } : {}),
          },
          { signal: ctx.signal },
        );
        spin?.stop();
        ctx.out.result(r, (x) =>
          renderKeyValues({
            tx: x.id,
            status: x.status,
            height: x.height ?? '-',
            nonce: x.nonce,
            fee: formatAmount(BigInt(x.fee)),
          }),
        );
      } finally {
        spin?.stop();
      }
    },
  },
  {
    group: 'wallet',
    name: 'sign',
    summary: 'sign a message (or a login challenge) with a wallet’s key',
    args: [{ name: 'message', description: 'the JSON to sign, @file or -' }],
    options: [
      fromOption,
      PASSPHRASE_OPTION,
      {
        name: 'kind',
        type: 'string',
        valueName: '<kind>',
        choices: ['message', 'login'],
        description: 'signature domain (default message)',
      },
      {
        name: 'chain-id',
        type: 'string',
        valueName: '<id>',
        description: 'chain id bound into the signature (default: the daemon’s)',
      },
    ],
    examples: [
      {
        command: `aitbc wallet sign '{"hello":"world"}' --from 5f3c… --passphrase-file pass`,
        description: 'a signature anyone can verify with the public key',
      },
    ],
    status: 'wired',
    async handler(ctx) {
      const id = stringOption(ctx, 'from')!;
      const message = await jsonArgument(ctx, 'message', arg(ctx, 'message'));
      const kind = stringOption(ctx, 'kind') as 'message' | 'login' | undefined;
      const chainId = stringOption(ctx, 'chain-id');
      const s = await session(ctx, id);
      const sig = await (await sdkClient(ctx)).wallet.sign(
        id,
        { session: s, message, ...(kind !== undefined ? { kind } : {}), ...(chainId !== undefined ? { chainId } : {}) },
        { signal: ctx.signal },
      );
      ctx.out.result(sig, (x) => renderKeyValues({ ...x }));
    },
  },
];
