import type { FailoverRouteConfig } from '../../src/index.js';
import type { ReplayStrategy, SmtpFixturePhase } from '../fixtures/smtp-replies.js';
import type { ScriptedSmtpServer, ScriptedStep, SessionScript } from './scripted-smtp.js';

/** Fake secrets: unique markers that must never show up in an error. */
export const SECRETS = {
  user: 'me@gmail.com',
  /** 16 letters, as Google issues app passwords; shown with spaces the way Google displays it. */
  appPassword: 'fakeapppwdqzxkvw',
  relayPassword: 'FAKE-RELAY-PASS-9c2e',
  clientSecret: 'FAKE-CLIENT-SECRET-41d7',
  refreshToken: 'FAKE-REFRESH-7f3a',
} as const;

/** Every form a secret could leak in: itself, Google's spaced display form, and AUTH PLAIN's base64. */
export function secretForms(): string[] {
  const plain = (user: string, pass: string) => Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64');
  return [
    SECRETS.appPassword,
    SECRETS.appPassword.replace(/(.{4})(?!$)/g, '$1 '),
    SECRETS.relayPassword,
    SECRETS.clientSecret,
    SECRETS.refreshToken,
    plain(SECRETS.user, SECRETS.appPassword),
    plain('relay-user', SECRETS.relayPassword),
    Buffer.from(SECRETS.appPassword).toString('base64'),
    Buffer.from(SECRETS.relayPassword).toString('base64'),
  ];
}

/** Where each fixture phase is replayed in a session (`data` replies answer the final dot). */
export const STEP_OF_PHASE: Record<SmtpFixturePhase, ScriptedStep> = {
  connect: 'greeting',
  ehlo: 'ehlo',
  auth: 'auth',
  mail: 'mail',
  rcpt: 'rcpt',
  data: 'dot',
};

/** A script answering `reply` at `phase`; an XOAUTH2 challenge is followed by its 535, as Gmail does. */
export function scriptFor(phase: SmtpFixturePhase, reply: string): SessionScript {
  if (phase === 'auth' && reply.startsWith('334 ')) {
    return {
      replies: {
        auth: [reply, '535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x1-gsmtp'],
      },
    };
  }
  return { replies: { [STEP_OF_PHASE[phase]]: reply } };
}

/**
 * The config of a user of `strategy` pointed at the scripted server over implicit TLS, with
 * credentials where the strategy has some (so that a leak would show), and retries off.
 */
export function replayConfig(
  strategy: Exclude<ReplayStrategy, 'oauth2'>,
  server: Pick<ScriptedSmtpServer, 'port' | 'cert'>,
  extra: Record<string, unknown> = {},
): FailoverRouteConfig {
  const smtp = { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } };
  // Each replay sends as the same mailbox; Google's daily-limit reply would mark it spent in
  // this process's sending budget and stop the next test's route: replays turn the budget off.
  const base = { retry: false as const, budget: false as const, ...extra };
  switch (strategy) {
    case 'app-password':
      return { strategy, user: SECRETS.user, appPassword: SECRETS.appPassword.replace(/(.{4})(?!$)/g, '$1 '), smtp, ...base };
    case 'ip-relay':
      return { strategy, domain: 'example.com', smtp, ...base };
    case 'relay':
      return { strategy, host: '127.0.0.1', port: server.port, secure: true, smtp: { tls: { ca: [server.cert] } }, ...base };
  }
}
