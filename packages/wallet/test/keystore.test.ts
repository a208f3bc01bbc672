import { addressFromPublicKey, bytesToHex, generateKeyPair, hexToBytes, utf8ToBytes } from '@aitbc/crypto';
import { describe, expect, it } from 'vitest';
import {
  changePassphrase,
  createKeystore,
  DEFAULT_KDF,
  deriveKey,
  type Keystore,
  MIN_KDF,
  open,
  seal,
  unlockKeystore,
} from '../src/index.js';

const FAST = MIN_KDF;

describe('known answers through our wrappers', () => {
  it('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 §A.3.1', () => {
    const key = hexToBytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hexToBytes('404142434445464748494a4b4c4d4e4f5051525354555657');
    const aad = hexToBytes('50515253c0c1c2c3c4c5c6c7');
    const plaintext = utf8ToBytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const expected =
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49';
    const sealed = seal(key, nonce, plaintext, aad);
    expect(bytesToHex(sealed)).toBe(expected);
    expect(open(key, nonce, sealed, aad)).toEqual(plaintext);
    expect(open(key, nonce, sealed, hexToBytes('50515253c0c1c2c3c4c5c6c8'))).toBeUndefined();
  });

  it('Argon2id v19: the reference implementation’s vector (password/somesalt, t=2, m=64 MiB, p=1)', async () => {
    // RFC 9106 §5.3's vector needs associated data, which hash-wasm's argon2id does not take; this is
    // the argon2id v=19 vector of the phc-winner-argon2 reference test suite (no secret, no AD).
    const out = await deriveKey('password', utf8ToBytes('somesalt'), { m: 65_536, t: 2, p: 1 });
    expect(bytesToHex(out)).toBe('09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7');
  });
});

describe('keystore', () => {
  const kp = generateKeyPair();

  it('round-trips with the default parameters (≈0.3 s by design)', async () => {
    const file = await createKeystore(kp.seed, 'correct horse battery staple');
    expect(file.kdf).toMatchObject({ name: 'argon2id', ...DEFAULT_KDF });
    expect(file.address).toBe(addressFromPublicKey(kp.publicKey));
    const unlocked = await unlockKeystore(JSON.stringify(file), 'correct horse battery staple');
    expect(unlocked.seed).toEqual(kp.seed);
    expect(unlocked.upgraded).toBeUndefined();
  });

  it('uses a fresh salt and nonce for every file', async () => {
    const a = await createKeystore(kp.seed, 'pw', { kdf: FAST });
    const b = await createKeystore(kp.seed, 'pw', { kdf: FAST });
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.cipher.nonce).not.toBe(b.cipher.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('tells a wrong passphrase from a tampered file, and never names the byte', async () => {
    const file = await createKeystore(kp.seed, 'right', { kdf: FAST });
    await expect(unlockKeystore(file, 'wrong')).rejects.toMatchObject({ code: 'WALLET_WRONG_PASSPHRASE' });
    const other = generateKeyPair();
    const swaps: Partial<Keystore>[] = [
      { address: addressFromPublicKey(other.publicKey) },
      { publicKey: bytesToHex(other.publicKey) },
      { id: '00'.repeat(16) },
      {
        cipher: {
          ...file.cipher,
          nonce: `${file.cipher.nonce.slice(0, -2)}${file.cipher.nonce.endsWith('00') ? '01' : '00'}`,
        },
      },
      { ciphertext: `${file.ciphertext.slice(0, -2)}${file.ciphertext.endsWith('00') ? '01' : '00'}` },
    ];
    for (const swap of swaps) {
      const err = await unlockKeystore({ ...file, ...swap } as Keystore, 'right', { upgrade: false }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'WALLET_TAMPERED', message: 'the keystore was modified after it was written' });
    }
    // changing the KDF parameters or salt changes the derived key: reported as a wrong passphrase
    await expect(
      unlockKeystore({ ...file, kdf: { ...file.kdf, t: 2 } }, 'right', { upgrade: false }),
    ).rejects.toMatchObject({ code: 'WALLET_WRONG_PASSPHRASE' });
  });

  it('names truncated, malformed and unsupported files', async () => {
    const file = await createKeystore(kp.seed, 'pw', { kdf: FAST });
    const text = JSON.stringify(file);
    await expect(unlockKeystore(text.slice(0, text.length - 20), 'pw')).rejects.toMatchObject({
      code: 'WALLET_TRUNCATED',
    });
    await expect(unlockKeystore({ ...file, ciphertext: file.ciphertext.slice(0, 40) }, 'pw')).rejects.toMatchObject({
      code: 'WALLET_TRUNCATED',
    });
    await expect(unlockKeystore({ ...file, version: 2 } as unknown as Keystore, 'pw')).rejects.toMatchObject({
      code: 'WALLET_UNSUPPORTED_VERSION',
    });
    await expect(
      unlockKeystore({ ...file, kdf: { ...file.kdf, name: 'scrypt' } } as unknown as Keystore, 'pw'),
    ).rejects.toMatchObject({ code: 'WALLET_MALFORMED' });
    await expect(unlockKeystore({ ...file, kdf: { ...file.kdf, m: 1 } }, 'pw')).rejects.toMatchObject({
      code: 'WALLET_BAD_KDF',
    });
  });

  it('re-encrypts files below the default parameters on unlock, unless told not to', async () => {
    const weak = await createKeystore(kp.seed, 'pw', { kdf: FAST });
    const { upgraded } = await unlockKeystore(weak, 'pw');
    expect(upgraded!.kdf).toMatchObject(DEFAULT_KDF);
    expect((await unlockKeystore(upgraded!, 'pw')).seed).toEqual(kp.seed);
    expect((await unlockKeystore(weak, 'pw', { upgrade: false })).upgraded).toBeUndefined();
  });

  it('changes the passphrase', async () => {
    const file = await createKeystore(kp.seed, 'old', { kdf: FAST });
    const changed = await changePassphrase(file, 'old', 'new', { kdf: FAST });
    await expect(unlockKeystore(changed, 'old', { upgrade: false })).rejects.toMatchObject({
      code: 'WALLET_WRONG_PASSPHRASE',
    });
    expect((await unlockKeystore(changed, 'new', { upgrade: false })).seed).toEqual(kp.seed);
  });

  it('refuses bad input', async () => {
    await expect(createKeystore(new Uint8Array(31), 'pw', { kdf: FAST })).rejects.toMatchObject({
      code: 'WALLET_BAD_INPUT',
    });
    await expect(createKeystore(kp.seed, '', { kdf: FAST })).rejects.toMatchObject({ code: 'WALLET_BAD_INPUT' });
    await expect(createKeystore(kp.seed, 'pw', { kdf: { m: 1024, t: 1, p: 1 } })).rejects.toMatchObject({
      code: 'WALLET_BAD_KDF',
    });
  });
});
