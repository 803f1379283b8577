import addressparser from 'nodemailer/lib/addressparser';

// Longer From/Sender fields are not read whole: such a field counts as not allowed.
const FIELD_CAP = 64 * 1024;
const LF = 0x0a;

/** The header fields of a message the bridge needs, read as the message streams past. */
export interface MessageHeaders {
  /** Each From field's value, unfolded; `undefined` for one longer than the bridge reads. */
  from: Array<string | undefined>;
  sender: Array<string | undefined>;
  messageId?: string;
}

/**
 * Reads the header section of a message chunk by chunk, keeping only the From, Sender and
 * Message-ID fields (each bounded), so that a message of any size costs a few kilobytes here.
 */
export class HeaderReader {
  readonly headers: MessageHeaders = { from: [], sender: [] };
  #done = false;
  /** The current physical line: its first bytes (up to the cap) and its length. */
  #line: Buffer[] = [];
  #lineKept = 0;
  #lineLength = 0;
  /** The current field (a line and its continuation lines), up to the cap. */
  #field: Buffer[] = [];
  #fieldKept = 0;
  #fieldCut = false;

  /** True once the blank line that ends the header section went past. */
  get done(): boolean {
    return this.#done;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.#done && start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      this.#keepLine(chunk.subarray(start, end));
      if (lf === -1) return;
      this.#endLine();
      start = end;
    }
  }

  /** The message ended; a message without a blank line is all header. */
  end(): void {
    if (this.#done) return;
    if (this.#lineLength > 0) this.#endLine();
    this.#endField();
    this.#done = true;
  }

  #keepLine(part: Buffer): void {
    this.#lineLength += part.length;
    const room = FIELD_CAP + 2 - this.#lineKept;
    if (room <= 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    // A copy: the chunk's memory belongs to the stream.
    this.#line.push(Buffer.from(kept));
    this.#lineKept += kept.length;
  }

  #endLine(): void {
    const line = Buffer.concat(this.#line);
    const length = this.#lineLength;
    this.#line = [];
    this.#lineKept = 0;
    this.#lineLength = 0;
    if (length <= 2 && (line.toString('latin1') === '\r\n' || line.toString('latin1') === '\n')) {
      this.#endField();
      this.#done = true;
      return;
    }
    // RFC 5322 section 2.2.3: a line that starts with white space continues the field.
    const continues = line[0] === 0x20 || line[0] === 0x09;
    if (!continues) this.#endField();
    if (length > line.length) this.#fieldCut = true;
    const room = FIELD_CAP - this.#fieldKept;
    if (line.length > room) this.#fieldCut = true;
    if (room > 0) {
      const kept = line.subarray(0, room);
      this.#field.push(kept);
      this.#fieldKept += kept.length;
    }
  }

  #endField(): void {
    if (this.#field.length === 0) return;
    const text = Buffer.concat(this.#field).toString('utf8');
    const cut = this.#fieldCut;
    this.#field = [];
    this.#fieldKept = 0;
    this.#fieldCut = false;
    const colon = text.indexOf(':');
    if (colon <= 0) return;
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).replace(/\r?\n/g, '');
    if (name === 'from' || name === 'sender') this.headers[name].push(cut ? undefined : value);
    else if (name === 'message-id' && this.headers.messageId === undefined) {
      const id = /^[ \t]*(<[^<>\s]{1,250}>)/.exec(value)?.[1];
      if (id) this.headers.messageId = id;
    }
  }
}

/**
 * The addresses of a From or Sender field's value (RFC 5322 mailbox lists, groups flattened);
 * `undefined` when a mailbox in it has no address the bridge can read.
 */
export function headerAddresses(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = addressparser(value, { flatten: true });
  if (list.length === 0 || list.some((a) => !a.address)) return undefined;
  return list.map((a) => a.address);
}
