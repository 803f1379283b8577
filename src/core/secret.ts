import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Holds a secret (password, token, private key) so that it cannot leak by accident: every way
 * an object is turned into text (`String()`, template literals, `JSON.stringify`,
 * `util.inspect`, console.log) shows `[redacted]`. The value comes out only through
 * `reveal()`, at the point of use.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
