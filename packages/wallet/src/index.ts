/**
 * AITBC wallet: encrypted keystore (Argon2id + XChaCha20-Poly1305), mnemonics, signer and wallet daemon.
 * @packageDocumentation
 */
