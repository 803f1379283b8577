import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createVerify, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import type { Inbox, Sighting } from './server.js';

/** The audience Google requires in a service account's JWT, wherever it is posted. */
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
/** RFC 7523 §2.1: the grant type of a JWT used as an authorization grant. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SEND_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/gmail.send',
  'https://www.googleapis.com/auth/gmail.compose',
  'https://www.googleapis.com/auth/gmail.modify',
];
const PROFILE_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.compose',
  'https://www.googleapis.com/auth/gmail.modify',
];

/** One access token the stand-in issued, and what it was issued for. */
export interface Grant {
  grant: 'refresh_token' | 'jwt-bearer';
  /** The client id, or the service account's e-mail. */
  client: string;
  /** The mailbox the token acts for (the consenting user, or the JWT's `sub`). */
  user: string;
  scopes: string[];
  token: string;
}

/** A consent the stand-in knows: a refresh token of a client for a user. */
export interface RefreshTokenRegistration {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  user: string;
  /** What the user consented to. */
  scopes: string[];
}

/** A service account with domain-wide delegation for the mailboxes of `domain`. */
export interface ServiceAccountRegistration {
  clientEmail: string;
  /** PEM (SPKI) public key the JWTs are verified with. */
  publicKey: string;
  domain: string;
}

/**
 * A stand-in for Google's OAuth token endpoint (`/token`) and the Gmail REST API
 * (`/gmail/v1/users/{user}/messages/send`, `/upload/gmail/v1/...`, `/gmail/v1/users/{user}/profile`),
 * on one plain-HTTP server on 127.0.0.1. Base URL for `endpoints.gmailApi`: `base`; for
 * `endpoints.token`: `tokenUrl`.
 */
export interface GoogleStandIn extends Inbox {
  readonly base: string;
  readonly tokenUrl: string;
  /** Every token issued, in order. */
  readonly grants: readonly Grant[];
  /** Every message the Gmail API stand-in accepted, in order. */
  readonly received: readonly Sighting[];
  registerRefreshToken(registration: RefreshTokenRegistration): void;
  registerServiceAccount(registration: ServiceAccountRegistration): void;
  /** The grant behind a token this stand-in issued, or `undefined` for any other string. */
  grantOf(accessToken: string): Grant | undefined;
  /** For an SMTP server's XOAUTH2 check: describes the token when it was issued for `user`. */
  describeToken(user: string, accessToken: string): string | undefined;
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown };

// Google's error bodies, in the shapes its token endpoint and the Gmail API use.
const oauthError = (status: number, error: string, description: string): Reply => ({ status, body: { error, error_description: description } });
const apiError = (status: number, reason: string, message: string, statusText: string): Reply => ({
  status,
  body: { error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: statusText } },
});

export async function startGoogleStandIn(): Promise<GoogleStandIn> {
  const consents: RefreshTokenRegistration[] = [];
  const serviceAccounts = new Map<string, ServiceAccountRegistration>();
  const grants: Grant[] = [];
  const sightings: Sighting[] = [];
  let counter = 0;

  function issue(grant: Omit<Grant, 'token'>): Reply {
    const token = `ya29.local-${++counter}-${randomBytes(6).toString('base64url')}`;
    grants.push({ ...grant, token });
    return { status: 200, body: { access_token: token, expires_in: 3599, scope: grant.scopes.join(' '), token_type: 'Bearer' } };
  }

  function token(fields: URLSearchParams): Reply {
    const grantType = fields.get('grant_type');
    if (grantType === 'refresh_token') {
      const client = consents.filter((c) => c.clientId === fields.get('client_id'));
      if (client.length === 0 || client[0]!.clientSecret !== fields.get('client_secret')) return oauthError(401, 'invalid_client', 'Unauthorized');
      const consent = client.find((c) => c.refreshToken === fields.get('refresh_token'));
      if (!consent) return oauthError(400, 'invalid_grant', 'Bad Request');
      return issue({ grant: 'refresh_token', client: consent.clientId, user: consent.user, scopes: consent.scopes });
    }
    if (grantType === JWT_BEARER_GRANT) return jwtBearer(fields.get('assertion') ?? '');
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  }

  // https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
  function jwtBearer(assertion: string): Reply {
    const [header, payload, signature] = assertion.split('.');
    if (!header || !payload || !signature) return oauthError(400, 'invalid_grant', 'Invalid JWT');
    let claims: { iss?: string; sub?: string; aud?: string; scope?: string; exp?: number; iat?: number };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return oauthError(400, 'invalid_grant', 'Invalid JWT');
    }
    const account = serviceAccounts.get(claims.iss ?? '');
    if (!account) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    const verifier = createVerify('RSA-SHA256').update(`${header}.${payload}`);
    if (!verifier.verify(account.publicKey, Buffer.from(signature, 'base64url'))) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE)
      return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    if (typeof claims.exp !== 'number' || claims.exp < now || typeof claims.iat !== 'number' || claims.iat > now + 60) {
      return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    }
    // Domain-wide delegation covers the mailboxes of the Workspace domain, nothing else.
    const sub = claims.sub ?? '';
    if (!sub.toLowerCase().endsWith(`@${account.domain.toLowerCase()}`)) {
      return oauthError(
        401,
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    }
    return issue({ grant: 'jwt-bearer', client: account.clientEmail, user: sub, scopes: (claims.scope ?? '').split(' ').filter(Boolean) });
  }

  const grantOf = (accessToken: string) => grants.find((g) => g.token === accessToken);

  async function gmailApi(req: IncomingMessage, path: string, body: Buffer): Promise<Reply> {
    const match = /^\/(upload\/)?gmail\/v1\/users\/([^/]+)\/(messages\/send|profile)$/.exec(path);
    if (!match) return apiError(404, 'notFound', 'Not Found', 'NOT_FOUND');
    const [, upload, mailbox, action] = match as unknown as [string, string | undefined, string, string];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer === undefined ? undefined : grantOf(bearer);
    if (!grant) return apiError(401, 'authError', 'Request had invalid authentication credentials.', 'UNAUTHENTICATED');
    const user = decodeURIComponent(mailbox);
    if (user !== 'me' && user.toLowerCase() !== grant.user.toLowerCase())
      return apiError(403, 'forbidden', `Delegation denied for ${grant.user}`, 'PERMISSION_DENIED');
    if (action === 'profile') {
      if (req.method !== 'GET') return apiError(405, 'methodNotAllowed', 'Method Not Allowed', 'INVALID_ARGUMENT');
      if (!grant.scopes.some((s) => PROFILE_SCOPES.includes(s)))
        return apiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
      return { status: 200, body: { emailAddress: grant.user, messagesTotal: 0, threadsTotal: 0, historyId: '1' } };
    }
    if (req.method !== 'POST') return apiError(405, 'methodNotAllowed', 'Method Not Allowed', 'INVALID_ARGUMENT');
    if (!grant.scopes.some((s) => SEND_SCOPES.includes(s)))
      return apiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
    let raw: Buffer;
    if (upload) raw = body;
    else {
      const json = JSON.parse(body.toString('utf8') || '{}') as { raw?: unknown };
      if (typeof json.raw !== 'string' || json.raw === '')
        return apiError(400, 'invalidArgument', "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'INVALID_ARGUMENT');
      raw = Buffer.from(json.raw, 'base64url');
    }
    const parsed = await simpleParser(raw);
    const to = addresses(parsed.to);
    const bcc = addresses(parsed.bcc);
    if (to.length + addresses(parsed.cc).length + bcc.length === 0) return apiError(400, 'invalidArgument', 'Recipient address required', 'INVALID_ARGUMENT');
    const id = randomBytes(8).toString('hex');
    sightings.push({
      at: `${req.method} ${base}${path}`,
      channel: 'HTTP on 127.0.0.1 (Google: HTTPS)',
      auth: `Bearer token for ${grant.user} (${grant.grant} grant, scope ${grant.scopes.join(' ')})`,
      envelope: { from: addresses(parsed.from).join(', '), to: [...to, ...addresses(parsed.cc), ...bcc] },
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      attachments: parsed.attachments.map((a) => a.filename ?? ''),
      notes: [
        ['request', upload ? 'message/rfc822 upload' : 'JSON { raw }: base64url RFC 5322 message'],
        ['To header', to.join(', ')],
        ['Bcc header', bcc.length > 0 ? `present in raw: ${bcc.join(', ')} (Gmail delivers to it, then strips it)` : 'none'],
      ],
    });
    return { status: 200, body: { id, threadId: id, labelIds: ['SENT'] } };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', base).pathname;
      const handled: Promise<Reply> =
        path === '/token' && req.method === 'POST' ? Promise.resolve(token(new URLSearchParams(body.toString('utf8')))) : gmailApi(req, path, body);
      handled
        .catch((): Reply => apiError(400, 'invalidArgument', 'Invalid request', 'INVALID_ARGUMENT'))
        .then(({ status, body: reply }) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
          res.end(JSON.stringify(reply));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    tokenUrl: `${base}/token`,
    grants,
    received: sightings,
    registerRefreshToken: (registration) => void consents.push(registration),
    registerServiceAccount: (registration) => void serviceAccounts.set(registration.clientEmail, registration),
    grantOf,
    describeToken(user, accessToken) {
      const grant = grantOf(accessToken);
      if (!grant || grant.user.toLowerCase() !== user.toLowerCase() || !grant.scopes.includes('https://mail.google.com/')) return undefined;
      return `access token from the local token endpoint (${grant.grant} grant)`;
    },
    find: (subject) => sightings.find((s) => s.subject === subject),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}
