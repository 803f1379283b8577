import { resolve } from 'node:path';
import { readSecretFile, secretText } from '../config/load-config.js';
import { errnoOf } from '../config/errno.js';
import { Secret } from '../core/secret.js';
import { configError, isLoopbackHost } from '../core/validate.js';
import { checkWritable, readClientCredentials, writeSecretFile, type ClientCredentials } from '../consent/client-file.js';
import {
  diagnosisOf,
  EXIT_FAILED,
  EXIT_OK,
  parseCommandLine,
  parseDuration,
  printDiagnosis,
  printJson,
  readSecretInput,
  UsageError,
  type CliIo,
  type Diagnosis,
} from './io.js';
import { consentUrl, createPkce, createState, GMAIL_SCOPE, listenOnLoopback } from '../consent/loopback.js';
import { checkAccount, completeConsent, DEFAULT_AUTH_ENDPOINT, DEFAULT_TOKEN_ENDPOINT } from '../consent/consent.js';

export const AUTH_HELP = `Usage: gmail-transport auth (--client-file FILE | --client-id ID SECRET-SOURCE) [options]

Gets an OAuth2 refresh token for the oauth2 strategy: Google's installed-app flow with a
loopback redirect to http://127.0.0.1:PORT/ and PKCE (S256), scope https://mail.google.com/.
Open the printed URL, sign in as the mailbox to send from and allow access. The command then
asks the Gmail API which account granted access, refuses another one than --user (writing
nothing), and prints the refresh token with a ready config (or writes it to --out, mode 0600).

The OAuth client:
  --client-file FILE          client_secret_*.json downloaded from Google Cloud console
                              (Desktop app client); holds both the id and the secret
  --client-id ID              the client id (default: $GMAIL_CLIENT_ID), with its secret from:
  --client-secret-file FILE     a file holding the client secret
  --client-secret-stdin         standard input (typed without echo on a terminal, or piped)
  $GMAIL_CLIENT_SECRET          the environment (used when none of the above is given)
  --client-secret SECRET        discouraged: other users of this machine can read the command
                                line (ps) while the command waits; a warning is printed

Options:
  --user EMAIL            the account to sign in as: a login hint, the user of the printed
                          config, and checked against the account that granted access
  --out FILE              write the refresh token to FILE (mode 0600) instead of printing it
  --no-browser            only print the URL; do not try to open a browser
  --timeout DURATION      how long to wait for the consent, e.g. 90s or 10m (default: 5m)
  --port PORT             loopback port (default: any free port; a "Web application" client
                          needs the exact http://127.0.0.1:PORT/ registered)
  --auth-endpoint URL     consent page (default: Google's); https, or http to a loopback address
  --token-endpoint URL    token endpoint (default: Google's); https, or http to a loopback address
  --json                  print the result as JSON on stdout
  -h, --help              show this help

A redirect that carries a wrong or no state is refused (error page, warning here) and the
command keeps waiting for the right one until the timeout.

Exit codes: 0 done, 1 failed (diagnosis printed), 2 wrong command line.
`;

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

const ARGV_SECRET_WARNING =
  'Warning: --client-secret puts the secret on the command line, where other users of this machine can read it (ps) while the command waits, ' +
  'and your shell history keeps it. Prefer --client-file, --client-secret-file FILE, --client-secret-stdin or $GMAIL_CLIENT_SECRET.';

const TESTING_WARNING =
  'Note: while the app\'s OAuth consent screen is in "Testing" publishing status, Google lets its refresh tokens expire after 7 days. ' +
  'Publish it ("In production": Google Cloud console > APIs & Services > OAuth consent screen) for tokens that last.';

const OPTIONS = {
  'client-file': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  user: { type: 'string' },
  out: { type: 'string' },
  'no-browser': { type: 'boolean' },
  timeout: { type: 'string' },
  port: { type: 'string' },
  'auth-endpoint': { type: 'string' },
  'token-endpoint': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `gmail-transport auth`: returns the exit code. */
export async function runAuth(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseCommandLine(args, OPTIONS);
  if (flags.help) {
    io.stdout.write(AUTH_HELP);
    return EXIT_OK;
  }
  const timeoutMs = flags.timeout !== undefined ? parseDuration(flags.timeout, '--timeout') : DEFAULT_TIMEOUT_MS;
  const port = flags.port !== undefined ? parsePort(flags.port) : 0;
  const authEndpoint = checkEndpoint(flags['auth-endpoint'] ?? DEFAULT_AUTH_ENDPOINT, '--auth-endpoint');
  const tokenEndpoint = checkEndpoint(flags['token-endpoint'] ?? DEFAULT_TOKEN_ENDPOINT, '--token-endpoint');
  const out = flags.out !== undefined ? resolve(io.cwd, flags.out) : undefined;
  if (flags.user !== undefined && !/^[^\s@]+@[^\s@]+$/.test(flags.user)) throw new UsageError('--user must be an e-mail address (the mailbox to send as)');
  try {
    const client = await clientCredentials(flags, io);
    if (out) await checkWritable(out);
    return await runConsent(io, {
      client,
      port,
      timeoutMs,
      authEndpoint,
      tokenEndpoint,
      out,
      user: flags.user,
      json: flags.json === true,
      openBrowser: !flags['no-browser'],
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    report(io, flags.json, diagnosisOf(err));
    return EXIT_FAILED;
  }
}

interface ConsentOptions {
  client: ClientCredentials;
  port: number;
  timeoutMs: number;
  authEndpoint: string;
  tokenEndpoint: string;
  out: string | undefined;
  user: string | undefined;
  json: boolean;
  openBrowser: boolean;
}

async function runConsent(io: CliIo, o: ConsentOptions): Promise<number> {
  if (o.client.kind === 'web' && o.port === 0) {
    io.stderr.write(
      'Warning: this is a "Web application" client. Google redirects it only to URIs registered for it: register http://127.0.0.1:PORT/ and pass --port PORT, or (simpler) create a "Desktop app" client.\n',
    );
  }
  const pkce = createPkce();
  const state = createState();
  const listener = await listenOnLoopback({
    port: o.port,
    state,
    onRefused: (reason) => io.stderr.write(`Refused a request to the redirect URI (${reason}); still waiting for the right one.\n`),
  }).catch((err: unknown) => {
    throw new UsageError(`cannot listen on 127.0.0.1:${o.port} (${(err as { code?: string }).code ?? 'error'})`);
  });
  try {
    const url = consentUrl({
      authEndpoint: o.authEndpoint,
      clientId: o.client.clientId,
      redirectUri: listener.redirectUri,
      state,
      challenge: pkce.challenge,
      ...(o.user ? { loginHint: o.user } : {}),
    });
    io.stderr.write(
      `Open this URL in a browser, sign in as the mailbox to send from, and allow access:\n\n  ${url}\n\nWaiting for Google's redirect to ${listener.redirectUri} (up to ${Math.round(o.timeoutMs / 1000)} s)...\n`,
    );
    if (o.openBrowser) {
      try {
        await io.openBrowser(url);
      } catch {
        // The URL is printed; a missing browser is not a failure.
      }
    }
    const outcome = await listener.waitForConsent(o.timeoutMs);
    const result = await completeConsent(outcome, {
      client: o.client,
      pkce: new Secret(pkce.verifier),
      redirectUri: listener.redirectUri,
      tokenEndpoint: o.tokenEndpoint,
    });
    if ('code' in result) {
      listener.finish({ status: 400, title: 'Sign-in failed', text: `${result.code}: ${result.message}. See the terminal for what to do.` });
      report(io, o.json, result);
      return EXIT_FAILED;
    }
    const account = await checkAccount(result.accessToken, o.user);
    if ('code' in account) {
      listener.finish({ status: 400, title: 'Sign-in refused', text: `${account.code}: the token was not kept. See the terminal for what to do.` });
      report(io, o.json, account);
      return EXIT_FAILED;
    }
    if (account.warning) io.stderr.write(`${account.warning}\n`);
    if (o.out) await writeSecretFile(o.out, `${result.refreshToken}\n`);
    listener.finish({
      status: 200,
      title: 'Access granted',
      text: 'gmail-transport has its refresh token. You can close this tab and return to the terminal.',
    });
    printSuccess(io, {
      json: o.json,
      refreshToken: result.refreshToken,
      scope: result.scope,
      clientId: o.client.clientId,
      user: o.user,
      account: account.address,
      out: o.out,
    });
    return EXIT_OK;
  } finally {
    await listener.close();
  }
}

function printSuccess(
  io: CliIo,
  r: {
    json: boolean;
    refreshToken: string;
    scope: string | undefined;
    clientId: string;
    user: string | undefined;
    account: string | undefined;
    out: string | undefined;
  },
): void {
  const refreshRef = r.out ? { file: r.out } : { env: 'GMAIL_REFRESH_TOKEN' };
  const user = r.user ?? r.account ?? 'you@example.com';
  const config = { strategy: 'oauth2', user, clientId: r.clientId, clientSecret: { env: 'GMAIL_CLIENT_SECRET' }, refreshToken: refreshRef };
  if (r.json) {
    printJson(io, {
      ok: true,
      clientId: r.clientId,
      scope: r.scope ?? GMAIL_SCOPE,
      ...(r.account ? { account: r.account } : {}),
      ...(r.out ? { out: r.out } : { refreshToken: r.refreshToken }),
      config,
    });
  } else {
    const tokenLine = r.out ? `"$(cat ${shellQuote(r.out)})"` : r.refreshToken;
    io.stdout.write(
      [
        ...(r.account ? [`Access granted by ${r.account} (as Google reports it).`, ''] : []),
        r.out ? `Refresh token written to ${r.out} (mode 0600).` : `Refresh token (a secret: it lets its holder send as this mailbox):\n\n  ${r.refreshToken}`,
        '',
        'For fromEnv() and `gmail-transport verify`:',
        '',
        '  GMAIL_STRATEGY=oauth2',
        `  GMAIL_USER=${user}`,
        `  GMAIL_CLIENT_ID=${r.clientId}`,
        '  GMAIL_CLIENT_SECRET=<the client secret>',
        `  GMAIL_REFRESH_TOKEN=${tokenLine}`,
        '',
        'Or a config file for loadConfig() and `gmail-transport verify --config` (secrets stay out of it):',
        '',
        JSON.stringify(config, null, 2).replace(/^/gm, '  '),
        '',
      ].join('\n'),
    );
  }
  io.stderr.write(`${TESTING_WARNING}\n`);
}

function report(io: CliIo, json: boolean | undefined, diagnosis: Diagnosis): void {
  if (json) printJson(io, { ok: false, error: diagnosis });
  else printDiagnosis(io, 'gmail-transport auth', diagnosis);
}

type ClientFlags = { 'client-file'?: string; 'client-id'?: string; 'client-secret'?: string; 'client-secret-file'?: string; 'client-secret-stdin'?: boolean };

async function clientCredentials(flags: ClientFlags, io: CliIo): Promise<ClientCredentials> {
  const secretFlags = (['client-secret', 'client-secret-file', 'client-secret-stdin'] as const).filter(
    (name) => flags[name] !== undefined && flags[name] !== false,
  );
  if (flags['client-file'] !== undefined) {
    if (flags['client-id'] !== undefined || secretFlags.length > 0)
      throw new UsageError('give either --client-file or --client-id with a client secret, not both');
    return readClientCredentials(resolve(io.cwd, flags['client-file']));
  }
  if (secretFlags.length > 1) throw new UsageError(`give the client secret one way only, not ${secretFlags.map((name) => `--${name}`).join(' and ')}`);
  const clientId = flags['client-id'] ?? io.env.GMAIL_CLIENT_ID;
  if (!clientId) throw new UsageError(MISSING_CLIENT);
  const secret = await clientSecret(flags, io);
  if (!secret) throw new UsageError(MISSING_CLIENT);
  return { kind: 'installed', clientId, clientSecret: new Secret(secret) };
}

const MISSING_CLIENT =
  'give --client-file, or --client-id and --client-secret-file FILE or --client-secret-stdin (or set GMAIL_CLIENT_ID and GMAIL_CLIENT_SECRET)';

/** The client secret from the one source given; `undefined` when there is none. */
async function clientSecret(flags: ClientFlags, io: CliIo): Promise<string | undefined> {
  const file = flags['client-secret-file'];
  if (file !== undefined) {
    const path = resolve(io.cwd, file);
    const fail = (message: string) => configError([{ path: '--client-secret-file', message: `${path} ${message}` }]);
    const secret = await readSecretFile(path).catch((err: unknown) => {
      throw fail(`cannot be read (${errnoOf(err)})`);
    });
    if (secret === '') throw fail('is empty');
    return secret;
  }
  if (flags['client-secret-stdin']) {
    const typed = await readSecretInput(io.stdin ?? process.stdin, io, 'Client secret (not shown): ');
    if (typed === undefined) throw new UsageError('no client secret: the input was cancelled');
    const secret = secretText(typed);
    if (secret === '') throw new UsageError('--client-secret-stdin read nothing from standard input');
    return secret;
  }
  if (flags['client-secret'] !== undefined) {
    io.stderr.write(`${ARGV_SECRET_WARNING}\n`);
    return flags['client-secret'];
  }
  return io.env.GMAIL_CLIENT_SECRET;
}

function checkEndpoint(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an absolute URL`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return value;
  throw new UsageError(`${flag} must use https (plain http only to a loopback address)`);
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError('--port must be a port number (0-65535)');
  return port;
}

function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
