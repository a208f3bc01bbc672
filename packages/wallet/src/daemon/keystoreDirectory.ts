import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AitbcError, bytesToHex, randomBytes } from '@aitbc/crypto';

const NAME_RE = /^[0-9a-f]{32}\.json$/;

/**
 * Writes `data` to `path` so that a crash leaves either the old file or the new one, never half of
 * one: write a fresh temporary file (mode 0600, `wx`), fsync it, rename it over `path`, fsync the
 * directory.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from '@aitbc/wallet/daemon';
 * await writeFileAtomic(dataDir, 'api-token', `${token}\n`); // mode 0600; old or new file after a crash, never half
 * ```
 */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `.${name}.${bytesToHex(randomBytes(6))}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const bytes = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Keystore files on disk: one `<id>.json` (mode 0600) per wallet in a directory of mode 0700, every
 * write atomic ({@link writeFileAtomic}). Temporary files left by a crash are removed on open.
 *
 * @example
 * ```ts
 * import { KeystoreDirectory } from '@aitbc/wallet/daemon';
 * const dir = new KeystoreDirectory('./.aitbc/wallet/keystores');
 * await dir.open(); // creates it 0700, removes leftovers of crashed writes
 * await dir.write(keystore.id, JSON.stringify(keystore));
 * for (const [id, json] of await dir.readAll()) console.log(id, json.length);
 * ```
 */
export class KeystoreDirectory {
  readonly #dir: string;

  /** Construction does no I/O; call {@link KeystoreDirectory.open}. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The directory path. */
  get path(): string {
    return this.#dir;
  }

  /** Creates the directory (0700), tightens modes of what is there and removes leftovers of crashed writes. */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await chmod(this.#dir, 0o700);
    for (const name of await readdir(this.#dir)) {
      if (name.endsWith('.tmp')) await rm(join(this.#dir, name), { force: true });
      else if (NAME_RE.test(name)) await chmod(join(this.#dir, name), 0o600);
    }
    fsyncDir(this.#dir);
  }

  /** Every stored keystore as `[id, JSON text]`. */
  async readAll(): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const name of (await readdir(this.#dir)).sort()) {
      if (!NAME_RE.test(name)) continue;
      out.push([name.slice(0, 32), await readFile(join(this.#dir, name), 'utf8')]);
    }
    return out;
  }

  /** Writes (or replaces) the keystore of `id` atomically. @throws AitbcError `WALLET_BAD_INPUT` for a bad id. */
  async write(id: string, json: string): Promise<void> {
    const name = `${id}.json`;
    if (!NAME_RE.test(name)) throw new AitbcError('WALLET_BAD_INPUT', 'a wallet id is 32 lowercase hex digits');
    await writeFileAtomic(this.#dir, name, json);
  }

  /** The mode bits of a stored file (for checks). */
  async modeOf(id: string): Promise<number> {
    return (await stat(join(this.#dir, `${id}.json`))).mode & 0o777;
  }
}
