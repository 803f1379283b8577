import type { OutgoingMail } from './route.js';

type MimeRoot = OutgoingMail['message'];
/** What nodemailer's `getEnvelope()` returns: the sender and the deduplicated recipients. */
export type Envelope = ReturnType<MimeRoot['getEnvelope']>;

// nodemailer parses the address headers anew at each getEnvelope() call; the sending budget
// and the SMTP code each need the envelope of every message (docs/decisions/0010-sending-budget.md).
const parsed = new WeakMap<object, Envelope>();

/** The message's envelope, parsed once per message. Read it, never change it. */
export function envelopeOf(root: MimeRoot): Envelope {
  let envelope = parsed.get(root);
  if (!envelope) {
    envelope = root.getEnvelope();
    parsed.set(root, envelope);
  }
  return envelope;
}

/**
 * The envelope for one SMTP attempt: a copy of the one parsed already, else a fresh parse.
 * nodemailer's SMTP connection writes its state into the envelope it is given (the recipients
 * still to send, the refused ones), and a connection of a failed attempt may still be closing
 * while the next attempt starts: each attempt needs an object of its own.
 */
export function envelopeForAttempt(root: MimeRoot): Envelope {
  const envelope = parsed.get(root);
  return envelope ? { ...envelope, to: [...envelope.to] } : root.getEnvelope();
}
