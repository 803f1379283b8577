import type { SentMessageInfo } from 'nodemailer';
import type { GmailTransporter } from '../transport/create.js';
import { isGmailTransportError } from '../errors/error.js';
import { mapError } from '../errors/map-error.js';
import { acceptedReply, replyForPartialDelivery, replyForUpstreamError, replyLabel, type SmtpReply } from './replies.js';
import type { BridgeMessageRecord } from './types.js';
import { setSendContext } from '../send-log/trace.js';

/** One message a device handed over, ready to go upstream. */
export interface DeviceMessage {
  id: string;
  client: string;
  account?: string;
  /** Envelope sender; empty for the null sender `<>` (bounces). */
  from: string;
  to: string[];
  /** The message byte for byte: in memory, or the spool file it was received into (read as it goes upstream). */
  raw: Buffer | { path: string };
  bytes: number;
  /** The Message-ID header, when it has one. */
  messageId?: string;
  /** The device declared 8-bit content (BODY=8BITMIME, or SMTPUTF8 which implies it). */
  eightBit?: boolean;
  startedAt: number;
}

export interface DeliveryResult {
  reply: SmtpReply;
  record: BridgeMessageRecord;
  /** How loud the log line is: a failure the operator must fix is an error. */
  level: 'info' | 'warn' | 'error';
}

/**
 * Sends the device's message upstream byte for byte (`raw`: no header is added or rewritten,
 * so DKIM signatures and attachments stay intact) with the device's own envelope, and decides
 * the device's reply from the upstream's answer. 8-bit content is declared with BODY=8BITMIME
 * when the upstream offers it; nodemailer adds SMTPUTF8 when an address needs it and the
 * upstream offers it. Never throws.
 */
export async function deliverUpstream(mailer: GmailTransporter, message: DeviceMessage): Promise<DeliveryResult> {
  const base = {
    event: 'message' as const,
    id: message.id,
    client: message.client,
    ...(message.account !== undefined ? { account: message.account } : {}),
    from: message.from,
    recipients: message.to.length,
    bytes: message.bytes,
    ...(message.messageId ? { messageId: message.messageId } : {}),
  };
  try {
    const envelope = { from: message.from, to: message.to, ...(message.eightBit ? { use8BitMime: true } : {}) };
    const data = { envelope, raw: message.raw };
    // For the send log's record of this message (with the `sendLog` option).
    setSendContext(data, { id: message.id, account: message.account ?? `network:${message.client}`, client: message.client });
    const info = (await mailer.sendMail(data)) as SentMessageInfo & {
      rejected?: unknown[];
      accepted?: unknown[];
      rejectedErrors?: Array<{ responseCode?: number }>;
      response?: string;
    };
    const latencyMs = Date.now() - message.startedAt;
    const rejected = Array.isArray(info.rejected) ? info.rejected.length : 0;
    if (rejected > 0) {
      const accepted = Array.isArray(info.accepted) ? info.accepted.length : message.to.length - rejected;
      const temporary = (info.rejectedErrors ?? []).some((e) => typeof e.responseCode === 'number' && e.responseCode < 500);
      const { reply, outcome } = replyForPartialDelivery(accepted, rejected, temporary);
      return {
        reply,
        level: 'warn',
        record: { ...base, outcome, reply: replyLabel(reply), upstreamCode: 'RECIPIENT_REJECTED', rejectedRecipients: rejected, latencyMs },
      };
    }
    const response = typeof info.response === 'string' ? info.response : undefined;
    const reply = acceptedReply(response);
    return {
      reply,
      level: 'info',
      record: { ...base, outcome: 'delivered', reply: replyLabel(reply), ...(response ? { upstreamResponse: response.slice(0, 200) } : {}), latencyMs },
    };
  } catch (thrown) {
    const err = isGmailTransportError(thrown) ? thrown : mapError(thrown);
    const { reply, outcome, operatorSide } = replyForUpstreamError(err);
    return {
      reply,
      level: operatorSide ? 'error' : 'warn',
      record: {
        ...base,
        outcome,
        reply: replyLabel(reply),
        upstreamCode: err.code,
        // The error's message is built to carry no secret (GmailTransportError's contract).
        upstreamResponse: err.message.slice(0, 300),
        ...(err.code === 'DELIVERY_UNCERTAIN' ? { uncertain: true } : {}),
        latencyMs: Date.now() - message.startedAt,
      },
    };
  }
}
