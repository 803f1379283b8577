import type { MessageFacts } from './record.js';

/**
 * What happened to one message on its way, for its send-log record: the attempts made, the
 * failover route that decided, the message's size once built. Kept only for messages of a
 * transport with a send log (`openTrace`); the notes below cost one WeakMap lookup otherwise.
 */
export interface SendTrace {
  attempts: number;
  /** What the message is, read from it once it is settled. */
  facts?: MessageFacts;
  /** A failover's route that tried the message last, and its index. */
  decidedBy?: RouteIdentity;
  route?: number;
  size?: number;
}

/** A route as a record names it; `user` is read when the record is made (a route may load late). */
export interface RouteIdentity {
  readonly strategy: string;
  readonly user?: string | undefined;
}

// Keyed by nodemailer's mail object while it is being sent, then by the outcome (the info or
// the error) that sendMail is settled with: that is all the caller's side gets to see.
const byMail = new WeakMap<object, SendTrace>();
const byOutcome = new WeakMap<object, SendTrace>();

export function openTrace(mail: object, trace: SendTrace): void {
  byMail.set(mail, trace);
}

/** Called before each delivery attempt of the message. */
export function noteAttempt(mail: object): void {
  const trace = byMail.get(mail);
  if (trace) trace.attempts++;
}

/** A failover's route `index` is about to try the message. */
export function noteRoute(mail: object, index: number, route: RouteIdentity): void {
  const trace = byMail.get(mail);
  if (!trace) return;
  trace.route = index;
  trace.decidedBy = route;
}

/** The message's size in bytes, once a route built it. */
export function noteSize(mail: object, size: number): void {
  const trace = byMail.get(mail);
  if (trace) trace.size = size;
}

/** Hands the trace over to the outcome sendMail settles with, and returns it. */
export function closeTrace(mail: object, outcome: unknown): SendTrace | undefined {
  const trace = byMail.get(mail);
  if (!trace) return undefined;
  byMail.delete(mail);
  if (typeof outcome === 'object' && outcome !== null) byOutcome.set(outcome, trace);
  return trace;
}

/** The trace of the send that settled with `outcome`, once. */
export function takeTrace(outcome: unknown): SendTrace | undefined {
  if (typeof outcome !== 'object' || outcome === null) return undefined;
  const trace = byOutcome.get(outcome);
  if (trace) byOutcome.delete(outcome);
  return trace;
}

/** The bridge's side of a record: which device handed the message over. */
export interface SendContext {
  id?: string;
  account?: string;
  client?: string;
}

const contexts = new WeakMap<object, SendContext>();

/** Marks the `sendMail` data of a message a device handed over, for its record. */
export function setSendContext(data: object, context: SendContext): void {
  contexts.set(data, context);
}

export function sendContextOf(data: unknown): SendContext | undefined {
  return typeof data === 'object' && data !== null ? contexts.get(data) : undefined;
}
