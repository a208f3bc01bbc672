import { addressFromPublicKey, bytesToHex, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { attestReceipt, createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountKey,
  applyGenesis,
  DEFAULT_PARAMS,
  encodeAccount,
  executeTx,
  type Genesis,
  genesisFromJson,
  genesisHashHex,
  LedgerState,
  MemoryKVStore,
  SparseMerkleTree,
  signTx,
  type TxBody,
  verifyStateProof,
} from '../src/index.js';

/** A tx body without chain id and fee (the helper fills them in). */
type Body = (TxBody extends infer T ? (T extends unknown ? Omit<T, 'chainId' | 'fee'> : never) : never) & {
  chainId?: string;
  fee?: bigint;
};

const CHAIN = 'aitbc-test';
const AIT = 10n ** 18n;
const FEE = DEFAULT_PARAMS.minFee;

function party() {
  const keys = generateKeyPair();
  return { keys, address: addressFromPublicKey(keys.publicKey) };
}

async function setup(balances: [string, bigint][]) {
  const genesis: Genesis = {
    chainId: CHAIN,
    genesisTime: 1_700_000_000_000,
    validators: [{ publicKey: generateKeyPair().publicKey, power: 1, name: 'v0' }],
    allocations: balances.map(([address, amount]) => ({ address, amount })),
    params: DEFAULT_PARAMS,
  };
  const state = new LedgerState(new SparseMerkleTree(new MemoryKVStore()));
  await applyGenesis(state, genesis);
  await state.flush();
  let height = 1;
  const run = (body: Body, keys: KeyPair, h = height) =>
    executeTx(state, signTx({ chainId: CHAIN, fee: FEE, ...body } as TxBody, keys.seed), {
      chainId: CHAIN,
      height: h,
      params: DEFAULT_PARAMS,
    });
  const setHeight = (h: number) => {
    height = h;
  };
  return { state, genesis, run, setHeight };
}

describe('genesis', () => {
  const v = generateKeyPair();
  const a = party();
  const json = {
    chainId: CHAIN,
    genesisTime: 1,
    validators: [{ publicKey: bytesToHex(v.publicKey), power: 10, name: 'v0' }],
    allocations: [{ address: a.address, amount: '5000' }],
    params: { blockTimeMs: 500, minFee: '10' },
  };

  it('parses, fills defaults and hashes stably', () => {
    const g = genesisFromJson(json);
    expect(g.params).toMatchObject({ blockTimeMs: 500, minFee: 10n, maxBlockTxs: DEFAULT_PARAMS.maxBlockTxs });
    expect(genesisHashHex(g)).toBe(genesisHashHex(genesisFromJson(JSON.parse(JSON.stringify(json)))));
    expect(genesisHashHex(g)).not.toBe(genesisHashHex(genesisFromJson({ ...json, genesisTime: 2 })));
  });

  it.each([
    ['a bad chain id', { chainId: 'has space' }, 'chainId'],
    ['no validators', { validators: [] }, 'validators'],
    ['a duplicate validator', { validators: [json.validators[0], json.validators[0]] }, 'validators[1].publicKey'],
    ['zero power', { validators: [{ ...json.validators[0], power: 0 }] }, 'validators[0].power'],
    ['a bad allocation address', { allocations: [{ address: 'ait1bad', amount: '1' }] }, 'allocations[0].address'],
    ['a negative allocation', { allocations: [{ address: a.address, amount: '-1' }] }, 'allocations[0].amount'],
    ['a zero block time', { params: { blockTimeMs: 0 } }, 'params.blockTimeMs'],
  ])('rejects %s with CHAIN_BAD_GENESIS', (_name, change, field) => {
    expect(() => genesisFromJson({ ...json, ...change })).toThrow(
      expect.objectContaining({ code: 'CHAIN_BAD_GENESIS', details: { field } }),
    );
  });
});

describe('executeTx', () => {
  it('transfers, advances the nonce and burns the fee', async () => {
    const alice = party();
    const bob = party();
    const { state, run } = await setup([[alice.address, 10n * AIT]]);
    await run({ type: 'transfer', from: alice.address, nonce: 0, to: bob.address, amount: 3n * AIT }, alice.keys);
    expect(await state.account(alice.address)).toEqual({ balance: 7n * AIT - FEE, nonce: 1 });
    expect(await state.account(bob.address)).toEqual({ balance: 3n * AIT, nonce: 0 });
    // a transfer to oneself only costs the fee
    await run({ type: 'transfer', from: alice.address, nonce: 1, to: alice.address, amount: AIT }, alice.keys);
    expect(await state.account(alice.address)).toEqual({ balance: 7n * AIT - 2n * FEE, nonce: 2 });
  });

  it('rejects replays, wrong chains, low fees, bad nonces and overdrafts without changing state', async () => {
    const alice = party();
    const bob = party();
    const { state, run } = await setup([[alice.address, AIT]]);
    const body = { type: 'transfer' as const, from: alice.address, nonce: 0, to: bob.address, amount: 1000n };
    await run(body, alice.keys);
    const before = await state.account(alice.address);
    await expect(run(body, alice.keys)).rejects.toMatchObject({
      code: 'CHAIN_BAD_NONCE',
      details: { expected: 1, got: 0 },
    });
    await expect(run({ ...body, nonce: 5 }, alice.keys)).rejects.toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    await expect(run({ ...body, nonce: 1, chainId: 'aitbc-other' }, alice.keys)).rejects.toMatchObject({
      code: 'CHAIN_WRONG_CHAIN',
    });
    await expect(run({ ...body, nonce: 1, fee: FEE - 1n }, alice.keys)).rejects.toMatchObject({
      code: 'CHAIN_FEE_TOO_LOW',
    });
    await expect(run({ ...body, nonce: 1, amount: AIT }, alice.keys)).rejects.toMatchObject({
      code: 'CHAIN_INSUFFICIENT_FUNDS',
    });
    expect(await state.account(alice.address)).toEqual(before);
    expect(await state.account(bob.address)).toEqual({ balance: 1000n, nonce: 0 });
  });

  it('commits accounts to the state root with verifiable proofs', async () => {
    const alice = party();
    const bob = party();
    const { state, run } = await setup([[alice.address, AIT]]);
    await run({ type: 'transfer', from: alice.address, nonce: 0, to: bob.address, amount: 5n }, alice.keys);
    const root = await state.flush();
    for (const p of [alice, bob]) {
      const account = await state.account(p.address);
      const proof = await state.tree.prove(accountKey(p.address));
      expect(verifyStateProof(root, accountKey(p.address), encodeAccount(account), proof)).toBe(true);
    }
    const nobody = party().address;
    expect(verifyStateProof(root, accountKey(nobody), undefined, await state.tree.prove(accountKey(nobody)))).toBe(
      true,
    );
  });
});

describe('escrow', () => {
  async function escrowSetup() {
    const client = party();
    const coordinator = party();
    const miner = party();
    const ctx = await setup([
      [client.address, 10n * AIT],
      [coordinator.address, AIT],
    ]);
    await ctx.run(
      {
        type: 'escrow.lock',
        from: client.address,
        nonce: 0,
        jobId: 'job-1',
        amount: 2n * AIT,
        coordinator: coordinator.address,
        expiresAtHeight: 10,
      },
      client.keys,
    );
    const receipt = (
      price: bigint,
      overrides: Partial<Parameters<typeof createReceipt>[0]> = {},
      attestWith: KeyPair = coordinator.keys,
    ) =>
      serializeReceipt(
        attestReceipt(
          signReceipt(
            createReceipt({
              jobId: 'job-1',
              provider: miner.address,
              client: client.address,
              units: 1n,
              unitType: 'job',
              unitPrice: price,
              startedAt: 0,
              completedAt: 1000,
              chainId: CHAIN,
              ...overrides,
            }),
            miner.keys.seed,
          ),
          attestWith.seed,
        ),
      );
    return { ...ctx, client, coordinator, miner, receipt };
  }

  it('pays the price to the miner, refunds the rest to the client, once', async () => {
    const { state, run, client, coordinator, miner, receipt } = await escrowSetup();
    expect(await state.account(client.address)).toEqual({ balance: 8n * AIT - FEE, nonce: 1 });
    await run(
      { type: 'escrow.settle', from: coordinator.address, nonce: 0, jobId: 'job-1', receipt: receipt(AIT / 2n) },
      coordinator.keys,
    );
    expect(await state.account(miner.address)).toEqual({ balance: AIT / 2n, nonce: 0 });
    expect(await state.account(client.address)).toEqual({ balance: 8n * AIT - FEE + 2n * AIT - AIT / 2n, nonce: 1 });
    expect(await state.escrow('job-1')).toMatchObject({ status: 'settled', paid: AIT / 2n, provider: miner.address });
    await expect(
      run(
        { type: 'escrow.settle', from: coordinator.address, nonce: 1, jobId: 'job-1', receipt: receipt(AIT / 2n) },
        coordinator.keys,
      ),
    ).rejects.toMatchObject({
      code: 'CHAIN_ESCROW_CLOSED',
    });
    await expect(
      run({ type: 'escrow.refund', from: coordinator.address, nonce: 1, jobId: 'job-1' }, coordinator.keys),
    ).rejects.toMatchObject({ code: 'CHAIN_ESCROW_CLOSED' });
  });

  it.each([
    ['a price above the lock', (r: (p: bigint, o?: object) => string) => r(3n * AIT), 'price_exceeds_escrow'],
    ['another job', (r: (p: bigint, o?: object) => string) => r(AIT, { jobId: 'job-2' }), 'job_mismatch'],
    [
      'another client',
      (r: (p: bigint, o?: object) => string) => r(AIT, { client: party().address }),
      'client_mismatch',
    ],
    ['another chain', (r: (p: bigint, o?: object) => string) => r(AIT, { chainId: 'aitbc-other' }), 'chain_mismatch'],
    [
      'a tampered price',
      (r: (p: bigint, o?: object) => string) =>
        r(AIT).replace('"price":"1000000000000000000"', '"price":"1000000000000000001"'),
      undefined,
    ],
  ])('rejects a receipt with %s', async (_name, make, reason) => {
    const { state, run, coordinator, receipt } = await escrowSetup();
    const err = run(
      { type: 'escrow.settle', from: coordinator.address, nonce: 0, jobId: 'job-1', receipt: make(receipt) },
      coordinator.keys,
    );
    await expect(err).rejects.toMatchObject({
      code: 'CHAIN_RECEIPT_INVALID',
      ...(reason ? { details: { reason } } : {}),
    });
    expect((await state.escrow('job-1'))!.status).toBe('locked');
  });

  it('requires the attestation of the coordinator named in the lock', async () => {
    const { run, coordinator, receipt } = await escrowSetup();
    const stranger = party();
    await expect(
      run(
        {
          type: 'escrow.settle',
          from: coordinator.address,
          nonce: 0,
          jobId: 'job-1',
          receipt: receipt(AIT, {}, stranger.keys),
        },
        coordinator.keys,
      ),
    ).rejects.toMatchObject({
      code: 'CHAIN_RECEIPT_INVALID',
    });
  });

  it('lets only the named coordinator settle', async () => {
    const { run, client, receipt } = await escrowSetup();
    await expect(
      run(
        { type: 'escrow.settle', from: client.address, nonce: 1, jobId: 'job-1', receipt: receipt(AIT) },
        client.keys,
      ),
    ).rejects.toMatchObject({
      code: 'CHAIN_NOT_COORDINATOR',
    });
  });

  it('refunds: the client after expiry, the coordinator at any time, nobody else', async () => {
    const { state, run, client, coordinator, setHeight } = await escrowSetup();
    const other = party();
    await expect(
      run({ type: 'escrow.refund', from: client.address, nonce: 1, jobId: 'job-1' }, client.keys, 10),
    ).rejects.toMatchObject({ code: 'CHAIN_ESCROW_NOT_EXPIRED' });
    await expect(
      run({ type: 'escrow.refund', from: other.address, nonce: 0, jobId: 'job-1' }, other.keys),
    ).rejects.toMatchObject({ code: 'CHAIN_NOT_AUTHORIZED' });
    setHeight(11);
    await run({ type: 'escrow.refund', from: client.address, nonce: 1, jobId: 'job-1' }, client.keys);
    expect(await state.account(client.address)).toEqual({ balance: 10n * AIT - 2n * FEE, nonce: 2 });
    expect((await state.escrow('job-1'))!.status).toBe('refunded');
    await run(
      {
        type: 'escrow.lock',
        from: client.address,
        nonce: 2,
        jobId: 'job-2',
        amount: AIT,
        coordinator: coordinator.address,
        expiresAtHeight: 100,
      },
      client.keys,
    );
    await run({ type: 'escrow.refund', from: coordinator.address, nonce: 0, jobId: 'job-2' }, coordinator.keys);
    expect((await state.escrow('job-2'))!.status).toBe('refunded');
    await expect(
      run(
        {
          type: 'escrow.lock',
          from: client.address,
          nonce: 3,
          jobId: 'job-2',
          amount: AIT,
          coordinator: coordinator.address,
          expiresAtHeight: 100,
        },
        client.keys,
      ),
    ).rejects.toMatchObject({
      code: 'CHAIN_ESCROW_EXISTS',
    });
    await expect(
      run({ type: 'escrow.refund', from: client.address, nonce: 3, jobId: 'nope' }, client.keys),
    ).rejects.toMatchObject({ code: 'CHAIN_UNKNOWN_ESCROW' });
  });
});

describe('state transitions (property)', () => {
  it('conserve supply (only fees burn), advance nonces by one, and pay each escrow at most once', async () => {
    const people = [party(), party(), party(), party()];
    const miner = party();
    const op = fc.record({
      kind: fc.constantFrom('transfer', 'lock', 'settle', 'refund'),
      from: fc.integer({ min: 0, max: 3 }),
      to: fc.integer({ min: 0, max: 3 }),
      amount: fc.bigInt({ min: 0n, max: 4n * AIT }),
      job: fc.integer({ min: 0, max: 3 }),
      price: fc.bigInt({ min: 0n, max: 2n * AIT }),
      height: fc.integer({ min: 1, max: 30 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const initial = 5n * AIT;
        const { state, run } = await setup(people.map((p) => [p.address, initial] as [string, bigint]));
        const nonces = people.map(() => 0);
        let burned = 0n;
        const paidOut = new Map<string, bigint>();
        for (const o of ops) {
          const from = people[o.from]!;
          const jobId = `job-${o.job}`;
          const base = { from: from.address, nonce: nonces[o.from]! };
          let body: Body;
          if (o.kind === 'transfer') body = { ...base, type: 'transfer', to: people[o.to]!.address, amount: o.amount };
          else if (o.kind === 'lock')
            body = {
              ...base,
              type: 'escrow.lock',
              jobId,
              amount: o.amount + 1n,
              coordinator: people[o.to]!.address,
              expiresAtHeight: 15,
            };
          else if (o.kind === 'refund') body = { ...base, type: 'escrow.refund', jobId };
          else {
            const escrow = await state.escrow(jobId);
            const r = serializeReceipt(
              attestReceipt(
                signReceipt(
                  createReceipt({
                    jobId,
                    provider: miner.address,
                    client: escrow?.client ?? from.address,
                    units: 1n,
                    unitType: 'job',
                    unitPrice: o.price,
                    startedAt: 0,
                    completedAt: 1,
                    chainId: CHAIN,
                  }),
                  miner.keys.seed,
                ),
                from.keys.seed,
              ),
            );
            body = { ...base, type: 'escrow.settle', jobId, receipt: r };
          }
          try {
            const out = await run(body, from.keys, o.height);
            burned += out.burned;
            nonces[o.from]! += 1;
            if (o.kind === 'settle') paidOut.set(jobId, (paidOut.get(jobId) ?? 0n) + o.price);
          } catch (e) {
            expect((e as { name?: string }).name).toBe('AitbcError');
          }
          for (const [i, p] of people.entries()) expect((await state.account(p.address)).nonce).toBe(nonces[i]);
        }
        let total = (await state.account(miner.address)).balance;
        for (const p of people) total += (await state.account(p.address)).balance;
        for (let j = 0; j <= 3; j++) {
          const e = await state.escrow(`job-${j}`);
          if (e?.status === 'locked') total += e.amount;
          if (e !== undefined) expect(paidOut.get(`job-${j}`) ?? 0n).toBeLessThanOrEqual(e.amount);
        }
        expect(total + burned).toBe(initial * BigInt(people.length));
      }),
      { numRuns: 40 },
    );
  });
});
