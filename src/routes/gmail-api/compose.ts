import type { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import { GmailTransportError } from '../../errors/error.js';
import { errorFor } from '../../errors/map-error.js';
import { hintFor, type Locale } from '../../errors/hints.js';
import type { OutgoingMail } from '../../core/route.js';

/**
 * Gmail's limit for `users.messages.send`, on the message as uploaded (after MIME encoding):
 * "Maximum file size: 35MB", https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send
 */
export const GMAIL_API_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

/** The message as Gmail will read it, and the addresses its headers carry. */
export interface ComposedMessage {
  /** The RFC 5322 message, Bcc header included. */
  raw: Buffer;
  /** The `Message-ID` header, where there is one. */
  messageId?: string;
  /** Sender and recipients as Gmail derives them: From, and To + Cc + Bcc of `raw`. */
  envelope: { from: string | false; to: string[] };
}

// A retry of the same message sends the same bytes (same Date, same boundaries) without
// composing it again.
const composed = new WeakMap<object, ComposedMessage>();

interface ComposeOptions {
  locale: Locale;
  strategy: string;
  maxBytes?: number;
}

/**
 * Builds the message with nodemailer's own MIME tree (`mail.message`), keeping the Bcc header.
 * `users.messages.send` has no envelope: Gmail delivers to the To, Cc and Bcc headers of `raw`
 * and strips Bcc from the copies it delivers, so a message built the SMTP way (Bcc dropped, as
 * RFC 5322 §3.6.3 suggests for a message handed to SMTP) would silently skip its Bcc
 * recipients. nodemailer's own stream, sendmail and JSON transports set `keepBcc` likewise.
 *
 * @throws GmailTransportError MESSAGE_REJECTED over {@link GMAIL_API_MAX_MESSAGE_BYTES},
 * CONFIG_INVALID for an `envelope` that differs from the headers, RECIPIENT_REJECTED when the
 * headers name no recipient: all before any request.
 */
export async function composeForGmail(mail: OutgoingMail, options: ComposeOptions): Promise<ComposedMessage> {
  const node = mail.message as unknown as {
    keepBcc: boolean;
    createReadStream(): Readable;
    messageId(): string;
    getEnvelope(): { from: string | false; to: string[] };
  };
  const cached = composed.get(node);
  if (cached) return cached;
  // Restored at once: in a failover, the next route may be SMTP, where a kept Bcc header would
  // show the Bcc recipients to everyone.
  const keepBcc = node.keepBcc;
  node.keepBcc = true;
  let raw: Buffer;
  try {
    raw = await readCapped(node.createReadStream(), options.maxBytes ?? GMAIL_API_MAX_MESSAGE_BYTES, options, safeMessageId(node));
  } finally {
    node.keepBcc = keepBcc;
  }
  const { envelope, messageId: headerMessageId } = readHeaders(raw);
  // A `raw` message from the caller keeps its own Message-ID; the node's would be made up.
  const messageId = headerMessageId ?? safeMessageId(node);
  checkEnvelope(mail, node.getEnvelope(), envelope, options, messageId);
  if (envelope.to.length === 0) {
    throw errorFor('RECIPIENT_REJECTED', {
      message: 'The message has no recipient: the Gmail API delivers to the To, Cc and Bcc headers only',
      strategy: options.strategy,
      phase: 'api',
      locale: options.locale,
      ...(messageId ? { messageId } : {}),
    });
  }
  const result = { raw, envelope, ...(messageId ? { messageId } : {}) };
  composed.set(node, result);
  return result;
}

/** Reads the composed message, giving up (and releasing its sources) as soon as it is too big. */
async function readCapped(stream: Readable, maxBytes: number, options: ComposeOptions, messageId: string | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > maxBytes) {
      stream.destroy();
      throw errorFor('MESSAGE_REJECTED', {
        message: `The message is over the Gmail API's size limit of ${Math.round(maxBytes / 1024 / 1024)} MB; nothing was sent`,
        strategy: options.strategy,
        phase: 'api',
        locale: options.locale,
        variant: 'gmail-api-size',
        ...(messageId ? { messageId } : {}),
      });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

/** The addresses and Message-ID in the header block of a message (RFC 5322 §2.2: up to the first empty line). */
export function readHeaders(raw: Buffer): { envelope: { from: string | false; to: string[] }; messageId?: string } {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const block = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
  // Unfold (RFC 5322 §2.2.3): a line break followed by white space continues the field.
  const fields = block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/);
  let from: string | false = false;
  let messageId: string | undefined;
  const to: string[] = [];
  const seen = new Set<string>();
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon < 1) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1);
    if (name === 'message-id' && messageId === undefined) {
      messageId = value.trim() || undefined;
    } else if (name === 'from' && from === false) {
      from = addressparser(value, { flatten: true })[0]?.address || false;
    } else if (name === 'to' || name === 'cc' || name === 'bcc') {
      for (const { address } of addressparser(value, { flatten: true })) {
        if (address && !seen.has(address.toLowerCase())) {
          seen.add(address.toLowerCase());
          to.push(address);
        }
      }
    }
  }
  return { envelope: { from, to }, ...(messageId ? { messageId } : {}) };
}

/**
 * nodemailer's `envelope` option sets SMTP's MAIL FROM / RCPT TO apart from the headers. The
 * Gmail API has no such thing (Gmail sets the return path to the account and delivers to the
 * headers), so an envelope that says something else cannot be honoured; it is refused rather
 * than ignored, which would deliver to other people than the caller asked for. Only the parts
 * the caller gave are compared: an envelope with recipients only leaves the sender alone.
 */
function checkEnvelope(
  mail: OutgoingMail,
  requested: { from: string | false; to: string[] },
  headers: { from: string | false; to: string[] },
  options: ComposeOptions,
  messageId: string | undefined,
): void {
  const given = (mail.data as { envelope?: Record<string, unknown> }).envelope;
  if (!given || typeof given !== 'object') return;
  const issues: { path: string; message: string }[] = [];
  if (given.from !== undefined && lower(requested.from) !== lower(headers.from)) {
    issues.push({
      path: 'envelope.from',
      message: 'differs from the From header; the Gmail API sends from the account and cannot take a separate envelope sender',
    });
  }
  if (given.to !== undefined || given.cc !== undefined || given.bcc !== undefined) {
    const wanted = new Set(requested.to.map((a) => a.toLowerCase()));
    const actual = new Set(headers.to.map((a) => a.toLowerCase()));
    if (wanted.size !== actual.size || [...wanted].some((a) => !actual.has(a))) {
      issues.push({ path: 'envelope.to', message: 'differs from the To/Cc/Bcc headers; the Gmail API delivers to the headers only' });
    }
  }
  if (issues.length === 0) return;
  throw new GmailTransportError({
    code: 'CONFIG_INVALID',
    message: `The Gmail API cannot honour this message's envelope: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    hint: hintFor('CONFIG_INVALID:gmail-api-envelope', options.locale),
    strategy: options.strategy,
    phase: 'config',
    issues,
    ...(messageId ? { messageId } : {}),
  });
}

function lower(value: string | false): string {
  return value ? value.toLowerCase() : '';
}

function safeMessageId(node: { messageId(): string }): string | undefined {
  try {
    return node.messageId();
  } catch {
    return undefined;
  }
}
