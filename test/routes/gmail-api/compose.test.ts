import { describe, expect, it } from 'vitest';
import { createTransport, type SendMailOptions, type SentMessageInfo } from 'nodemailer';
import { composeForGmail, readHeaders } from '../../../src/routes/gmail-api/compose.js';
import type { OutgoingMail } from '../../../src/core/route.js';

/** The MailMessage nodemailer hands a transport, for the given message data. */
async function outgoing(data: SendMailOptions): Promise<OutgoingMail> {
  let captured: OutgoingMail | undefined;
  const mailer = createTransport({
    name: 'capture',
    version: '1',
    send(mail: OutgoingMail, callback: (err: Error | null, info: SentMessageInfo) => void) {
      captured = mail;
      callback(null, {} as SentMessageInfo);
    },
  });
  await mailer.sendMail(data);
  return captured!;
}

const options = { locale: 'en' as const, strategy: 'gmail-api' };

describe('composeForGmail', () => {
  it('keeps Bcc in the message it builds, and puts keepBcc back for whatever route comes next (failover to SMTP)', async () => {
    const mail = await outgoing({ from: 'me@example.com', to: 'a@example.com', bcc: 'b@example.com', text: 'x' });
    const composed = await composeForGmail(mail, options);
    expect(composed.raw.toString()).toMatch(/^Bcc: b@example\.com\r$/m);
    const node = mail.message as unknown as { keepBcc: boolean; build(): Promise<Buffer> };
    expect(node.keepBcc).toBe(false);
    expect((await node.build()).toString()).not.toMatch(/^Bcc:/m);
  });

  it('composes once per message: a retry sends the very same bytes', async () => {
    const mail = await outgoing({ from: 'me@example.com', to: 'a@example.com', text: 'x', attachments: [{ filename: 'a.txt', content: 'abc' }] });
    const first = await composeForGmail(mail, options);
    const second = await composeForGmail(mail, options);
    expect(second.raw).toBe(first.raw);
  });

  it('stops reading at the size limit and reports MESSAGE_REJECTED with the message id', async () => {
    const mail = await outgoing({ from: 'me@example.com', to: 'a@example.com', text: 'x'.repeat(10_000) });
    await expect(composeForGmail(mail, { ...options, maxBytes: 5_000 })).rejects.toMatchObject({
      code: 'MESSAGE_REJECTED',
      messageId: mail.message.messageId(),
    });
  });

  it('compares only the envelope parts given: recipients alone leave the sender alone', async () => {
    const mail = await outgoing({
      from: 'me@example.com',
      to: 'a@example.com',
      cc: 'c@example.com',
      envelope: { to: ['C@example.com', 'a@example.com'] },
      text: 'x',
    });
    await expect(composeForGmail(mail, options)).resolves.toMatchObject({ envelope: { from: 'me@example.com', to: ['a@example.com', 'c@example.com'] } });
    const extra = await outgoing({ from: 'me@example.com', to: 'a@example.com', envelope: { to: ['a@example.com', 'extra@example.com'] }, text: 'x' });
    await expect(composeForGmail(extra, options)).rejects.toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'envelope.to' }] });
  });
});

describe('readHeaders', () => {
  it('unfolds headers, reads groups and de-duplicates recipients case-insensitively, up to the empty line only', () => {
    const raw = Buffer.from(
      [
        'From: "Me, Myself" <me@example.com>',
        'To: "A" <a@example.com>,',
        '\tb@example.com',
        'Cc: Team: c@example.com, A@example.com;',
        'Message-ID: <id-1@example.com>',
        '',
        'To: not-a-header@example.com',
        '',
      ].join('\r\n'),
    );
    expect(readHeaders(raw)).toEqual({
      envelope: { from: 'me@example.com', to: ['a@example.com', 'b@example.com', 'c@example.com'] },
      messageId: '<id-1@example.com>',
    });
  });
});
