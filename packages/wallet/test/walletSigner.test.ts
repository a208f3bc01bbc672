import { DEFAULT_PARAMS, txFromJson, verifyTxSignature } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, hexToBytes, verifyMessage } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import { createWalletSigner, MESSAGE_KINDS } from '../src/index.js';

describe('createWalletSigner', () => {
  const { seed, publicKey } = generateKeyPair();
  const to = addressFromPublicKey(generateKeyPair().publicKey);

  it('signs transactions and domain-separated messages that verify, and only as the right kind', () => {
    const signer = createWalletSigner(seed);
    expect(signer.address).toBe(addressFromPublicKey(publicKey));
    const { json, id } = signer.signTx({
      type: 'transfer',
      chainId: 'aitbc-devnet',
      from: signer.address,
      nonce: 0,
      fee: DEFAULT_PARAMS.minFee,
      to,
      amount: 5n,
    });
    const tx = txFromJson(json);
    expect(verifyTxSignature(tx)).toBe(true);
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    const sig = signer.signMessage('login', 'aitbc-devnet', { challenge: 'abc' });
    const bytes = hexToBytes(sig.signature);
    expect(verifyMessage('login', 'aitbc-devnet', { challenge: 'abc' }, bytes, publicKey)).toBe(true);
    expect(verifyMessage('message', 'aitbc-devnet', { challenge: 'abc' }, bytes, publicKey)).toBe(false);
    expect(verifyMessage('login', 'other-chain', { challenge: 'abc' }, bytes, publicKey)).toBe(false);
    expect(MESSAGE_KINDS).toEqual(['message', 'login']);
    for (const kind of ['tx', 'block', 'vote', 'proposal', 'handshake'])
      expect(() => signer.signMessage(kind, 'aitbc-devnet', {})).toThrow(
        expect.objectContaining({ code: 'WALLET_FORBIDDEN_KIND' }),
      );
    expect(() => signer.signMessage('message', 'bad chain id!', {})).toThrow(
      expect.objectContaining({ code: 'WALLET_BAD_PARAMS' }),
    );
  });

  it('keeps its own copy of the seed and refuses to sign after wipe', () => {
    const mine = seed.slice();
    const signer = createWalletSigner(mine);
    mine.fill(0);
    expect(() => signer.signMessage('message', 'aitbc-devnet', 1)).not.toThrow();
    signer.wipe();
    expect(signer.wiped).toBe(true);
    expect(() => signer.signMessage('message', 'aitbc-devnet', 1)).toThrow(
      expect.objectContaining({ code: 'WALLET_LOCKED' }),
    );
    expect(() => createWalletSigner(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'WALLET_BAD_INPUT' }));
  });
});
