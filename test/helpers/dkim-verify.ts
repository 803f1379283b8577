import { createHash, createVerify, type KeyObject } from 'node:crypto';

/** What verifying a message's first DKIM-Signature found. */
export interface DkimVerification {
  /** The body hash matched and the signature verified with `publicKey`. */
  valid: boolean;
  bodyHashMatches: boolean;
  tags: Record<string, string>;
}

interface Header {
  name: string;
  /** The whole field as it arrived, folding included, without its final CRLF. */
  raw: string;
}

function splitMessage(raw: Buffer): { headers: Header[]; body: string } {
  const text = raw.toString('binary');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const headers: Header[] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers.at(-1)!.raw += `\r\n${line}`;
    else headers.push({ name: line.slice(0, line.indexOf(':')).trim(), raw: line });
  }
  return { headers, body };
}

/** RFC 6376 §3.4.4 (relaxed) and §3.4.3 (simple) body canonicalization. */
function canonicalBody(body: string, relaxed: boolean): string {
  let lines = body.split('\r\n');
  if (relaxed) lines = lines.map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines.length === 0 ? (relaxed ? '' : '\r\n') : `${lines.join('\r\n')}\r\n`;
}

/** RFC 6376 §3.4.2 (relaxed) and §3.4.1 (simple) header canonicalization. */
function canonicalHeader(header: Header, relaxed: boolean): string {
  if (!relaxed) return header.raw;
  const colon = header.raw.indexOf(':');
  const value = header.raw
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${header.name.toLowerCase()}:${value}`;
}

/**
 * Verifies the first DKIM-Signature of a raw message (rsa-sha256) with a known public key, per
 * RFC 6376 §3.7, independently of nodemailer's signer: the test's own check that the message
 * a server received is signed.
 */
export function verifyDkim(raw: Buffer, publicKey: KeyObject): DkimVerification {
  const { headers, body } = splitMessage(raw);
  const signature = headers.find((h) => h.name.toLowerCase() === 'dkim-signature');
  if (!signature) return { valid: false, bodyHashMatches: false, tags: {} };
  const tags: Record<string, string> = {};
  for (const part of signature.raw.slice(signature.raw.indexOf(':') + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags[part.slice(0, eq).trim()] = part.slice(eq + 1).replace(/\s+/g, '');
  }
  const [headerMode, bodyMode = 'simple'] = (tags.c ?? 'simple/simple').split('/');
  const bodyHash = createHash('sha256')
    .update(canonicalBody(body, bodyMode === 'relaxed'), 'binary')
    .digest('base64');
  const bodyHashMatches = bodyHash === tags.bh;

  const relaxed = headerMode === 'relaxed';
  const used = new Set<Header>();
  let data = '';
  for (const name of (tags.h ?? '').split(':')) {
    // §5.4.2: instances are taken from the bottom up; a name with no instance left signs nothing.
    const match = [...headers].reverse().find((h) => h.name.toLowerCase() === name.toLowerCase() && !used.has(h) && h !== signature);
    if (!match) continue;
    used.add(match);
    data += `${canonicalHeader(match, relaxed)}\r\n`;
  }
  const withoutB = { name: signature.name, raw: signature.raw.replace(/(;\s*b=)[^;]*/, '$1') };
  data += canonicalHeader(withoutB, relaxed);
  const valid =
    bodyHashMatches &&
    createVerify('RSA-SHA256')
      .update(data, 'binary')
      .verify(publicKey, Buffer.from(tags.b ?? '', 'base64'));
  return { valid, bodyHashMatches, tags };
}
