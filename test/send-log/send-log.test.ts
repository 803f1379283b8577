import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { createGmailTransport, readSendLog, type GmailTransportConfig, type GmailTransporter, type SendRecord, type TransportEvents } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { startScriptedServer, type ScriptedSmtpServer, type SessionScript } from '../helpers/scripted-smtp.js';
import { startRecordingServer } from '../helpers/smtp-server.js';
import { replayConfig, secretForms, SECRETS } from '../helpers/replay.js';
import { TokenAuthority } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX, uniqueClientId } from '../helpers/oauth-fixtures.js';
import { tempDirs } from '../helpers/temp-dirs.js';

// Gmail's final reply to the message's dot: the queue id is the token before " - gsmtp".
const GMAIL_ACCEPTED = '250 2.0.0 OK  1715071234 d9443c01a7336-1f2a3b4c5d6sm1234567ad.54 - gsmtp';
const QUEUE_ID = 'd9443c01a7336-1f2a3b4c5d6sm1234567ad.54';
// Real Google replies (test/fixtures/google-replies.json).
const REPLY_421 = '421 4.7.0 Temporary System Problem.  Try again later (10). q123-v6sm5523809pfq.169 - gsmtp';
const REPLY_550 =
  "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos or\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123.9 - gsmtp";
const FAST_RETRY = { attempts: 2, minDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 10_000 };
const SUBJECT = '月次報告 (scan 0042)';

const msw = setupServer();
const authority = new TokenAuthority();
const gmailSends: Buffer[] = [];
beforeAll(() => {
  msw.listen({ onUnhandledRequest: 'error' });
  msw.use(
    authority.handler(),
    http.post('https://gmail.googleapis.com/gmail/v1/users/:user/messages/send', async ({ request }) => {
      gmailSends.push(Buffer.from(((await request.json()) as { raw: string }).raw, 'base64url'));
      return HttpResponse.json({ id: '18f4c2a9e1b7d3c0', threadId: '18f4c2a9e1b7d3c0', labelIds: ['SENT'] });
    }),
  );
});
afterAll(() => msw.close());

const tempDir = tempDirs('send-log-');
const servers: ScriptedSmtpServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function scripted(script: SessionScript | ((n: number) => SessionScript)): Promise<ScriptedSmtpServer> {
  const server = await startScriptedServer({ script });
  servers.push(server);
  return server;
}

/** Every record in the folder's files, in the order the lines were written. */
function linesIn(dir: string): SendRecord[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as SendRecord),
    );
}

/**
 * Sends and returns the outcome together with the records on disk at the moment sendMail
 * settled, read synchronously in its continuation: the record was written before.
 */
async function sendAndRead(mailer: GmailTransporter, dir: string, message: Record<string, unknown>) {
  const before = linesIn(dir).length;
  return mailer.sendMail(message).then(
    (info) => ({ info, error: undefined, records: linesIn(dir).slice(before) }),
    (error: unknown) => ({ info: undefined, error: error as { code: string }, records: linesIn(dir).slice(before) }),
  );
}

const MESSAGE = { from: 'me@gmail.com', to: 'customer@example.com', subject: SUBJECT, text: 'Your scan is attached.' };

function expectNoSecrets(dir: string): void {
  const text = readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
  for (const secret of [...secretForms(), CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX]) expect(text).not.toContain(secret);
  expect(text).not.toContain('Your scan is attached');
}

describe('sendLog: one record per sendMail outcome, from real sends (issue 21)', () => {
  const dir = tempDir();
  const log = (extra: Record<string, unknown> = {}) => ({ sendLog: { dir, subjects: true, ...extra } });

  it('a delivery: Google queue id, size, mailbox, attempts, subject; written before sendMail resolves', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const mailer = createGmailTransport(replayConfig('app-password', server, log()));
    const { info, records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(records).toEqual([
      {
        id: expect.stringMatching(/^[\w-]{12}\.\d+$/),
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        strategy: 'app-password',
        user: SECRETS.user,
        from: 'me@gmail.com',
        to: ['customer@example.com'],
        messageId: info!.messageId,
        size: expect.any(Number),
        status: 'delivered',
        response: GMAIL_ACCEPTED,
        upstreamId: QUEUE_ID,
        latencyMs: expect.any(Number),
        attempts: 1,
        subject: SUBJECT,
      },
    ]);
    // The message's bytes as the server received them (its copy is dot-stuffed, which this one is not).
    expect(records[0]!.size).toBe(server.received[0]!.raw.length);
    expect(Date.parse(records[0]!.time)).toBeLessThanOrEqual(Date.now());
  });

  it('a 550 at RCPT: refused, RECIPIENT_REJECTED, the reply on one line, no size (no message was built)', async () => {
    const server = await scripted({ replies: { rcpt: REPLY_550 } });
    const mailer = createGmailTransport(replayConfig('app-password', server, log()));
    const { error, records } = await sendAndRead(mailer, dir, { ...MESSAGE, to: 'nobody@example.com' });
    mailer.close();
    expect(error?.code).toBe('RECIPIENT_REJECTED');
    expect(records).toEqual([
      expect.objectContaining({
        status: 'refused',
        code: 'RECIPIENT_REJECTED',
        to: ['nobody@example.com'],
        attempts: 1,
        response: REPLY_550.replace(/\n/g, ' '),
      }),
    ]);
    expect(records[0]).not.toHaveProperty('size');
    expect(records[0]).not.toHaveProperty('upstreamId');
    expect(server.received).toHaveLength(0);
  });

  it('a 421 with retries off: deferred, one attempt', async () => {
    const server = await scripted({ replies: { mail: REPLY_421 } });
    const mailer = createGmailTransport(replayConfig('app-password', server, log()));
    const { error, records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(error?.code).toBe('TEMPORARY_FAILURE');
    expect(records).toEqual([expect.objectContaining({ status: 'deferred', code: 'TEMPORARY_FAILURE', response: REPLY_421, attempts: 1 })]);
  });

  it('a 421, then a delivery on the retry: one record, delivered, 2 attempts', async () => {
    const server = await scripted((n) => (n === 0 ? { replies: { mail: REPLY_421 } } : { replies: { dot: GMAIL_ACCEPTED } }));
    const mailer = createGmailTransport(replayConfig('app-password', server, { ...log(), retry: FAST_RETRY }));
    const { records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(records).toEqual([expect.objectContaining({ status: 'delivered', attempts: 2, upstreamId: QUEUE_ID })]);
  });

  it('the connection dropped after the final dot: uncertain, DELIVERY_UNCERTAIN, never retried', async () => {
    const server = await scripted({ drop: 'after-dot' });
    const mailer = createGmailTransport(replayConfig('app-password', server, { ...log(), retry: FAST_RETRY }));
    const { error, info, records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(info).toBeUndefined();
    expect(error?.code).toBe('DELIVERY_UNCERTAIN');
    expect(server.connections).toBe(1);
    expect(records).toEqual([expect.objectContaining({ status: 'uncertain', code: 'DELIVERY_UNCERTAIN', attempts: 1, size: server.received[0]!.raw.length })]);
    expect(records[0]!.response).toMatch(/delivery is uncertain/);
  });

  it('a failover: one record, the route that delivered, with every attempt of every route', async () => {
    const busy = await scripted({ replies: { mail: REPLY_421 } });
    const backup = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const config = {
      strategy: 'failover',
      transports: [replayConfig('app-password', busy, { retry: FAST_RETRY }), { ...replayConfig('app-password', backup), user: 'backup@gmail.com' }],
      ...log(),
    } as GmailTransportConfig;
    const mailer = createGmailTransport(config);
    const { records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(busy.connections).toBe(2);
    expect(records).toEqual([
      expect.objectContaining({ strategy: 'app-password', route: 1, user: 'backup@gmail.com', status: 'delivered', attempts: 3, upstreamId: QUEUE_ID }),
    ]);
  });

  it('a failover whose every route fails: one record naming the last route', async () => {
    const busy = await scripted({ replies: { mail: REPLY_421 } });
    const config = {
      strategy: 'failover',
      transports: [replayConfig('app-password', busy), replayConfig('relay', busy)],
      ...log(),
    } as GmailTransportConfig;
    const mailer = createGmailTransport(config);
    const { records } = await sendAndRead(mailer, dir, MESSAGE);
    mailer.close();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ strategy: 'relay', route: 1, status: 'deferred', attempts: 2 });
    expect(records[0]).not.toHaveProperty('user');
  });

  it('the Gmail API: the message id Gmail returned as upstreamId, the mailbox as user', async () => {
    const mailer = createGmailTransport({
      strategy: 'gmail-api',
      user: 'office@example.com',
      clientId: uniqueClientId(),
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH_TOKEN,
      ...log(),
    });
    const { info, records } = await sendAndRead(mailer, dir, { ...MESSAGE, from: 'office@example.com' });
    mailer.close();
    expect(records).toEqual([
      expect.objectContaining({
        strategy: 'gmail-api',
        user: 'office@example.com',
        status: 'delivered',
        upstreamId: '18f4c2a9e1b7d3c0',
        messageId: info!.messageId,
        size: gmailSends.at(-1)!.length,
        attempts: 1,
      }),
    ]);
  });

  it('a refresh token Google refused: refused, OAUTH_INVALID_GRANT, before any message was built', async () => {
    authority.behaviour = { kind: 'reply', status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    try {
      const mailer = createGmailTransport({
        strategy: 'gmail-api',
        user: 'office@example.com',
        clientId: uniqueClientId(),
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
        retry: false,
        ...log(),
      });
      const { error, records } = await sendAndRead(mailer, dir, { ...MESSAGE, from: 'office@example.com' });
      mailer.close();
      expect(error?.code).toBe('OAUTH_INVALID_GRANT');
      expect(records).toEqual([
        expect.objectContaining({ strategy: 'gmail-api', user: 'office@example.com', status: 'refused', code: 'OAUTH_INVALID_GRANT', attempts: 1 }),
      ]);
    } finally {
      authority.behaviour = { kind: 'ok' };
    }
  });

  it('a recipient refused among others: delivered, with the refused one in `rejected`', async () => {
    const server = await startRecordingServer({ secure: true, onRcptTo: (address) => (address.startsWith('gone') ? '550 5.1.1 No such user' : undefined) });
    try {
      const mailer = createGmailTransport({ ...replayConfig('app-password', server), ...log() } as GmailTransportConfig);
      const { records } = await sendAndRead(mailer, dir, { ...MESSAGE, to: ['customer@example.com', 'gone@example.com'] });
      mailer.close();
      expect(records).toEqual([
        expect.objectContaining({ status: 'delivered', to: ['customer@example.com', 'gone@example.com'], rejected: ['gone@example.com'] }),
      ]);
    } finally {
      await server.close();
    }
  });

  it('a failure before the transport (a plugin refused the message): a record with 0 attempts', async () => {
    const server = await scripted({});
    const mailer = createGmailTransport(replayConfig('app-password', server, log()));
    mailer.use('compile', (_mail, done) => done(new Error('plugin says no')));
    const { error, records } = await sendAndRead(mailer, dir, { ...MESSAGE, to: '"Customer, Inc." <customer@example.com>', cc: ['boss@example.com'] });
    mailer.close();
    expect(error?.code).toBe('UNKNOWN');
    expect(records).toEqual([
      expect.objectContaining({
        status: 'refused',
        code: 'UNKNOWN',
        attempts: 0,
        from: 'me@gmail.com',
        to: ['customer@example.com', 'boss@example.com'],
        subject: SUBJECT,
      }),
    ]);
    expect(server.connections).toBe(0);
  });

  it('callback-style sendMail: the record is on disk when the callback runs', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const mailer = createGmailTransport(replayConfig('app-password', server, log()));
    const before = linesIn(dir).length;
    const seen = await new Promise<number>((resolve) => mailer.sendMail(MESSAGE, () => resolve(linesIn(dir).length - before)));
    mailer.close();
    expect(seen).toBe(1);
  });

  it('no record holds a secret or a body', () => {
    expectNoSecrets(dir);
  });

  describe('read back: CLI (table, CSV, JSON lines) and readSendLog, newest first', () => {
    const run = async (...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(['log', '--dir', dir, ...args], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        cwd: process.cwd(),
      });
      return { code, stdout, stderr };
    };
    const newestFirst = () => [...linesIn(dir)].reverse();

    it('readSendLog yields every record, newest first, as written', async () => {
      const all: SendRecord[] = [];
      for await (const record of readSendLog({ dir })) all.push(record);
      expect(all.length).toBe(12);
      expect(all).toEqual(newestFirst());
      expect(new Set(all.map((r) => r.status))).toEqual(new Set(['delivered', 'refused', 'deferred', 'uncertain']));
    });

    it('JSON lines: one object per line, the records as stored', async () => {
      const { code, stdout } = await run('--format', 'json');
      expect(code).toBe(0);
      expect(stdout.endsWith('\n')).toBe(true);
      expect(
        stdout
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as unknown),
      ).toEqual(newestFirst());
    });

    it('CSV: a UTF-8 byte-order mark, a header row, one row per record, Japanese intact', async () => {
      const { code, stdout } = await run('--format', 'csv');
      expect(code).toBe(0);
      const bytes = Buffer.from(stdout, 'utf8');
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = parseCsv(stdout.slice(1));
      const [header, ...body] = rows;
      expect(header).toEqual([
        'id',
        'time',
        'strategy',
        'route',
        'user',
        'from',
        'to',
        'rejected',
        'messageId',
        'size',
        'status',
        'code',
        'response',
        'upstreamId',
        'latencyMs',
        'attempts',
        'subject',
        'account',
        'client',
      ]);
      const records = newestFirst();
      expect(body).toHaveLength(records.length);
      body.forEach((row, i) => {
        const record = records[i]! as unknown as Record<string, unknown>;
        header!.forEach((column, c) => {
          const value = record[column];
          expect(row[c], `${column} of row ${i + 1}`).toBe(value === undefined ? '' : Array.isArray(value) ? value.join('; ') : String(value));
        });
      });
      expect(stdout).toContain(SUBJECT);
    });

    it('table: a header and one aligned line per record, local times', async () => {
      const { code, stdout } = await run();
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^TIME\s+STATUS\s+TO\s+FROM\s+CODE\s+MS\s+TRIES\s+SUBJECT$/);
      const records = newestFirst();
      expect(lines).toHaveLength(records.length + 1);
      const statusColumn = lines[0]!.indexOf('STATUS');
      records.forEach((record, i) => {
        const local = new Date(record.time);
        const two = (n: number) => String(n).padStart(2, '0');
        expect(
          lines[i + 1]!.startsWith(
            `${local.getFullYear()}-${two(local.getMonth() + 1)}-${two(local.getDate())} ${two(local.getHours())}:${two(local.getMinutes())}:${two(local.getSeconds())}`,
          ),
        ).toBe(true);
        expect(lines[i + 1]!.slice(statusColumn).startsWith(record.status)).toBe(true);
      });
      expect(stdout).toContain('DELIVERY_UNCERTAIN');
      expect(stdout).toContain('3 (route 1)');
    });

    it('filters: status, recipient, sender domain, limit, time window', async () => {
      const refused = await run('--status', 'refused', '--format', 'json');
      expect(
        refused.stdout
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as SendRecord).code),
      ).toEqual(['UNKNOWN', 'OAUTH_INVALID_GRANT', 'RECIPIENT_REJECTED']);
      const several = await run('--status', 'deferred,uncertain', '--format', 'json');
      expect(several.stdout.trimEnd().split('\n')).toHaveLength(3);
      const nobody = await run('--to', 'NOBODY@example.com', '--format', 'json');
      expect(
        nobody.stdout
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as SendRecord).status),
      ).toEqual(['refused']);
      const office = await run('--from', '@EXAMPLE.com', '--format', 'json');
      expect(
        office.stdout
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as SendRecord).status),
      ).toEqual(['refused', 'delivered']);
      const two = await run('--limit', '2', '--format', 'json');
      expect(
        two.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
      ).toEqual(newestFirst().slice(0, 2));
      const future = await run('--since', new Date(Date.now() + 60_000).toISOString(), '--format', 'json');
      expect(future.stdout).toBe('');
      const gone = await run('--until', '2001-01-01');
      expect(gone).toMatchObject({ code: 0, stdout: '' });
      expect(gone.stderr).toContain('no records match');
      const all = [];
      for await (const r of readSendLog({ dir, status: ['uncertain'], since: new Date(Date.now() - 3_600_000), until: Date.now() })) all.push(r);
      expect(all.map((r) => r.code)).toEqual(['DELIVERY_UNCERTAIN']);
    });

    it.each([
      [['--since', '2024-02-30'], '--since'],
      [['--since', 'yesterday'], '--since'],
      [['--until', '2024-13-01'], '--until'],
      [['--until', '2024-05-07T24:00'], '--until'],
      [['--status', 'bounced'], '--status'],
      [['--status', 'delivered,'], '--status'],
      [['--limit', '0'], '--limit'],
      [['--limit', 'ten'], '--limit'],
      [['--format', 'xml'], '--format'],
      [['--since', '2024-05-08', '--until', '2024-05-07'], '--since'],
    ])('%j is a usage error naming %s (exit 2)', async (args, flag) => {
      const { code, stdout, stderr } = await run(...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(flag);
    });

    it('a folder that does not exist: exit 1, said so; --dir missing: exit 2', async () => {
      let stderr = '';
      const io = { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, cwd: dir };
      expect(await main(['log', '--dir', 'no-such-folder'], io)).toBe(1);
      expect(stderr).toContain(join(dir, 'no-such-folder'));
      expect(await main(['log'], io)).toBe(2);
      expect(stderr).toContain('--dir');
    });
  });
});

describe('sendLog options', () => {
  it('subjects are off by default; recipients as domains or not at all', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const message = { ...MESSAGE, to: ['Customer@Example.com', 'b@example.org'] };
    const outcomes = [];
    for (const sendLog of [{}, { recipients: 'domain' }, { recipients: 'none' }]) {
      const dir = tempDir();
      const mailer = createGmailTransport(replayConfig('app-password', server, { sendLog: { dir, ...sendLog } }));
      outcomes.push((await sendAndRead(mailer, dir, message)).records[0]!);
      mailer.close();
    }
    expect(outcomes.map((r) => r.to)).toEqual([['Customer@example.com', 'b@example.org'], ['*@example.com', '*@example.org'], []]);
    for (const record of outcomes) expect(record).not.toHaveProperty('subject');
  });

  it('a sink of your own: sendMail waits for its promise; what it throws is a warning, never a failed send', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const order: string[] = [];
    let fail = false;
    const sink = {
      subjects: true,
      async write(record: SendRecord) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (fail) throw new Error(`store down, could not save ${record.subject}`);
        order.push(`written ${record.status}`);
      },
    };
    const mailer = createGmailTransport(replayConfig('app-password', server, { sendLog: sink }));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    await mailer.sendMail(MESSAGE).then(() => order.push('settled'));
    fail = true;
    const info = await mailer.sendMail(MESSAGE);
    mailer.close();
    expect(order).toEqual(['written delivered', 'settled']);
    expect(info.accepted).toEqual(['customer@example.com']);
    expect(server.accepted).toBe(2);
    expect(warnings).toEqual([{ code: 'SEND_LOG_WRITE_FAILED', message: expect.stringContaining('Error') as string, strategy: 'app-password' }]);
    // The sink's own error text may quote the record: it is not repeated.
    expect(warnings[0]!.message).not.toContain(SUBJECT);
  });

  it('a folder that cannot be written: a warning per lost record, the message still sent once', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    const blocker = join(tempDir(), 'not-a-folder');
    writeFileSync(blocker, 'a file where the log folder should be');
    const logger = { warn: (obj: Record<string, unknown>) => logged.push(obj) };
    const logged: Record<string, unknown>[] = [];
    const mailer = createGmailTransport(replayConfig('app-password', server, { sendLog: { dir: join(blocker, 'log') }, logger }));
    const warnings: TransportEvents['warning'][] = [];
    mailer.on('warning', (w) => warnings.push(w));
    const info = await mailer.sendMail(MESSAGE);
    const err = await mailer.sendMail({ ...MESSAGE, to: [] }).catch((e: unknown) => e as { code: string });
    mailer.close();
    expect(info.accepted).toEqual(['customer@example.com']);
    expect(err.code).toBeDefined();
    expect(server.accepted).toBe(1);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toEqual({
      code: 'SEND_LOG_WRITE_FAILED',
      message: `could not record 1 message in the send log at ${join(blocker, 'log')} (ENOTDIR)`,
      strategy: 'app-password',
    });
    expect(logged).toEqual([
      expect.objectContaining({ event: 'warning', code: 'SEND_LOG_WRITE_FAILED' }),
      expect.objectContaining({ event: 'warning', code: 'SEND_LOG_WRITE_FAILED' }),
    ]);
  });

  it('the file writer loads with the transport; should it fail to load, each record is reported lost and each send settles once', async () => {
    const server = await scripted({ replies: { dot: GMAIL_ACCEPTED } });
    vi.resetModules();
    vi.doMock('../../src/send-log/file.js', () => {
      throw new Error('the chunk is missing');
    });
    try {
      const fresh = await import('../../src/index.js');
      const dir = tempDir();
      const mailer = fresh.createGmailTransport(replayConfig('app-password', server, { sendLog: { dir } }));
      const warnings: TransportEvents['warning'][] = [];
      mailer.on('warning', (w) => warnings.push(w));
      // Both sends start before the load has failed: they wait for it, then settle.
      const infos = await Promise.all([mailer.sendMail(MESSAGE), mailer.sendMail(MESSAGE)]);
      mailer.close();
      expect(infos.map((i) => i.accepted)).toEqual([['customer@example.com'], ['customer@example.com']]);
      expect(server.accepted).toBe(2);
      expect(warnings).toEqual([
        { code: 'SEND_LOG_WRITE_FAILED', message: "the send log's file writer could not be loaded; the message's record is lost", strategy: 'app-password' },
        { code: 'SEND_LOG_WRITE_FAILED', message: "the send log's file writer could not be loaded; the message's record is lost", strategy: 'app-password' },
      ]);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      vi.doUnmock('../../src/send-log/file.js');
      vi.resetModules();
    }
  });

  it.each([
    [{ sendLog: 'logs/' }, 'sendLog must be an object'],
    [{ sendLog: {} }, 'sendLog.dir is required'],
    [{ sendLog: { dir: 'x', retentionDays: 0 } }, 'sendLog.retentionDays must be at least 1'],
    [{ sendLog: { dir: 'x', retentionDays: 1.5 } }, 'sendLog.retentionDays must be an integer'],
    [{ sendLog: { dir: 'x', recipients: 'hashed' } }, "sendLog.recipients must be one of 'full', 'domain', 'none'"],
    [{ sendLog: { dir: 'x', subjects: 'yes' } }, 'sendLog.subjects must be a boolean'],
    [{ sendLog: { dir: 'x', rotate: 'daily' } }, 'sendLog.rotate is not a known option'],
    [{ sendLog: { dir: 'x', write: () => undefined } }, 'sendLog.dir cannot be combined with write'],
    [{ sendLog: { write: 'stdout' } }, 'sendLog.write must be a function'],
  ])('%j is CONFIG_INVALID naming the field', (extra, issue) => {
    const server = { port: 1, cert: '' };
    expect(() => createGmailTransport(replayConfig('app-password', server, extra))).toThrowError(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(issue) as string }) as Error,
    );
  });

  it('a failover takes sendLog on itself, not on its routes', () => {
    const server = { port: 1, cert: '' };
    const config = { strategy: 'failover', transports: [replayConfig('app-password', server, { sendLog: { dir: 'x' } })] } as GmailTransportConfig;
    expect(() => createGmailTransport(config)).toThrowError(/transports\[0\]\.sendLog belongs on the failover itself/);
  });
});

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  return rows;
}
