import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GOOGLE_TOKEN_URL, tokenLockKey, tokenStoreKey, type TokenIdentity } from '../../src/tokens/keys.js';

const SCOPE = 'https://mail.google.com/';
const CLIENT_SECRET = 'FAKE-CLIENT-SECRET-9c1e';
const REFRESH_TOKEN = '1//FAKE-REFRESH-7f3a';

const base: TokenIdentity = {
  kind: 'refresh-token',
  client: 'id.apps.googleusercontent.com',
  user: 'me@gmail.com',
  scopes: [SCOPE, 'x'],
  tokenUrl: GOOGLE_TOKEN_URL,
  secrets: [CLIENT_SECRET, REFRESH_TOKEN],
};
const keyOf = (change: Partial<TokenIdentity>) => tokenStoreKey({ ...base, ...change });

describe('token store keys', () => {
  it('are namespaced, versioned (v2) and hashed: no address and no secret in the key', () => {
    const key = keyOf({});
    expect(key).toMatch(/^gmail-transport:v2:refresh-token:[0-9a-f]{64}$/);
    for (const part of ['me@gmail.com', 'id.apps', CLIENT_SECRET, REFRESH_TOKEN]) expect(key).not.toContain(part);
    expect(tokenLockKey(key)).toBe(`${key}:lock`);
  });

  it('depend on client, user (case-insensitively) and the set of scopes, not their order', () => {
    const key = keyOf({});
    expect(keyOf({ user: 'ME@gmail.com', scopes: ['x', SCOPE, 'x'] })).toBe(key);
    expect(keyOf({ client: 'other.apps.googleusercontent.com' })).not.toBe(key);
    expect(keyOf({ user: 'you@gmail.com' })).not.toBe(key);
    expect(keyOf({ scopes: [SCOPE] })).not.toBe(key);
    expect(keyOf({ kind: 'service-account' })).not.toBe(key);
  });

  it('issue 25: depend on every piece of secret material and on the token endpoint', () => {
    const key = keyOf({});
    expect(keyOf({ secrets: [CLIENT_SECRET, 'bogus'] })).not.toBe(key);
    expect(keyOf({ secrets: ['bogus', REFRESH_TOKEN] })).not.toBe(key);
    // The parts are length-prefixed: moving a boundary between them is another identity.
    expect(keyOf({ secrets: [`${CLIENT_SECRET}1`, REFRESH_TOKEN.slice(1)] })).not.toBe(key);
    expect(keyOf({ tokenUrl: 'https://token.example.net/token' })).not.toBe(key);
    // The same endpoint written another way is the same endpoint.
    expect(keyOf({ tokenUrl: 'https://OAUTH2.googleapis.com:443/token' })).toBe(key);
    // So the lock key differs too: one credential never waits on another's refresh.
    expect(tokenLockKey(keyOf({ secrets: [CLIENT_SECRET, 'bogus'] }))).not.toBe(tokenLockKey(key));
  });

  it('issue 25: the digest is keyed by the secrets, not a plain hash an attacker can recompute from public facts', () => {
    const digest = keyOf({}).split(':').at(-1);
    const publicFacts = ['id.apps.googleusercontent.com', 'me@gmail.com', `${SCOPE} x`].join('\n');
    // The v1 layout: a SHA-256 of client, user and scopes, computable by anyone knowing them.
    expect(digest).not.toBe(createHash('sha256').update(publicFacts).digest('hex'));
    expect(digest).not.toBe(createHash('sha256').update(`${publicFacts}\n${GOOGLE_TOKEN_URL}`).digest('hex'));
  });
});
