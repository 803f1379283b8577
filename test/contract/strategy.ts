import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { inspect } from 'node:util';
import { createGmailTransport, isGmailTransportError, type GmailTransportConfig, type StrategyName } from '../../src/index.js';
import type { ParsedMail } from 'mailparser';
import { startRecordingServer, type RecordingServer, type RecordingServerOptions } from '../helpers/smtp-server.js';

/**
 * What the contract sends to: the local SMTP server (test/helpers/smtp-server.ts) for the SMTP
 * strategies, or a server of the strategy's own (the Gmail API's, test/helpers/gmail-api-server.ts).
 */
export interface ContractTarget {
  readonly port: number;
  /** The certificate a client must trust ('' without TLS). */
  readonly cert: string;
  /** Connections (SMTP) or requests (HTTP) seen so far. */
  readonly connections: number;
  readonly messages: readonly { envelope: { from: string; to: string[] }; parsed: ParsedMail; secure: boolean }[];
  /** Resolves once everything sent before it has been counted, counting one arrival of its own (SMTP: see connectionsSince). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

/** A config that must be refused at construction, and the field paths the error must name. */
export interface InvalidConfigCase<Target extends ContractTarget = RecordingServer> {
  title: string;
  /** Built against the contract's listening server, to prove nothing connects to it. */
  config: (server: Target) => unknown;
  paths: readonly string[];
}

export interface StrategyContractCases<Target extends ContractTarget = RecordingServer> {
  /** A complete, valid config for the strategy, pointed at the local server with `smtp`. */
  config: (server: Target) => GmailTransportConfig;
  /** How the local server behaves (implicit TLS, no AUTH...). */
  server?: RecordingServerOptions;
  /** A server of the strategy's own instead of the local SMTP server (the Gmail API's). */
  start?: () => Promise<Target>;
  /** Connections (or requests) one verify() makes: one per route, plus a token request for the Gmail API. @default 1 */
  verifyConnections?: number;
  /** `false` when the local server has no TLS (the Gmail API's on loopback HTTP). */
  secure?: false;
  /** Bad configs: each must throw CONFIG_INVALID naming its paths, before any network. */
  invalid: readonly InvalidConfigCase<Target>[];
  /** Every secret of the configs above; none may appear in any error. */
  secrets: readonly string[];
  /**
   * The config as the strategy's guide, docs/strategies/<name>.md, shows it (without the test-only
   * `smtp`): every key must appear in the guide's first code block, so the docs cannot drift from the tests.
   */
  readmeConfig?: Record<string, unknown>;
  /** `false` for a strategy without nodemailer's pool options; the pool's close() is then not run. */
  pool?: false;
}

/** Asserts that no secret appears in any rendering of an error. */
export function expectNoSecret(err: unknown, secrets: readonly string[]): void {
  const renderings = [String(err), JSON.stringify(err), inspect(err, { depth: 5 })];
  const hint = (err as { hint?: unknown }).hint;
  if (typeof hint === 'string') renderings.push(hint);
  for (const text of renderings) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

/**
 * How many connections the server saw since it had `start`, not counting one of our own that
 * this opens and closes. smtp-server counts a connection (onConnect) 100 ms after accepting it,
 * right before its greeting, in the order they came: once our greeting arrives, any connection
 * opened before ours has been counted. A check for "nothing connected" without a sleep.
 */
export async function connectionsSince(server: ContractTarget, start: number, secure = false): Promise<number> {
  if (server.flush) {
    await server.flush();
    return server.connections - start - 1;
  }
  await new Promise<void>((resolve, reject) => {
    const socket = secure ? tlsConnect({ host: '127.0.0.1', port: server.port, ca: [server.cert] }) : connect(server.port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
  });
  return server.connections - start - 1;
}

/** The first ```ts block of the strategy's guide, docs/strategies/<name>.md ('' when there is none). */
export function strategyGuideBlock(name: string): string {
  let guide: string;
  try {
    guide = readFileSync(new URL(`../../docs/strategies/${name}.md`, import.meta.url), 'utf8');
  } catch {
    return '';
  }
  const fence = guide.indexOf('```ts');
  const end = guide.indexOf('```', fence + 5);
  return fence < 0 || end < 0 ? '' : guide.slice(fence, end);
}

/**
 * The contract every strategy passes (the model is Symfony's TransportFactoryTestCase): built
 * from its config alone without touching the network, sends to a local server, verify() and
 * close() work, and a bad config is a CONFIG_INVALID naming the field, with no secret in it.
 */
export function runStrategyContract<Target extends ContractTarget = RecordingServer>(name: StrategyName, cases: StrategyContractCases<Target>): void {
  describe(`${name}: strategy contract`, () => {
    let server: Target;
    let closed = 0;
    const secure = cases.server?.secure ?? false;
    beforeAll(async () => {
      if (cases.start) {
        server = await cases.start();
        return;
      }
      const extra = cases.server?.extra ?? {};
      server = (await startRecordingServer({
        ...cases.server,
        extra: {
          ...extra,
          onClose(session, callback) {
            closed++;
            extra.onClose?.(session, callback);
          },
        },
      })) as unknown as Target;
    });
    afterAll(() => server.close());

    it('builds from its config alone, without connecting', async () => {
      const start = server.connections;
      const mailer = createGmailTransport(cases.config(server));
      expect(typeof mailer.sendMail).toBe('function');
      expect(typeof mailer.verify).toBe('function');
      expect(await connectionsSince(server, start, secure)).toBe(0);
      mailer.close();
    });

    it('sends a message to the local server', async () => {
      const mailer = createGmailTransport(cases.config(server));
      const subject = `contract ${name}`;
      const info = await mailer.sendMail({ from: 'sender@example.com', to: 'rcpt@example.com', subject, text: 'contract body' });
      expect(info.accepted).toEqual(['rcpt@example.com']);
      const got = server.messages.at(-1)!;
      expect(got.envelope).toEqual({ from: 'sender@example.com', to: ['rcpt@example.com'] });
      expect(got.parsed.subject).toBe(subject);
      expect(got.parsed.text?.trim()).toBe('contract body');
      expect(got.secure).toBe(cases.secure ?? true);
      mailer.close();
    });

    it('verify() connects and resolves true', async () => {
      const mailer = createGmailTransport(cases.config(server));
      const before = server.connections;
      await expect(mailer.verify()).resolves.toBe(true);
      expect(server.connections).toBe(before + (cases.verifyConnections ?? 1));
      mailer.close();
    });

    if (cases.pool !== false) {
      it('close() closes the connections of a pool', async () => {
        const mailer = createGmailTransport({ ...cases.config(server), pool: true, maxConnections: 1 } as GmailTransportConfig);
        await mailer.sendMail({ from: 'sender@example.com', to: 'rcpt@example.com', subject: 'pooled', text: 'x' });
        await mailer.sendMail({ from: 'sender@example.com', to: 'rcpt@example.com', subject: 'pooled', text: 'y' });
        const connections = server.connections;
        expect(closed).toBeLessThan(connections);
        mailer.close();
        await vi.waitFor(() => expect(closed).toBe(connections));
      });
    }

    if (cases.readmeConfig) {
      const readmeConfig = cases.readmeConfig;
      it('is the config its guide shows (docs/strategies/<name>.md)', () => {
        const block = strategyGuideBlock(name);
        expect(block, `docs/strategies/${name}.md opens with a \`\`\`ts block`).not.toBe('');
        expect(block).toContain(`strategy: '${name}'`);
        for (const key of Object.keys(readmeConfig)) expect(block).toMatch(new RegExp(`\\b${key}:`));
      });
    }

    for (const bad of cases.invalid) {
      it(`refuses a bad config before any network: ${bad.title}`, async () => {
        const start = server.connections;
        let thrown: unknown;
        try {
          createGmailTransport(bad.config(server) as GmailTransportConfig);
        } catch (err) {
          thrown = err;
        }
        expect(isGmailTransportError(thrown)).toBe(true);
        expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, phase: 'config' });
        const paths = (thrown as { issues: { path: string }[] }).issues.map((i) => i.path);
        for (const path of bad.paths) {
          expect(paths).toContain(path);
          expect((thrown as Error).message).toContain(path);
        }
        expectNoSecret(thrown, cases.secrets);
        expect(await connectionsSince(server, start, secure)).toBe(0);
      });
    }
  });
}
