import { AitbcError } from '@aitbc/crypto';

/**
 * Strict readers for JSON request bodies: each checks one field's type and range and throws
 * `POOL_BAD_REQUEST` naming the field (`details.field`) and what was expected.
 * @internal
 */
export class WireReader {
  readonly #obj: Record<string, unknown>;
  readonly #path: string;

  constructor(value: unknown, path = 'body') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw badField(path, 'an object');
    }
    this.#obj = value as Record<string, unknown>;
    this.#path = path;
  }

  /** Rejects fields not in `allowed` (typos must not pass silently). */
  only(allowed: readonly string[]): this {
    for (const key of Object.keys(this.#obj)) {
      if (!allowed.includes(key))
        throw new AitbcError('POOL_BAD_REQUEST', `unknown field ${this.#field(key)}`, {
          details: { field: this.#field(key) },
        });
    }
    return this;
  }

  has(key: string): boolean {
    return this.#obj[key] !== undefined && this.#obj[key] !== null;
  }

  string(key: string, re: RegExp, what: string): string {
    const v = this.#obj[key];
    if (typeof v !== 'string' || !re.test(v)) throw badField(this.#field(key), what);
    return v;
  }

  int(key: string, min: number, max: number): number {
    const v = this.#obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw badField(this.#field(key), `an integer in [${min}, ${max}]`);
    }
    return v;
  }

  number(key: string, min: number, max: number): number {
    const v = this.#obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw badField(this.#field(key), `a number in [${min}, ${max}]`);
    }
    return v;
  }

  /** A non-negative amount as a decimal string (at most 78 digits). */
  amount(key: string): bigint {
    const v = this.#obj[key];
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v)) {
      throw badField(this.#field(key), 'a decimal string of base units');
    }
    return BigInt(v);
  }

  strings(key: string, re: RegExp, maxItems: number, what: string): string[] {
    const v = this.#obj[key];
    if (!Array.isArray(v) || v.length > maxItems)
      throw badField(this.#field(key), `an array of at most ${maxItems} ${what}`);
    const out: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const s: unknown = v[i];
      if (typeof s !== 'string' || !re.test(s)) throw badField(`${this.#field(key)}[${i}]`, what);
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  objects(key: string, maxItems: number): WireReader[] {
    const v = this.#obj[key];
    if (!Array.isArray(v) || v.length > maxItems)
      throw badField(this.#field(key), `an array of at most ${maxItems} objects`);
    return v.map((item: unknown, i) => new WireReader(item, `${this.#field(key)}[${i}]`));
  }

  object(key: string): WireReader {
    return new WireReader(this.#obj[key], this.#field(key));
  }

  #field(key: string): string {
    return `${this.#path}.${key}`;
  }
}

function badField(field: string, expected: string): AitbcError {
  return new AitbcError('POOL_BAD_REQUEST', `${field} must be ${expected}`, { details: { field, expected } });
}
