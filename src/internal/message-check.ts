import type { GmailTransportError } from '../errors.js';
import { errorFor } from '../errors/map-error.js';
import { ERROR_MEANINGS } from '../errors/catalog.js';
import type { Locale } from '../errors/hints.js';
import type { OutgoingMail } from './route.js';

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
 * this package (docs/BENCHMARKS.md, "Findings"). Should it fail to load, the check falls back
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
  const problems: string[] = [];
  let recipients = 0;
  const visit = (field: string, value: unknown): void => {
    const entries = entriesOf(value);
    entries.forEach((address, index) => {
      if (address === undefined || !isMailbox(address)) problems.push(`${entries.length > 1 ? `${field}[${index}]` : field} is not an e-mail address (name@domain)`);
    });
    if (field !== 'from' && field !== 'envelope.from') recipients += entries.length;
  };
  if (envelope?.to !== undefined) visit('envelope.to', envelope.to);
  else for (const field of ['to', 'cc', 'bcc']) if (data[field] !== undefined) visit(field, data[field]);
  if (envelope?.from !== undefined && envelope.from !== '' && envelope.from !== false) visit('envelope.from', envelope.from);
  else if (data.from !== undefined) visit('from', data.from);

  if (recipients === 0) problems.unshift(envelope?.to !== undefined ? 'envelope.to has no recipient' : 'has no recipient: to, cc and bcc are all empty');
  if (options.maxRecipients !== undefined && recipients > options.maxRecipients) {
    problems.push(`has ${recipients} recipients, more than the ${options.maxRecipients} per message this route takes (send it as several messages)`);
  }
  if (problems.length === 0) return undefined;
  return errorFor('MESSAGE_INVALID', {
    message: `${ERROR_MEANINGS.MESSAGE_INVALID}: ${problems.join('; ')}`,
    phase: 'message',
    strategy: options.strategy,
    locale: options.locale,
  });
}

/** The address of each entry of a field (a string list, address objects, nested arrays, groups). */
function entriesOf(value: unknown): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  const seen = new Set<unknown>();
  const walk = (item: unknown): void => {
    if (item === undefined || item === null || item === false || seen.has(item)) return;
    if (Array.isArray(item)) {
      seen.add(item);
      item.forEach(walk);
      return;
    }
    if (typeof item === 'object') {
      const address = (item as { address?: unknown }).address;
      out.push(typeof address === 'string' ? address : undefined);
      return;
    }
    const text = String(item);
    if (!parser) {
      // Without the parser (a later nodemailer without the subpath): a comma list, checked as is.
      for (const part of text.split(',')) if (part.trim() !== '') out.push(/<([^>]*)>\s*$/.exec(part)?.[1] ?? part.trim());
      return;
    }
    const flatten = (entries: ParsedEntry[]): void => {
      for (const entry of entries) {
        if (entry.group) flatten(entry.group);
        else out.push(entry.address ? entry.address : undefined);
      }
    };
    flatten(parser(text));
  };
  walk(value);
  return out;
}

/** `local@domain`, the domain a host name (labels not empty) or an address literal `[…]`. */
function isMailbox(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0 || /[\s<>]/.test(address)) return false;
  const domain = address.slice(at + 1);
  if (/^\[[^\]]+\]$/.test(domain)) return true;
  return domain !== '' && domain.split('.').every((label) => label !== '');
}
