#!/usr/bin/env node
// @ts-check
/**
 * A monitoring alert in plain CommonJS, for cron jobs, Nagios or Zabbix notification commands and
 * shell scripts: `node monitoring-alert.cjs "<subject>" ["<details>"]`.
 *
 * The transport comes from GMAIL_* variables through fromEnv() (see "Config from environment
 * variables" in the README): an app password, OAuth2 or a service account. ALERT_TO takes the
 * recipients, ALERT_FROM the sender (default: GMAIL_USER).
 *
 *   GMAIL_USER=me@gmail.com GMAIL_APP_PASSWORD='abcd efgh ijkl mnop' ALERT_TO=ops@example.com \
 *     node examples/monitoring-alert.cjs "Disk almost full on db-1" "/var is at 93%"
 *   npm run example -- monitoring-alert   # against local stand-ins (after npm run build)
 *
 * Exit status: 0 sent; 75 (EX_TEMPFAIL) Gmail may take it later, so the caller should retry;
 * 64 (EX_USAGE) bad arguments; 1 anything else.
 */
'use strict';

const { hostname } = require('node:os');
const { createGmailTransport, fromEnv, isGmailTransportError } = require('gmail-transport');

// sysexits.h codes, which cron wrappers and monitoring systems understand.
const EX_USAGE = 64;
const EX_TEMPFAIL = 75;

/**
 * Sends one alert and closes the transport.
 * @param {import('gmail-transport').GmailTransportConfig} config
 * @param {{ from: string, to: string, subject: string, details?: string }} alert
 * @returns {Promise<string>} the Message-ID
 */
async function sendAlert(config, alert) {
  const mailer = createGmailTransport(config);
  try {
    const info = await mailer.sendMail({
      from: alert.from,
      to: alert.to,
      subject: `[ALERT] ${alert.subject}`,
      text: `${alert.details ?? ''}\n\nHost: ${hostname()}\nTime: ${new Date().toISOString()}\n`,
      priority: 'high',
    });
    return String(info.messageId);
  } finally {
    mailer.close();
  }
}

/**
 * @param {string[]} args the subject, then optional details
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>} the exit status
 */
async function main(args = process.argv.slice(2), env = process.env) {
  const [subject, details] = args;
  const from = env.ALERT_FROM ?? env.GMAIL_USER;
  if (!subject || !env.ALERT_TO || !from) {
    console.error('usage: ALERT_TO=ops@example.com [ALERT_FROM=…] GMAIL_…=… node monitoring-alert.cjs "<subject>" ["<details>"]');
    return EX_USAGE;
  }
  try {
    const id = await sendAlert(fromEnv(env), { from, to: env.ALERT_TO, subject, ...(details ? { details } : {}) });
    console.log(`alert sent: ${id}`);
    return 0;
  } catch (err) {
    if (!isGmailTransportError(err)) throw err;
    // Safe to log: the library's errors never carry a password, token or key.
    console.error(`alert not sent: ${err.code}: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
    return err.retryable ? EX_TEMPFAIL : 1;
  }
}

module.exports = { sendAlert, main };

if (require.main === module) {
  main().then(
    (status) => (process.exitCode = status),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
