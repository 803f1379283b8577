import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { BridgeMessageRecord } from '../../src/bridge/index.js';
import { headerAddresses } from '../../src/bridge/headers.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { fastHash, relayTo, startBridge, type RunningBridge } from '../helpers/bridge.js';
import { RawSmtpClient } from '../helpers/printer.js';

/**
 * Random sequences of SMTP commands and bytes against a running bridge, from devices that log
 * in and devices that do not (issue 18). Whatever arrives: no crash, no unhandled rejection,
 * no message relayed without a login or an allowed address, every reply a well-formed one, and
 * no state (lockouts, slots, login checks) that outlives its time.
 *
 * Bounded in runs and time: FUZZ_RUNS (default 40) and 12 s of runs; FUZZ_SEED replays one.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, interruptAfterTimeLimit: 12_000, ...(SEED === undefined ? {} : { seed: SEED }) };

const PASSWORD = 'FAKE-FUZZ-PW-2d8b';
const ALLOWED = '127.0.0.2';
const ADDRESSES = ['127.0.0.1', ALLOWED, '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
const T0 = Date.parse('2026-03-02T09:00:00Z');
const LOCKOUT_MINUTES = 1;

const b64 = (text: string) => Buffer.from(text).toString('base64');
const crlf = (line: string | Buffer) => Buffer.concat([Buffer.from(line), Buffer.from('\r\n')]);

// Weighted towards what a printer sends, so that many transactions get as far as the upstream.
const address = fc.oneof(
  { weight: 4, arbitrary: fc.constant('scans@example.com') },
  fc.constantFrom('SCANS@example.com', 'ceo@bank.example', '', 'スキャナ@example.com', 'no-at-sign', 'a@b', '"quoted local"@example.com'),
);
const mailParams = fc.oneof(
  { weight: 3, arbitrary: fc.subarray(['BODY=8BITMIME', 'SMTPUTF8', 'SIZE=1000']) },
  fc.subarray(['BODY=8BITMIME', 'BODY=7BIT', 'SMTPUTF8', 'SIZE=1000', 'SIZE=99999999999', 'BODY=BINARYMIME', 'RET=FULL', 'X=Y']),
);
const headerFrom = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('scans@example.com', 'Office <scans@example.com>', 'Group: scans@example.com;') },
  fc.constantFrom('ceo@bank.example', '"scans@example.com" <ceo@bank.example>', 'undisclosed'),
);
// Each message names itself (Message-ID), so what reached the upstream can be matched to its log record.
const body = fc
  .tuple(headerFrom, fc.option(headerFrom, { nil: undefined }), fc.string({ maxLength: 200 }), fc.boolean(), fc.nat())
  .map(([from, sender, text, dotted, id]) =>
    Buffer.from(
      [`From: ${from}`, ...(sender ? [`Sender: ${sender}`] : []), `Message-ID: <fuzz-${id}@device.local>`, 'Subject: fuzz', '', dotted ? `.${text}` : text, '']
        .join('\r\n')
        .replace(/\r\n\./g, '\r\n..'),
    ),
  );

/** One step of a device: the bytes it writes. */
const step: fc.Arbitrary<Buffer[]> = fc.oneof(
  fc
    .constantFrom(
      'EHLO device.local',
      'HELO device',
      'EHLO',
      'LHLO x',
      'NOOP',
      'RSET',
      'HELP',
      'VRFY postmaster',
      'EXPN list',
      'QUIT',
      'STARTTLS',
      'AUTH',
      'AUTH CRAM-MD5',
      'AUTH XOAUTH2 dXNlcg==',
      'DATA',
      'BDAT 10 LAST',
      'GET / HTTP/1.1',
      'TURN',
    )
    .map((c) => [crlf(c)]),
  fc.boolean().map((right) => [crlf(`AUTH PLAIN ${b64(`\0printer\0${right ? PASSWORD : 'FAKE-WRONG'}`)}`)]),
  fc
    .tuple(fc.constantFrom('printer', 'nobody', ''), fc.boolean())
    .map(([user, right]) => [crlf('AUTH LOGIN'), crlf(b64(user)), crlf(b64(right ? PASSWORD : 'guess'))]),
  fc.constantFrom('AUTH LOGIN', 'AUTH PLAIN').map((c) => [crlf(c), crlf('*')]),
  fc.tuple(address, mailParams).map(([a, p]) => [crlf([`MAIL FROM:<${a}>`, ...p].join(' '))]),
  address.map((a) => [crlf(`RCPT TO:<${a}>`)]),
  body.map((m) => [crlf('DATA'), m, crlf('.')]),
  // A whole transaction, so that many runs get as far as the upstream.
  {
    weight: 4,
    arbitrary: fc
      .tuple(address, mailParams, fc.array(address, { minLength: 1, maxLength: 3 }), body)
      .map(([from, p, to, m]) => [crlf([`MAIL FROM:<${from}>`, ...p].join(' ')), ...to.map((r) => crlf(`RCPT TO:<${r}>`)), crlf('DATA'), m, crlf('.')]),
  },
  fc.uint8Array({ maxLength: 300 }).map((bytes) => [crlf(Buffer.from(bytes))]),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => [Buffer.from(bytes)]),
  fc.constant(null).map(() => [crlf(`NOOP ${'x'.repeat(20_000)}`)]),
);
// Most sessions start the way devices do, so that the random steps reach every stage.
const preludes: Record<string, Buffer[][]> = {
  none: [],
  ehlo: [[crlf('EHLO device.local')]],
  login: [[crlf('EHLO device.local')], [crlf(`AUTH PLAIN ${b64(`\0printer\0${PASSWORD}`)}`)]],
  guess: [[crlf('EHLO device.local')], [crlf(`AUTH PLAIN ${b64('\0printer\0FAKE-GUESS')}`)]],
};
const session = fc
  .record({ from: fc.constantFrom(...ADDRESSES), prelude: fc.constantFrom(...Object.keys(preludes)), steps: fc.array(step, { maxLength: 12 }) })
  .map(({ from, prelude, steps }) => ({ from, steps: [...preludes[prelude]!, ...steps] }));

/** Runs one device session: writes each part of each step, waits briefly for a reply. Returns every reply. */
async function play(port: number, s: { from: string; steps: Buffer[][] }): Promise<string[]> {
  const client = await RawSmtpClient.connect(port, { localAddress: s.from });
  const settle = async (ms: number) => {
    const count = client.replies.length;
    // Not Date: the suite holds it still, to move it past the lockouts at the end.
    const started = performance.now();
    while (client.replies.length === count && !client.closed && performance.now() - started < ms) {
      await Promise.race([client.read(), new Promise((r) => setTimeout(r, ms))]);
    }
  };
  try {
    await settle(1000);
    for (const parts of s.steps) {
      // The parts of a step one by one, as a device waits for 354 before the message.
      for (const part of parts) {
        if (client.closed) break;
        client.write(part);
        await settle(25);
      }
    }
    await settle(25);
  } finally {
    client.close();
  }
  return client.replies;
}

describe('bridge protocol fuzz (issue 18)', () => {
  let upstream: ScriptedUpstream;
  let b: RunningBridge;
  const messages: BridgeMessageRecord[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    process.on('unhandledRejection', onRejection);
    upstream = await startScriptedUpstream();
    b = await startBridge({
      tls: undefined,
      allowInsecureAuth: true,
      accounts: [{ user: 'printer', passwordHash: await fastHash(PASSWORD), allowFrom: ['scans@example.com'] }],
      allowNetworks: [ALLOWED],
      upstream: relayTo(upstream),
      limits: {
        maxMessageBytes: 4096,
        maxRecipients: 2,
        authFailuresBeforeLockout: 6,
        lockoutMinutes: LOCKOUT_MINUTES,
        loginTimeoutSeconds: 5,
        maxConnections: 12,
      },
    });
    b.bridge.on('message', (m) => messages.push(m));
  });
  afterAll(async () => {
    vi.useRealTimers();
    process.off('unhandledRejection', onRejection);
    await b?.close();
    await upstream?.close();
    // The device password went over the wire in many forms; none reached a log line.
    for (const log of b?.logs ?? []) expect(log.line).not.toContain(PASSWORD);
  });

  it('random sessions: no crash, no unhandled rejection, nothing relayed without a login or an allowed address', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(session, { minLength: 1, maxLength: 3 }), async (sessions) => {
        const replies = (await Promise.all(sessions.map((s) => play(b.port, s)))).flat();
        for (const reply of replies) expect(reply).toMatch(/^\d{3}(?:[ -][^\r\n]*)?(?:\r\n\d{3}[ -][^\r\n]*)*$/);
        for (const m of messages.filter((r) => r.outcome === 'delivered')) {
          expect(m.account === 'printer' || m.client === ALLOWED).toBe(true);
          if (m.account === 'printer') expect(m.from.toLowerCase()).toBe('scans@example.com');
        }
        expect(upstream.accepted.length).toBe(messages.filter((r) => r.outcome === 'delivered').length);
        expect(rejections).toEqual([]);
      }),
      params,
    );
    // What a logged-in device got through had header From and Sender addresses allowFrom allows.
    for (const record of messages.filter((m) => m.outcome === 'delivered' && m.account === 'printer' && m.messageId)) {
      const sent = upstream.accepted.find((m) => m.raw.toString('utf8').includes(`Message-ID: ${record.messageId}`));
      const head = sent!.raw.toString('utf8').split('\r\n\r\n')[0]!;
      for (const [, value] of head.matchAll(/^(?:From|Sender):(.*)$/gim))
        expect(headerAddresses(value)?.map((a) => a.toLowerCase())).toEqual(expect.arrayContaining(['scans@example.com']));
      for (const [, value] of head.matchAll(/^(?:From|Sender):(.*)$/gim))
        expect(headerAddresses(value)!.every((a) => a.toLowerCase() === 'scans@example.com')).toBe(true);
    }
  }, 60_000);

  it('afterwards: every slot is free again, and every lockout ends after lockoutMinutes', async () => {
    // Wait for the sessions' connections to be gone from the bridge's books.
    await new Promise((r) => setTimeout(r, 300));
    vi.setSystemTime(T0 + LOCKOUT_MINUTES * 60_000 + 1000);
    for (const from of ADDRESSES) {
      // Half of maxConnections, at once, from each address the fuzz used.
      const clients = await Promise.all(Array.from({ length: 6 }, () => RawSmtpClient.connect(b.port, { localAddress: from })));
      const greetings = await Promise.all(clients.map((c) => c.read()));
      expect(greetings.every((g) => g.startsWith('220 '))).toBe(true);
      await clients[0]!.command('EHLO device.local');
      expect(await clients[0]!.command(`AUTH PLAIN ${b64(`\0printer\0${PASSWORD}`)}`)).toMatch(/^235 /);
      for (const c of clients) c.close();
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(rejections).toEqual([]);
  });
});
