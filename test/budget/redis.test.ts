import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { createGmailTransport, type TransportEvents } from '../../src/index.js';
import { HAS_REDIS, REDIS_SKIP_REASON, freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startScriptedServer } from '../helpers/scripted-smtp.js';
import { localSmtp, settleWithFakeTimers } from '../helpers/oauth-fixtures.js';
import { sendFailure } from '../helpers/send-failure.js';

const CHILD = fileURLToPath(new URL('./redis-child.ts', import.meta.url));
const APP_PASSWORD = 'fakeredisbudgetq';
const DAY_MS = 24 * 60 * 60 * 1000;

interface ChildReport {
  outcomes: Array<{ ok: true } | { ok: false; code: string; phase?: string; retryAfterMs?: number }>;
  warnings: TransportEvents['warning'][];
  status: Array<{ messages: { used: number; left?: number }; store: string }>;
}

let serial = 0;
const mailbox = () => `redis-budget-${process.pid}-${++serial}@example.com`;

if (!HAS_REDIS) {
  describe.skip(`sending budget shared through Redis${REDIS_SKIP_REASON}`, () => {
    it('needs redis-server', () => undefined);
  });
} else {
  describe('sending budget shared through Redis (a real redis-server)', () => {
    let redis: RedisServer;
    let smtp: RecordingServer;
    const open: Keyv[] = [];
    beforeAll(async () => {
      redis = await startRedis();
      smtp = await startRecordingServer({ secure: true });
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    afterAll(async () => {
      await Promise.all(open.map((k) => k.disconnect().catch(() => undefined)));
      await smtp.close();
      await redis.stop();
    });
    const keyv = () => {
      const k = new Keyv(new KeyvRedis(redis.url, { throwOnConnectError: true, connectionTimeout: 1_000 }));
      open.push(k);
      return k;
    };

    async function runProcesses(n: number, env: Record<string, string>): Promise<ChildReport[]> {
      const children = Array.from({ length: n }, () =>
        spawn(process.execPath, ['--import', 'tsx', CHILD], {
          env: { ...process.env, REDIS_URL: redis.url, APP_PASSWORD, ...env },
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      );
      const outputs = children.map((child) => {
        const lines: string[] = [];
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const rl = createInterface({ input: child.stdout });
        const ready = new Promise<void>((resolve, reject) => {
          rl.on('line', (line) => {
            lines.push(line);
            if (line === 'ready') resolve();
          });
          child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
        });
        const done = new Promise<ChildReport>((resolve, reject) => {
          child.once('exit', () => {
            const last = lines.at(-1);
            if (!last || last === 'ready') reject(new Error(`no result: ${stderr}`));
            else resolve(JSON.parse(last) as ChildReport);
          });
        });
        return { child, ready, done };
      });
      await Promise.all(outputs.map((o) => o.ready));
      for (const o of outputs) o.child.stdin.write('go\n');
      return Promise.all(outputs.map((o) => o.done));
    }

    it('4 processes sending at once deliver exactly the budget between them; the rest are refused with phase budget', { timeout: 90_000 }, async () => {
      const user = mailbox();
      const before = smtp.messages.length;
      const reports = await runProcesses(4, { MAILBOX: user, MESSAGES_PER_DAY: '20', SEND_COUNT: '10', SMTP_PORT: String(smtp.port), SMTP_CA: smtp.cert });
      const outcomes = reports.flatMap((r) => r.outcomes);
      expect(outcomes).toHaveLength(40);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(20);
      const refused = outcomes.filter((o): o is Extract<typeof o, { ok: false }> => !o.ok);
      expect(new Set(refused.map((o) => `${o.code}/${o.phase}`))).toEqual(new Set(['QUOTA_EXCEEDED/budget']));
      expect(refused.every((o) => o.retryAfterMs! > DAY_MS - 120_000)).toBe(true);
      expect(smtp.messages.filter((m) => m.envelope.from === user)).toHaveLength(20);
      expect(smtp.messages.length - before).toBe(20);
      // One BUDGET_LOW among all the processes: the one whose reservation reached 16 of 20.
      expect(reports.flatMap((r) => r.warnings).filter((w) => w.code === 'BUDGET_LOW')).toHaveLength(1);
      expect(reports.flatMap((r) => r.warnings).filter((w) => w.code !== 'BUDGET_LOW')).toEqual([]);
      expect(reports.map((r) => r.status[0])).toEqual(Array(4).fill(expect.objectContaining({ messages: { used: 20, limit: 20, left: 0 }, store: 'redis' })));

      // What Redis holds: one sorted set of 20 counted messages, under a hashed key.
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const keys = await client.keys('gmail-transport:v1:budget:*');
        expect(keys.some((k) => k.includes(user))).toBe(false);
        const logs = keys.filter((k) => k.endsWith(':log'));
        expect(logs).toHaveLength(1);
        expect(await client.zCard(logs[0]!)).toBe(20);
      } finally {
        client.destroy();
      }
    });

    it("Google's refusal seen by one process stops the others: they refuse with phase budget without connecting", { timeout: 60_000 }, async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const user = mailbox();
      const google = await startScriptedServer({ script: { replies: { dot: '550 5.4.5 Daily user sending quota exceeded. s124sm6149838wme.29 - gsmtp' } } });
      try {
        const here = createGmailTransport({
          strategy: 'app-password',
          user,
          appPassword: APP_PASSWORD,
          smtp: localSmtp(google as never),
          retry: false,
          budget: { store: keyv() },
        });
        expect(await sendFailure(here.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).toMatchObject({ code: 'QUOTA_EXCEEDED', phase: 'data' });
        here.close();
        expect(google.connections).toBe(1);
        vi.useRealTimers();
        const [other] = await runProcesses(1, { MAILBOX: user, SEND_COUNT: '2', SMTP_PORT: String(google.port), SMTP_CA: google.cert });
        expect(other!.outcomes).toEqual([
          expect.objectContaining({ ok: false, code: 'QUOTA_EXCEEDED', phase: 'budget' }),
          expect.objectContaining({ ok: false, code: 'QUOTA_EXCEEDED', phase: 'budget' }),
        ]);
        expect((other!.outcomes[0] as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(DAY_MS - 120_000);
        expect(google.connections).toBe(1);
      } finally {
        await google.close();
      }
    });

    it('rolls the window on the clock of the sending process (faked here)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const t0 = Date.parse('2026-03-02T09:00:00Z');
      vi.setSystemTime(t0);
      const user = mailbox();
      const mailer = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 2, recipientsPerDay: 3, store: keyv() },
      });
      const send = (to: string | string[] = 'you@example.com') => mailer.sendMail({ from: user, to, text: 'x' });
      await send();
      vi.setSystemTime(t0 + 60 * 60_000);
      await send(['a@example.com', 'b@example.com']);
      vi.setSystemTime(t0 + 2 * 60 * 60_000);
      expect((await sendFailure(send())).retryAfterMs).toBe(22 * 60 * 60_000);
      vi.setSystemTime(t0 + DAY_MS);
      // One message slot is free, but the recipients of t0 + 1 h still count: 2 + 2 > 3.
      const err = await sendFailure(send(['c@example.com', 'd@example.com']));
      expect(err.message).toContain('2 of 3 recipients');
      expect(err.retryAfterMs).toBe(60 * 60_000);
      await send();
      const [status] = await mailer.budgetStatus();
      expect(status).toMatchObject({ messages: { used: 2, limit: 2, left: 0 }, recipients: { used: 3, limit: 3, left: 0 }, store: 'redis' });
      mailer.close();
    });

    it('a message refused before it reached the server gives its reservation back in Redis', async () => {
      const user = mailbox();
      const refusing = await startScriptedServer({ script: (n) => (n === 0 ? { replies: { mail: '421 4.7.0 Try again later, closing connection.' } } : {}) });
      try {
        const mailer = createGmailTransport({
          strategy: 'app-password',
          user,
          appPassword: APP_PASSWORD,
          smtp: localSmtp(refusing as never),
          retry: false,
          budget: { messagesPerDay: 1, store: keyv() },
        });
        expect((await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).code).toBe('RATE_LIMITED');
        await mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' });
        expect((await sendFailure(mailer.sendMail({ from: user, to: 'you@example.com', text: 'x' }))).phase).toBe('budget');
        mailer.close();
      } finally {
        await refusing.close();
      }
    });

    it('keeps counting when Redis forgot its scripts (SCRIPT FLUSH, as after a restart)', async () => {
      const user = mailbox();
      const mailer = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 3, store: keyv() },
      });
      const warnings: TransportEvents['warning'][] = [];
      mailer.on('warning', (w) => warnings.push(w));
      await mailer.sendMail({ from: user, to: 'a@example.com', text: 'x' });
      await mailer.sendMail({ from: user, to: 'b@example.com', text: 'x' });
      const client = createClient({ url: redis.url });
      await client.connect();
      await client.scriptFlush();
      client.destroy();
      await mailer.sendMail({ from: user, to: 'c@example.com', text: 'x' });
      expect((await sendFailure(mailer.sendMail({ from: user, to: 'd@example.com', text: 'x' }))).phase).toBe('budget');
      mailer.close();
      expect(warnings.map((w) => w.code)).toEqual(['BUDGET_LOW']);
    });

    it('any other Keyv store shares the count too (read and written without a lock)', async () => {
      const user = mailbox();
      const shared = new Keyv();
      const a = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 3, store: shared },
      });
      const b = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 3, store: shared },
      });
      await Promise.all([a.sendMail({ from: user, to: 'x@example.com', text: 'x' }), b.sendMail({ from: user, to: 'y@example.com', text: 'x' })]);
      await a.sendMail({ from: user, to: 'z@example.com', text: 'x' });
      expect((await sendFailure(b.sendMail({ from: user, to: 'w@example.com', text: 'x' }))).phase).toBe('budget');
      expect((await b.budgetStatus())[0]).toMatchObject({ messages: { used: 3, left: 0 }, store: 'keyv' });
      a.close();
      b.close();
    });

    it('a store that hangs is given up after its bound (5 s, on faked timers): one warning, the message sent and counted in memory', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const user = mailbox();
      const hanging = { get: () => new Promise<never>(() => undefined), set: () => new Promise<never>(() => undefined), delete: () => undefined };
      const mailer = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 1, store: hanging },
      });
      const warnings: TransportEvents['warning'][] = [];
      mailer.on('warning', (w) => warnings.push(w));
      const started = Date.now();
      await settleWithFakeTimers(mailer.sendMail({ from: user, to: 'a@example.com', text: 'x' }), 500);
      expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
      // The store's failure, then (1 of 1 message counted in memory) the budget's 80%.
      expect(warnings.map((w) => w.code)).toEqual(['BUDGET_STORE_FAILED', 'BUDGET_LOW']);
      // Counted in memory meanwhile: the second message is over the budget, at once.
      expect((await sendFailure(mailer.sendMail({ from: user, to: 'b@example.com', text: 'x' }))).phase).toBe('budget');
      mailer.close();
    });

    it('a store that does not answer: one BUDGET_STORE_FAILED warning, and mail goes on, counted in memory', { timeout: 20_000 }, async () => {
      const user = mailbox();
      const deadPort = await freePort();
      const dead = new Keyv(new KeyvRedis(`redis://127.0.0.1:${deadPort}`, { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 200 }));
      dead.on('error', () => undefined);
      const mailer = createGmailTransport({
        strategy: 'app-password',
        user,
        appPassword: APP_PASSWORD,
        smtp: localSmtp(smtp),
        retry: false,
        budget: { messagesPerDay: 2, store: dead },
      });
      const warnings: TransportEvents['warning'][] = [];
      mailer.on('warning', (w) => warnings.push(w));
      await mailer.sendMail({ from: user, to: 'a@example.com', text: 'x' });
      await mailer.sendMail({ from: user, to: 'b@example.com', text: 'x' });
      expect((await sendFailure(mailer.sendMail({ from: user, to: 'c@example.com', text: 'x' }))).phase).toBe('budget');
      mailer.close();
      expect(warnings.filter((w) => w.code === 'BUDGET_STORE_FAILED')).toHaveLength(1);
      expect(warnings.find((w) => w.code === 'BUDGET_STORE_FAILED')!.message).toMatch(/memory/);
    });
  });
}
