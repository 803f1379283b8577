import { http, HttpResponse, delay } from 'msw';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** One token request as the endpoint saw it (form fields, decoded). */
export interface TokenRequest {
  grantType: string;
  fields: Record<string, string>;
  /** For the JWT-bearer grant: the verified assertion's claims. */
  claims?: Record<string, unknown>;
  signatureValid?: boolean;
}

/** What the endpoint answers next: a token, a fixture body, a status, or a stall. */
export type TokenBehaviour =
  | { kind: 'ok'; expiresInS?: number }
  | { kind: 'reply'; status: number; body: unknown }
  | { kind: 'slow'; ms: number; then?: TokenBehaviour }
  | { kind: 'reset' };

/**
 * Plays Google's token endpoint: issues unique fake access tokens, remembers which are valid
 * (an SMTP server asks it), records every request, and verifies JWT-bearer assertions against
 * the service account's public key.
 */
export class TokenAuthority {
  readonly requests: TokenRequest[] = [];
  readonly issued: string[] = [];
  readonly revoked = new Set<string>();
  behaviour: TokenBehaviour | ((n: number) => TokenBehaviour) = { kind: 'ok' };
  publicKey?: string;
  #counter = 0;

  constructor(readonly prefix = 'ya29.FAKE-ACCESS') {}

  isValid(token: string | undefined): boolean {
    return token !== undefined && this.issued.includes(token) && !this.revoked.has(token);
  }

  revokeAll(): void {
    for (const t of this.issued) this.revoked.add(t);
  }

  /** Handles one request body; returns status and JSON body (or a stall/reset). */
  async answer(body: string): Promise<{ status: number; body: unknown } | 'reset'> {
    const fields = Object.fromEntries(new URLSearchParams(body));
    const request: TokenRequest = { grantType: fields.grant_type ?? '', fields };
    if (fields.assertion) Object.assign(request, verifyAssertion(fields.assertion, this.publicKey));
    this.requests.push(request);
    let behaviour = typeof this.behaviour === 'function' ? this.behaviour(this.requests.length) : this.behaviour;
    while (behaviour.kind === 'slow') {
      await delay(behaviour.ms);
      behaviour = behaviour.then ?? { kind: 'ok' };
    }
    if (behaviour.kind === 'reset') return 'reset';
    if (behaviour.kind === 'reply') return { status: behaviour.status, body: behaviour.body };
    const token = `${this.prefix}-${++this.#counter}-${Math.random().toString(36).slice(2, 8)}`;
    this.issued.push(token);
    return { status: 200, body: { access_token: token, expires_in: behaviour.expiresInS ?? 3599, token_type: 'Bearer', scope: 'https://mail.google.com/' } };
  }

  /** msw handler for `url` (Google's by default). */
  handler(url = GOOGLE_TOKEN_URL) {
    return http.post(url, async ({ request }) => {
      const result = await this.answer(await request.text());
      if (result === 'reset') return HttpResponse.error();
      return HttpResponse.json(result.body as Record<string, unknown>, { status: result.status });
    });
  }
}

function verifyAssertion(assertion: string, publicKey: string | undefined): Pick<TokenRequest, 'claims' | 'signatureValid'> {
  const [header, payload, signature] = assertion.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (!publicKey) return { claims, signatureValid: false };
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  return { claims, signatureValid: verifier.verify(publicKey, Buffer.from(signature, 'base64url')) };
}

/** An RSA key pair for a fake service account, generated at test time. */
export function makeServiceAccountKey(clientEmail = 'mailer@fake-project.iam.gserviceaccount.com') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    publicKey,
    privateKey,
    json: {
      type: 'service_account' as const,
      project_id: 'fake-project',
      private_key_id: 'fake-key-id',
      private_key: privateKey,
      client_email: clientEmail,
      client_id: '100000000000000000001',
      token_uri: GOOGLE_TOKEN_URL,
    },
  };
}

/** The token-* fixtures of google-replies.json, by id. */
export function tokenFixture(id: string): { status: number; body: Record<string, unknown> } {
  const all = JSON.parse(readFileSync(new URL('../fixtures/google-replies.json', import.meta.url), 'utf8')) as { id: string; reply: unknown }[];
  const row = all.find((r) => r.id === id);
  if (!row) throw new Error(`no fixture ${id}`);
  return row.reply as { status: number; body: Record<string, unknown> };
}

/**
 * A real HTTP token endpoint on 127.0.0.1, for child processes (msw intercepts only in its own
 * process). Same authority logic as the msw handler.
 */
export async function startTokenServer(authority: TokenAuthority): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void authority.answer(Buffer.concat(chunks).toString('utf8')).then((result) => {
        if (result === 'reset') {
          req.socket.destroy();
          return;
        }
        res.writeHead(result.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
