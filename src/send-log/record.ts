import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { SentMessageInfo } from 'nodemailer';
import type { GmailTransportError } from '../errors/error.js';
import type { OutgoingMail } from '../core/route.js';
import { readRawHeaders } from './headers.js';
import { oneLine } from '../core/untrusted-text.js';
import type { SendLogPrivacy } from '../core/send-log.js';
import type { RouteIdentity, SendContext, SendTrace } from './trace.js';
import type { SendLogRecipients, SendRecord, SendStatus } from '../core/send-log.js';

/**
 * Record ids are `<process>.<n>`: a random prefix per process and a counter, unique across
 * processes writing one folder, as the bridge's `<session>.<transaction>` ids are, without a
 * random UUID per record.
 */
const ID_PREFIX = randomBytes(9).toString('base64url');
let lastId = 0;

/** What a record says about the message itself, taken before it is sent. */
export interface MessageFacts {
  from: string;
  to: string[];
  messageId?: string;
  subject?: string;
  size?: number;
}

/** A response or subject longer than this is cut: a record is one line a person reads. */
const MAX_TEXT = 1000;

/**
 * The facts of a message nodemailer composed (what the transport was handed). `outcome` is the
 * info or error the send settled with: the envelope and Message-ID it reports save parsing the
 * message's headers again.
 */
export function factsOfMail(mail: OutgoingMail, privacy: SendLogPrivacy, outcome?: unknown): MessageFacts {
  const data = mail.data as Record<string, unknown>;
  const reported = (typeof outcome === 'object' && outcome !== null ? outcome : {}) as { envelope?: unknown; messageId?: unknown };
  let envelope = typeof reported.envelope === 'object' && reported.envelope !== null ? (reported.envelope as { from?: unknown; to?: unknown }) : undefined;
  try {
    envelope ??= mail.message.getEnvelope() as { from?: unknown; to?: unknown };
  } catch {
    envelope = undefined;
  }
  const facts: MessageFacts = rawFacts(data, privacy) ?? composedFacts(mail, data, privacy, reported.messageId);
  facts.from = typeof envelope?.from === 'string' ? envelope.from : '';
  facts.to = Array.isArray(envelope?.to) ? envelope.to.map(String) : [];
  return facts;
}

/**
 * The facts of a message that never reached the transport (a plugin or the message data
 * failed first): what the caller's data says, without nodemailer's address parser.
 */
export function factsOfData(data: Record<string, unknown>, privacy: SendLogPrivacy): MessageFacts {
  const envelope = (typeof data.envelope === 'object' && data.envelope !== null ? data.envelope : undefined) as
    { from?: unknown; to?: unknown; cc?: unknown; bcc?: unknown } | undefined;
  const from = addressesIn(envelope?.from ?? data.sender ?? data.from)[0] ?? '';
  const to = envelope
    ? [...addressesIn(envelope.to), ...addressesIn(envelope.cc), ...addressesIn(envelope.bcc)]
    : [...addressesIn(data.to), ...addressesIn(data.cc), ...addressesIn(data.bcc)];
  const facts = rawFacts(data, privacy) ?? {
    ...(typeof data.messageId === 'string' ? { messageId: data.messageId } : {}),
    ...(privacy.subjects && typeof data.subject === 'string' ? { subject: data.subject } : {}),
  };
  return { ...facts, from, to };
}

function rawFacts(data: Record<string, unknown>, privacy: SendLogPrivacy): MessageFacts | undefined {
  const raw = rawMessage(data.raw);
  if (raw === undefined) return undefined;
  const headers = readRawHeaders(raw.head, privacy.subjects);
  return {
    from: '',
    to: [],
    ...(headers.messageId ? { messageId: headers.messageId } : {}),
    ...(headers.subject !== undefined ? { subject: headers.subject } : {}),
    size: raw.size,
  };
}

/** The most of a raw message's start that its headers may take, when it waits in a file. */
const HEAD_BYTES = 64 * 1024;

/**
 * A raw message's start and size: in memory, or in a file (`{ path }`, as the bridge spools
 * messages in transit); the file is read only as far as its headers can reach.
 */
function rawMessage(raw: unknown): { head: string | Buffer; size: number } | undefined {
  if (typeof raw === 'string') return { head: raw, size: Buffer.byteLength(raw) };
  if (Buffer.isBuffer(raw)) return { head: raw, size: raw.length };
  const path = typeof raw === 'object' && raw !== null ? (raw as { path?: unknown }).path : undefined;
  if (typeof path !== 'string') return undefined;
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
      const read = readSync(fd, head, 0, head.length, 0);
      return { head: head.subarray(0, read), size };
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function composedFacts(mail: OutgoingMail, data: Record<string, unknown>, privacy: SendLogPrivacy, reported: unknown): MessageFacts {
  let messageId = typeof reported === 'string' ? reported : undefined;
  try {
    messageId ??= mail.message.messageId();
  } catch {
    messageId = undefined;
  }
  const facts: MessageFacts = { from: '', to: [] };
  if (messageId) facts.messageId = messageId;
  if (privacy.subjects && typeof data.subject === 'string') facts.subject = data.subject;
  return facts;
}

/** Addresses in a nodemailer address field: strings (`"A" <a@x>, b@y`), objects, or lists of both. */
function addressesIn(value: unknown): string[] {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((part) => /<([^<>]*)>/.exec(part)?.[1] ?? part)
      .map((part) => part.trim())
      .filter((part) => part.includes('@'));
  }
  if (Array.isArray(value)) return value.flatMap(addressesIn);
  if (typeof value === 'object' && value !== null && typeof (value as { address?: unknown }).address === 'string')
    return [(value as { address: string }).address];
  return [];
}

/** What one `sendMail` ended with. */
export type SendOutcome = { info: SentMessageInfo } | { error: GmailTransportError };

export interface RecordInput {
  /** The transport's route: what decided, unless a failover's route did. */
  route: RouteIdentity;
  trace?: SendTrace;
  facts: MessageFacts;
  outcome: SendOutcome;
  startedAt: number;
  now: number;
  privacy: SendLogPrivacy;
  context?: SendContext;
}

/** Builds the record, its fields in the documented order. */
export function buildRecord(input: RecordInput): SendRecord {
  const { trace, facts, outcome, privacy, context } = input;
  const result = 'info' in outcome ? delivered(outcome.info, privacy.recipients) : failed(outcome.error);
  const size = trace?.size ?? facts.size;
  const subject = privacy.subjects && facts.subject !== undefined ? oneLine(facts.subject, MAX_TEXT) : undefined;
  const route = trace?.decidedBy ?? input.route;
  // Assigned in the documented order (JSON keeps insertion order), optional fields only when set.
  const record = { id: context?.id ?? `${ID_PREFIX}.${++lastId}`, time: new Date(input.now).toISOString(), strategy: route.strategy } as SendRecord;
  if (trace?.route !== undefined) record.route = trace.route;
  if (route.user !== undefined) record.user = route.user;
  record.from = facts.from;
  record.to = maskRecipients(facts.to, privacy.recipients);
  if (result.rejected && result.rejected.length > 0 && privacy.recipients !== 'none') record.rejected = result.rejected;
  if (facts.messageId) record.messageId = facts.messageId;
  if (size !== undefined) record.size = size;
  record.status = result.status;
  if (result.code) record.code = result.code;
  if (result.response) record.response = result.response;
  if (result.upstreamId) record.upstreamId = result.upstreamId;
  record.latencyMs = Math.max(0, input.now - input.startedAt);
  record.attempts = trace?.attempts ?? 0;
  if (subject !== undefined) record.subject = subject;
  if (context?.account !== undefined) record.account = context.account;
  if (context?.client !== undefined) record.client = context.client;
  return record;
}

interface OutcomeFields {
  status: SendStatus;
  code?: SendRecord['code'] | undefined;
  response?: string | undefined;
  upstreamId?: string | undefined;
  rejected?: string[] | undefined;
}

function delivered(info: SentMessageInfo, recipients: SendLogRecipients): OutcomeFields {
  const fields = info as { response?: unknown; id?: unknown; rejected?: unknown };
  const response = typeof fields.response === 'string' ? oneLine(fields.response, MAX_TEXT) : undefined;
  // The Gmail API's message id, else the queue id in the SMTP server's reply.
  const upstreamId = typeof fields.id === 'string' && fields.id !== '' ? fields.id : response ? queueIdOf(response) : undefined;
  const rejected = Array.isArray(fields.rejected) && fields.rejected.length > 0 ? maskRecipients(fields.rejected.map(String), recipients) : undefined;
  return { status: 'delivered', response, upstreamId, rejected };
}

function failed(error: GmailTransportError): OutcomeFields {
  const status: SendStatus = error.code === 'DELIVERY_UNCERTAIN' ? 'uncertain' : error.retryable ? 'deferred' : 'refused';
  // The error's fields are built to carry no secret (GmailTransportError's contract).
  return { status, code: error.code, response: oneLine(error.response ?? error.message, MAX_TEXT) };
}

/**
 * The queue id in an SMTP server's acceptance: Gmail ends its final reply with
 * `250 2.0.0 OK  <timestamp> <id> - gsmtp`; Postfix and others say `queued as <id>`.
 */
export function queueIdOf(response: string): string | undefined {
  const gmail = /\s(\S+) - gsmtp\s*$/.exec(response);
  if (gmail?.[1]) return gmail[1];
  return /\bqueued as\s+<?([^\s<>]+)>?/i.exec(response)?.[1];
}

/** Recipients as the `recipients` option allows: `addresses` itself when they are shown in full. */
export function maskRecipients(addresses: string[], mode: SendLogRecipients): string[] {
  if (mode === 'full') return addresses;
  if (mode === 'none') return [];
  return addresses.map((address) => {
    const at = address.lastIndexOf('@');
    return at === -1 ? '*' : `*@${address.slice(at + 1).toLowerCase()}`;
  });
}
