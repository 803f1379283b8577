/**
 * Sending from a host that blocks outbound SMTP (many cloud and PaaS hosts: connections to ports
 * 465 and 587 time out) through the Gmail REST API over HTTPS instead. Same OAuth credentials as
 * the `oauth2` strategy; the Gmail API must be enabled in the Cloud project.
 *
 *   GMAIL_USER=… GMAIL_CLIENT_ID=… GMAIL_CLIENT_SECRET=… GMAIL_REFRESH_TOKEN=… EXAMPLE_TO=… npx tsx examples/gmail-api-smtp-blocked.ts
 *   npm run example -- gmail-api-smtp-blocked   # against local stand-ins
 */
import { createGmailTransport, type GmailTransporter } from '../src/index.js'; // 'gmail-transport' in your app
import { isMain, openExampleTarget } from './lib/target.js';

/** Sends a report with an attachment; resolves with Gmail's message and thread ids. */
export async function sendReport(mailer: GmailTransporter, message: { from: string; to: string; bcc?: string }): Promise<{ id: string; threadId: string }> {
  const info = await mailer.sendMail({
    ...message,
    subject: 'Weekly report',
    text: 'The report is attached.',
    attachments: [{ filename: 'report.csv', content: 'day,sent\nMonday,120\nTuesday,98\n' }],
  });
  // Besides nodemailer's fields, the Gmail API route returns Gmail's ids (e.g. to thread replies).
  return { id: String(info.id), threadId: String(info.threadId) };
}

export async function main(): Promise<void> {
  const target = await openExampleTarget();
  const credentials = target.oauth2();
  const mailer = createGmailTransport({ strategy: 'gmail-api', ...credentials, ...target.overrides.gmailApi });
  try {
    // Fetches a token and calls the API once: proves the credentials and that the API is enabled.
    await mailer.verify();
    const { id, threadId } = await sendReport(mailer, { from: credentials.user, to: target.to() });
    console.log(`Sent through the Gmail API: id ${id}, thread ${threadId}`);
  } finally {
    mailer.close();
    await target.close();
  }
}

if (isMain(import.meta.url)) await main();
