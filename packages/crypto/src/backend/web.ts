import { nobleBackend } from './noble.js';
import type { CryptoBackend } from './types.js';

export { nobleBackend } from './noble.js';

/** The backend this entry point uses (browsers and other non-Node runtimes). */
export const backend: CryptoBackend = nobleBackend;
