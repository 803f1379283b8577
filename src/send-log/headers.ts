/**
 * The few header fields a record takes from a message given as `raw` (the bridge forwards
 * devices' messages that way): read from the header section only, never the body.
 */
export interface RawHeaderFacts {
  messageId?: string;
  /** Decoded (RFC 2047 encoded-words, e.g. a Japanese scanner's ISO-2022-JP subject). */
  subject?: string;
}

/** Headers beyond this are not looked at: a header section is a few kB. */
const HEADER_SCAN_BYTES = 65_536;

export function readRawHeaders(raw: Buffer | string, wantSubject: boolean): RawHeaderFacts {
  const bytes = typeof raw === 'string' ? Buffer.from(raw.slice(0, HEADER_SCAN_BYTES)) : raw.subarray(0, HEADER_SCAN_BYTES);
  // 8-bit header text (SMTPUTF8) is UTF-8; anything else in raw headers is ASCII.
  const head = bytes.toString('utf8');
  const end = head.search(/\r?\n\r?\n/);
  // Folded lines (RFC 5322 §2.2.3) joined back into one.
  const header = (end === -1 ? head : head.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const facts: RawHeaderFacts = {};
  const id = /^message-id:[ \t]*(<[^<>\s]{1,250}>)/im.exec(header);
  if (id?.[1]) facts.messageId = id[1];
  if (wantSubject) {
    const subject = /^subject:[ \t]*(.*)$/im.exec(header);
    if (subject?.[1] !== undefined) facts.subject = decodeEncodedWords(subject[1].trim());
  }
  return facts;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/**
 * Decodes RFC 2047 encoded-words. Adjacent words of one charset are decoded together, since
 * mailers split a multi-byte character (or an ISO-2022-JP escape sequence) across words; the
 * white space between adjacent words is dropped (RFC 2047 §6.2). A word in a charset this Node
 * cannot decode stays as it is.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  let out = '';
  let last = 0;
  let run: { charset: string; parts: Buffer[]; source: string } | undefined;
  const flush = (): void => {
    if (!run) return;
    out += decodeBytes(Buffer.concat(run.parts), run.charset) ?? run.source;
    run = undefined;
  };
  for (const match of text.matchAll(ENCODED_WORD)) {
    const [word, rawCharset = '', encoding = '', payload = ''] = match;
    const between = text.slice(last, match.index);
    // RFC 2231 §5: a language after `*` is not part of the charset.
    const charset = rawCharset.split('*')[0]!.toLowerCase();
    const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(payload, 'base64') : decodeQ(payload);
    if (run && /^[ \t]*$/.test(between) && run.charset === charset) {
      run.parts.push(bytes);
      run.source += between + word;
    } else {
      flush();
      out += between;
      run = { charset, parts: [bytes], source: word };
    }
    last = match.index + word.length;
  }
  flush();
  return out + text.slice(last);
}

function decodeQ(payload: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < payload.length; i++) {
    const char = payload[i]!;
    if (char === '_') bytes.push(0x20);
    else if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(payload.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(payload.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(char.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

function decodeBytes(bytes: Buffer, charset: string): string | undefined {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return undefined;
  }
}
