import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { SentMessageInfo } from 'nodemailer';
import type { GmailTransportError } from '../errors.js';
import type { OutgoingMail } from '../internal/route.js';
import { readRawHeaders } from './headers.js';
import type { SendLogPrivacy } from './options.js';
import type { RouteIdentity, SendContext, SendTrace } from './trace.js';
import type { SendLogRecipients, SendRecord, SendStatus } from './types.js';

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
 * The facts of a message nodemailer composed (what the transport was handed). `sent` is the
 * envelope a delivery reported, which saves parsing the address headers again.
 */
export function factsOfMail(mail: OutgoingMail, privacy: SendLogPrivacy, sent?: unknown): MessageFacts {
  const data = mail.data as Record<string, unknown>;
  let envelope = typeof sent === 'object' && sent !== null ? (sent as { from?: unknown; to?: unknown }) : undefined;
  try {
    envelope ??= mail.message.getEnvelope() as { from?: unknown; to?: unknown };
  } catch {
    envelope = undefined;
  }
  const facts = rawFacts(data, privacy) ?? composedFacts(mail, data, privacy);
  return { ...facts, from: typeof envelope?.from === 'string' ? envelope.from : '', to: Array.isArray(envelope?.to) ? envelope.to.map(String) : [] };
}

/**
 * The facts of a message that never reached the transport (a plugin or the message data
 * failed first): what the caller's data says, without nodemailer's address parser.
 */
export function factsOfData(data: Record<string, unknown>, privacy: SendLogPrivacy): MessageFacts {
  const envelope = (typeof data.envelope === 'object' && data.envelope !== null ? data.envelope : undefined) as { from?: unknown; to?: unknown; cc?: unknown; bcc?: unknown } | undefined;
  const from = addressesIn(envelope?.from ?? data.sender ?? data.from)[0] ?? '';
  const to = envelope ? [...addressesIn(envelope.to), ...addressesIn(envelope.cc), ...addressesIn(envelope.bcc)] : [...addressesIn(data.to), ...addressesIn(data.cc), ...addressesIn(data.bcc)];
  const facts = rawFacts(data, privacy) ?? {
    ...(typeof data.messageId === 'string' ? { messageId: data.messageId } : {}),
    ...(privacy.subjects && typeof data.subject === 'string' ? { subject: data.subject } : {}),
  };
  return { ...facts, from, to };
}

function rawFacts(data: Record<string, unknown>, privacy: SendLogPrivacy): Omit<MessageFacts, 'from' | 'to'> | undefined {
  const raw = rawMessage(data.raw);
  if (raw === undefined) return undefined;
  const headers = readRawHeaders(raw.head, privacy.subjects);
  return {
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

function composedFacts(mail: OutgoingMail, data: Record<string, unknown>, privacy: SendLogPrivacy): Omit<MessageFacts, 'from' | 'to'> {
  let messageId: string | undefined;
  try {
    messageId = mail.message.messageId();
  } catch {
    messageId = undefined;
  }
  return {
    ...(messageId ? { messageId } : {}),
    ...(privacy.subjects && typeof data.subject === 'string' ? { subject: data.subject } : {}),
  };
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
  if (typeof value === 'object' && value !== null && typeof (value as { address?: unknown }).address === 'string') return [(value as { address: string }).address];
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
  const subject = privacy.subjects && facts.subject !== undefined ? oneLine(facts.subject) : undefined;
  const route = trace?.decidedBy ?? input.route;
  const user = route.user;
  const record: SendRecord = {
    id: context?.id ?? randomUUID(),
    time: new Date(input.now).toISOString(),
    strategy: route.strategy,
    ...(trace?.route !== undefined ? { route: trace.route } : {}),
    ...(user !== undefined ? { user } : {}),
    from: facts.from,
    to: maskRecipients(facts.to, privacy.recipients),
    ...(result.rejected && result.rejected.length > 0 && privacy.recipients !== 'none' ? { rejected: result.rejected } : {}),
    ...(facts.messageId ? { messageId: facts.messageId } : {}),
    ...(size !== undefined ? { size } : {}),
    status: result.status,
    ...(result.code ? { code: result.code } : {}),
    ...(result.response ? { response: result.response } : {}),
    ...(result.upstreamId ? { upstreamId: result.upstreamId } : {}),
    latencyMs: Math.max(0, input.now - input.startedAt),
    attempts: trace?.attempts ?? 0,
    ...(subject !== undefined ? { subject } : {}),
    ...(context?.account !== undefined ? { account: context.account } : {}),
    ...(context?.client !== undefined ? { client: context.client } : {}),
  };
  return record;
}

interface OutcomeFields {
  status: SendStatus;
  code?: SendRecord['code'];
  response?: string;
  upstreamId?: string;
  rejected?: string[];
}

function delivered(info: SentMessageInfo, recipients: SendLogRecipients): OutcomeFields {
  const fields = info as { response?: unknown; id?: unknown; rejected?: unknown };
  const response = typeof fields.response === 'string' ? oneLine(fields.response) : undefined;
  // The Gmail API's message id, else the queue id in the SMTP server's reply.
  const upstreamId = typeof fields.id === 'string' && fields.id !== '' ? fields.id : response ? queueIdOf(response) : undefined;
  const rejected = Array.isArray(fields.rejected) ? maskRecipients(fields.rejected.map(String), recipients) : undefined;
  return { status: 'delivered', ...(response ? { response } : {}), ...(upstreamId ? { upstreamId } : {}), ...(rejected ? { rejected } : {}) };
}

function failed(error: GmailTransportError): OutcomeFields {
  const status: SendStatus = error.code === 'DELIVERY_UNCERTAIN' ? 'uncertain' : error.retryable ? 'deferred' : 'refused';
  // The error's fields are built to carry no secret (GmailTransportError's contract).
  const response = oneLine(error.response ?? error.message);
  return { status, code: error.code, ...(response ? { response } : {}) };
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

/** Recipients as the `recipients` option allows. */
export function maskRecipients(addresses: readonly string[], mode: SendLogRecipients): string[] {
  if (mode === 'full') return [...addresses];
  if (mode === 'none') return [];
  return addresses.map((address) => {
    const at = address.lastIndexOf('@');
    return at === -1 ? '*' : `*@${address.slice(at + 1).toLowerCase()}`;
  });
}

/** Line breaks and other control characters become spaces; long text is cut. */
function oneLine(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}
