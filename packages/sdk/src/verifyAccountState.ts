import {
  accountKey,
  type BlockHeader,
  blockHash,
  commitFromJson,
  createValidatorSet,
  encodeAccount,
  headerFromJson,
  stateProofFromJson,
  type ValidatorSet,
  verifyStateProof,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import { AitbcError, bytesEqual, hexToBytes, isAitbcError } from '@aitbc/crypto';
import { type CallOptions, sleep } from './httpTransport.js';
import type { NodeAccount, NodeApi, NodeBlock } from './nodeApi.js';

/**
 * A validator the caller trusts (pinned from genesis or an earlier verified set).
 *
 * @example
 * ```ts
 * import type { TrustedValidator } from '@aitbc/sdk';
 * const pinned: TrustedValidator[] = [{ publicKey: 'a1b2…', power: 1, name: 'v0' }]; // from genesis.json
 * const account = await client.verifyAccount('ait1…', { validators: pinned });
 * ```
 */
export interface TrustedValidator {
  /** Ed25519 public key: 32 bytes, or hex. */
  readonly publicKey: Uint8Array | string;
  readonly power: number;
  readonly name: string;
}

/**
 * An account whose state was proven against a finalized header.
 *
 * @example
 * ```ts
 * const { balance, nonce, height, signedPower, totalPower } = await client.verifyAccount('ait1…', { validators });
 * console.log(`${balance} at height ${height}, signed by ${signedPower}/${totalPower}`);
 * ```
 */
export interface VerifiedAccount {
  readonly address: string;
  readonly balance: bigint;
  readonly nonce: number;
  /** The header the proof was checked against. */
  readonly height: number;
  readonly header: BlockHeader;
  /** Voting power that signed the header's commit, and the set's total. */
  readonly signedPower: number;
  readonly totalPower: number;
}

/**
 * Options of {@link verifyAccountState}.
 *
 * @example
 * ```ts
 * import type { VerifyAccountOptions } from '@aitbc/sdk';
 * const options: VerifyAccountOptions = { validators: pinned, commitWaitMs: 10_000, signal };
 * const account = await client.verifyAccount('ait1…', options);
 * ```
 */
export interface VerifyAccountOptions extends CallOptions {
  /** The validator set the caller trusts; the header's `validatorsHash` must be this set's hash. */
  readonly validators: readonly TrustedValidator[] | ValidatorSet;
  /**
   * How long to wait for the commit of the proven header (default 30 000 ms): read from
   * `GET /rpc/commit/{height}` when the node serves it (then at once, the head included), else from
   * the next block's `lastCommit`, which may take a block interval to appear.
   */
  readonly commitWaitMs?: number;
}

function fail(code: string, message: string, details: Record<string, unknown>, cause?: unknown): AitbcError {
  return new AitbcError(code, message, { details, ...(cause !== undefined ? { cause } : {}) });
}

/**
 * Builds a validator set from pinned validators (keys as bytes or hex).
 *
 * @example
 * ```ts
 * import { trustedValidatorSet } from '@aitbc/sdk';
 * const set = trustedValidatorSet(genesisJson.validators); // hex keys are accepted
 * console.log(set.totalPower, set.validators.map((v) => v.address));
 * ```
 */
export function trustedValidatorSet(validators: readonly TrustedValidator[] | ValidatorSet): ValidatorSet {
  if (!Array.isArray(validators)) return validators as ValidatorSet;
  return createValidatorSet(
    (validators as readonly TrustedValidator[]).map((v) => ({
      publicKey: typeof v.publicKey === 'string' ? hexToBytes(v.publicKey, 32) : v.publicKey,
      power: v.power,
      name: v.name,
    })),
  );
}

/**
 * Checks that `block.header` is final under the trusted validator set, using `commit` (the
 * `lastCommit` of the next block): the header names the set (`validatorsHash`), the commit is for
 * this header's hash, and its precommits verify from distinct validators holding more than 2/3 of
 * the power (consensus-poa's commit rule, which is browser-safe: crypto + chain-core only).
 * @throws AitbcError `SDK_PROOF_INVALID` with `details.reason` (and the consensus error as `cause`).
 *
 * @example
 * ```ts
 * import { trustedValidatorSet, verifyFinalHeader } from '@aitbc/sdk';
 * const block = await client.node.block(42);
 * const { header, signedPower } = verifyFinalHeader(block.header, await client.node.commit(42), trustedValidatorSet(pinned));
 * ```
 */
export function verifyFinalHeader(
  headerJson: unknown,
  commitJson: unknown,
  set: ValidatorSet,
): { header: BlockHeader; signedPower: number } {
  let header: BlockHeader;
  try {
    header = headerFromJson(headerJson);
  } catch (cause) {
    throw fail('SDK_PROOF_INVALID', 'the header is malformed', { reason: 'header_malformed' }, cause);
  }
  if (!bytesEqual(header.validatorsHash, set.hash))
    throw fail('SDK_PROOF_INVALID', 'the header names a validator set other than the trusted one', {
      reason: 'validators_mismatch',
      height: header.height,
    });
  let commit: ReturnType<typeof commitFromJson>;
  try {
    commit = commitFromJson(commitJson);
  } catch (cause) {
    throw fail('SDK_PROOF_INVALID', 'the commit is malformed', { reason: 'commit_malformed' }, cause);
  }
  if (commit.height !== header.height || !bytesEqual(commit.blockHash, blockHash(header)))
    throw fail('SDK_PROOF_INVALID', 'the commit is not for this header', {
      reason: 'commit_mismatch',
      height: header.height,
    });
  try {
    createPoaConsensus().verifyCommit(header.chainId, commit, set);
  } catch (cause) {
    throw fail(
      'SDK_PROOF_INVALID',
      'the commit does not finalize the header',
      { reason: isAitbcError(cause) ? cause.code : 'commit_invalid', height: header.height },
      cause,
    );
  }
  let signedPower = 0;
  for (const s of commit.signatures) signedPower += set.byAddress(s.validator)?.power ?? 0;
  return { header, signedPower };
}

/**
 * Checks a claimed account state (`balance`, `nonce`) against `stateRoot` with the node's proof.
 * @throws AitbcError `SDK_PROOF_INVALID` (`reason: account_proof_invalid`).
 *
 * @example
 * ```ts
 * import { verifyAccountProof } from '@aitbc/sdk';
 * const account = await client.node.account('ait1…', { proof: true });
 * const { balance, nonce } = verifyAccountProof(header.stateRoot, account); // header from verifyFinalHeader
 * ```
 */
export function verifyAccountProof(stateRoot: Uint8Array, account: NodeAccount): { balance: bigint; nonce: number } {
  if (account.proof === undefined)
    throw fail('SDK_PROOF_INVALID', 'the node sent no proof', { reason: 'proof_missing' });
  let balance: bigint;
  try {
    if (!/^(0|[1-9][0-9]{0,77})$/.test(account.balance) || !Number.isSafeInteger(account.nonce)) throw new Error();
    balance = BigInt(account.balance);
  } catch {
    throw fail('SDK_PROOF_INVALID', 'the account state is malformed', { reason: 'account_malformed' });
  }
  let proof: ReturnType<typeof stateProofFromJson>;
  try {
    proof = stateProofFromJson(account.proof);
  } catch (cause) {
    throw fail('SDK_PROOF_INVALID', 'the proof is malformed', { reason: 'proof_malformed' }, cause);
  }
  const key = accountKey(account.address);
  const claimed = { balance, nonce: account.nonce };
  const present = verifyStateProof(stateRoot, key, encodeAccount(claimed), proof);
  // An account never touched is absent from the tree: its (0, 0) state is proven by non-membership.
  const absent =
    !present && balance === 0n && account.nonce === 0 && verifyStateProof(stateRoot, key, undefined, proof);
  if (!present && !absent)
    throw fail('SDK_PROOF_INVALID', 'the account proof does not match the state root', {
      reason: 'account_proof_invalid',
      address: account.address,
    });
  return claimed;
}

/**
 * Light-client read of an account: fetches the account with its state proof, the block at the
 * proof's height and its commit (`GET /rpc/commit/{height}`, or on a node without that route the
 * next block's `lastCommit`), checks that
 * the header is final under the pinned validator set (> 2/3 of the power signed), then checks the
 * proof against `header.stateRoot`. Nothing the node says is trusted except through these checks.
 *
 * @throws AitbcError `SDK_PROOF_INVALID` (with `details.reason`), `SDK_TIMEOUT` when the next block
 *   does not come within `commitWaitMs`, or the node's `ApiError`s.
 *
 * @example
 * ```ts
 * import { verifyAccountState } from '@aitbc/sdk';
 * const account = await verifyAccountState(client.node, 'ait1…', { validators: pinned });
 * console.log(account.balance, account.height);
 * ```
 */
export async function verifyAccountState(
  node: NodeApi,
  address: string,
  options: VerifyAccountOptions,
): Promise<VerifiedAccount> {
  const set = trustedValidatorSet(options.validators);
  const { validators: _v, commitWaitMs = 30_000, ...call } = options;
  for (let attempt = 0; ; attempt++) {
    const account = await node.account(address, { ...call, proof: true });
    const block = await node.block(account.height, call);
    if (block.header.stateRoot.replace(/^0x/, '') !== account.stateRoot.replace(/^0x/, '')) {
      // The head moved between the two reads: read again (bounded).
      if (attempt < 3) continue;
      throw fail('SDK_PROOF_INVALID', "the account's state root is not the header's", {
        reason: 'state_root_mismatch',
        height: account.height,
      });
    }
    const commit = await commitOf(node, account.height, commitWaitMs, call);
    const { header, signedPower } = verifyFinalHeader(block.header, commit, set);
    const state = verifyAccountProof(header.stateRoot, account);
    return {
      address,
      ...state,
      height: header.height,
      header,
      signedPower,
      totalPower: set.totalPower,
    };
  }
}

/**
 * The commit of `height`: `GET /rpc/commit/{height}` when the node serves it, else (a node without
 * the route, or a commit it does not have) the next block's `lastCommit`. Either way the commit is
 * only data here: {@link verifyFinalHeader} checks it.
 */
async function commitOf(node: NodeApi, height: number, waitMs: number, call: CallOptions): Promise<unknown> {
  try {
    return await node.commit(height, call);
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const fallBack =
      isAitbcError(err, 'RPC_NOT_FOUND') ||
      isAitbcError(err, 'RPC_METHOD_NOT_FOUND') ||
      (isAitbcError(err, 'SDK_HTTP_ERROR') && (status === 404 || status === 405 || status === 501));
    if (!fallBack) throw err;
  }
  return (await waitForBlock(node, height + 1, waitMs, call)).lastCommit;
}

async function waitForBlock(node: NodeApi, height: number, waitMs: number, call: CallOptions): Promise<NodeBlock> {
  const end = Date.now() + waitMs;
  let interval = 50;
  for (;;) {
    try {
      return await node.block(height, call);
    } catch (err) {
      if (!isAitbcError(err, 'RPC_NOT_FOUND')) throw err;
    }
    if (Date.now() + interval > end)
      throw new AitbcError(
        'SDK_TIMEOUT',
        `block ${height} (which carries the commit) did not come within ${waitMs} ms`,
        {
          details: { height, waitMs },
        },
      );
    await sleep(interval, call.signal);
    interval = Math.min(1_000, interval * 2);
  }
}
