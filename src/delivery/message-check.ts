import type { GmailTransportError } from '../errors/error.js';
import { errorFor } from '../errors/map-error.js';
import { ERROR_MEANINGS } from '../errors/catalog.js';
import type { Locale } from '../errors/hints.js';
import type { OutgoingMail } from '../core/route.js';

interface ParsedEntry {
  address?: string;
  name?: string;
  group?: ParsedEntry[];
}
type AddressParser = (value: string) => ParsedEntry[];

let parser: AddressParser | undefined;
let loading: Promise<void> | undefined;
let ready = false;

/**
 * Loads nodemailer's address parser, the one that reads the message's headers, so the check
 * finds exactly the entries nodemailer would drop. Loaded on the first send, not at import:
 * resolving a subpath of nodemailer's exports map is one of the costlier parts of importing
 * this package (docs/decisions/). Should it fail to load, the check falls back
 * to reading comma-separated lists itself.
 */
export function loadMessageCheck(): Promise<void> {
  loading ??= import('nodemailer/lib/addressparser')
    .then((module) => {
      const exported = module as unknown as { default?: AddressParser | { default?: AddressParser } };
      const fn = typeof exported.default === 'function' ? exported.default : exported.default?.default;
      if (typeof fn === 'function') parser = fn;
    })
    .catch(() => undefined)
    .finally(() => {
      ready = true;
    });
  return loading;
}

/** Whether {@link checkMessage} can run now. */
export function messageCheckReady(): boolean {
  return ready;
}

/**
 * Problems of the message itself, found before any connection: no recipient, an address that
 * does not parse, more recipients than the route takes. nodemailer drops an entry it cannot
 * parse (`to: 'not an address'`) without a word, and a message left without recipients then
 * fails at the server as a syntax error; here it is MESSAGE_INVALID naming the field.
 */
export function checkMessage(mail: OutgoingMail, options: { maxRecipients?: number; strategy: string; locale: Locale }): GmailTransportError | undefined {
  const data = mail.data as Record<string, unknown>;
  const envelope = typeof data.envelope === 'object' && data.envelope !== null ? (data.envelope as Record<string, unknown>) : undefined;
  let problems: string[] | undefined;
  // Runs on every send: the usual field (one bare address) costs a regular expression.
  const count = (field: string, value: unknown): number => {
    if (typeof value === 'string' && BARE_ADDRESS.test(value) && isMailbox(value)) return 1;
    const entries: (string | undefined)[] = [];
    collect(value, entries, 0);
    entries.forEach((address, index) => {
      if (address === undefined || !isMailbox(address))
        (problems ??= []).push(`${entries.length > 1 ? `${field}[${index}]` : field} is not an e-mail address (name@domain)`);
    });
    return entries.length;
  };
  let recipients = 0;
  if (envelope?.to !== undefined) recipients = count('envelope.to', envelope.to);
  else {
    if (data.to !== undefined) recipients += count('to', data.to);
    if (data.cc !== undefined) recipients += count('cc', data.cc);
    if (data.bcc !== undefined) recipients += count('bcc', data.bcc);
  }
  if (envelope?.from !== undefined && envelope.from !== '' && envelope.from !== false) count('envelope.from', envelope.from);
  else if (data.from !== undefined) count('from', data.from);

  if (recipients === 0)
    (problems ??= []).unshift(envelope?.to !== undefined ? 'envelope.to has no recipient' : 'has no recipient: to, cc and bcc are all empty');
  if (options.maxRecipients !== undefined && recipients > options.maxRecipients) {
    (problems ??= []).push(`has ${recipients} recipients, more than the ${options.maxRecipients} per message this route takes (send it as several messages)`);
  }
  if (problems === undefined) return undefined;
  return errorFor('MESSAGE_INVALID', {
    message: `${ERROR_MEANINGS.MESSAGE_INVALID}: ${problems.join('; ')}`,
    phase: 'message',
    strategy: options.strategy,
    locale: options.locale,
  });
}

/** One address alone, with nothing a parser would read as a name, a list or a group. */
const BARE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;

/**
 * The address of each entry of a field (a string list, address objects, nested arrays,
 * groups), undefined for an entry that has none. Nesting is cut at 32 levels, which also ends
 * an array that contains itself.
 */
function collect(value: unknown, out: (string | undefined)[], depth: number): void {
  if (value === undefined || value === null || value === false || depth > 32) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, out, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const address = (value as { address?: unknown }).address;
    out.push(typeof address === 'string' ? address : undefined);
    return;
  }
  const text = String(value);
  if (BARE_ADDRESS.test(text)) {
    out.push(text);
    return;
  }
  if (!parser) {
    // Without the parser (a later nodemailer without the subpath): a comma list, read as is.
    for (const part of text.split(',')) if (part.trim() !== '') out.push(/<([^>]*)>\s*$/.exec(part)?.[1] ?? part.trim());
    return;
  }
  flatten(parser(text), out);
}

function flatten(entries: ParsedEntry[], out: (string | undefined)[]): void {
  for (const entry of entries) {
    if (entry.group) flatten(entry.group, out);
    else out.push(entry.address ? entry.address : undefined);
  }
}

/** `local@domain`, the domain a host name (labels not empty) or an address literal `[…]`. */
function isMailbox(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0 || /[\s<>]/.test(address)) return false;
  const domain = address.slice(at + 1);
  if (/^\[[^\]]+\]$/.test(domain)) return true;
  return domain !== '' && !domain.startsWith('.') && !domain.endsWith('.') && !domain.includes('..');
}
