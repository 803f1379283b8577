import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import Keyv from 'keyv';
import { ConfigChecker } from '../../src/core/validate.js';
import { OAUTH_KEYS, parseOAuthSettings, MAIL_SCOPE } from '../../src/tokens/oauth-config.js';
import { makeServiceAccountKey } from '../helpers/google-token.js';
import { CLIENT_SECRET, REFRESH_TOKEN } from '../helpers/oauth-fixtures.js';

const sa = makeServiceAccountKey();
const refresh = { user: 'me@gmail.com', clientId: 'id.apps.googleusercontent.com', clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN };

function parse(input: Record<string, unknown>, kind: 'refresh-token' | 'service-account' | 'either' = 'either', extraEndpointKeys?: string[]) {
  const check = new ConfigChecker();
  const settings = parseOAuthSettings(check, input, { kind, defaultScopes: [MAIL_SCOPE], ...(extraEndpointKeys ? { extraEndpointKeys } : {}) });
  return { settings, issues: check.issues.map((i) => i.path) };
}

describe('parseOAuthSettings', () => {
  it("'either' picks the kind from the fields present", () => {
    expect(parse(refresh).settings?.kind).toBe('refresh-token');
    const viaKey = parse({ user: 'staff@example.com', serviceAccount: sa.json }).settings;
    expect(viaKey?.kind).toBe('service-account');
    expect(viaKey?.credentials).toMatchObject({ kind: 'service-account', clientEmail: sa.json.client_email });
    expect(parse({ ...refresh, serviceAccount: sa.json }).issues).toEqual(['serviceAccount']);
    expect(parse({ user: 'me@gmail.com' }).issues).toEqual(['clientId']);
  });

  it('holds every secret in a Secret and applies the defaults', () => {
    const { settings } = parse(refresh);
    expect(settings).toMatchObject({ user: 'me@gmail.com', scopes: [MAIL_SCOPE], endpoints: {}, cache: { eagerRefreshMs: 300_000, storeTimeoutMs: 1_000 } });
    const text = `${JSON.stringify(settings)} ${inspect(settings, { depth: 5 })}`;
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(REFRESH_TOKEN);
    expect(Object.isFrozen(settings)).toBe(true);
    const sealed = parse({ user: 'staff@example.com', serviceAccount: sa.json }).settings;
    expect(inspect(sealed, { depth: 5 })).not.toContain('PRIVATE KEY');
  });

  it('lets a strategy add endpoint keys of its own', () => {
    const input = { ...refresh, endpoints: { token: 'https://oauth2.example.com/token', gmailApi: 'http://127.0.0.1:8080' } };
    expect(parse(input).issues).toEqual(['endpoints.gmailApi']);
    const { settings, issues } = parse(input, 'either', ['gmailApi']);
    expect(issues).toEqual([]);
    expect(settings?.endpoints).toEqual({ token: 'https://oauth2.example.com/token', gmailApi: 'http://127.0.0.1:8080' });
    expect(parse({ ...refresh, endpoints: { gmailApi: 'http://api.example.com' } }, 'either', ['gmailApi']).issues).toEqual(['endpoints.gmailApi']);
  });

  it('sorts and de-duplicates scopes, and checks them', () => {
    expect(parse({ ...refresh, scopes: ['b', 'a', 'b'] }).settings?.scopes).toEqual(['a', 'b']);
    for (const bad of [[], 'https://mail.google.com/', [''], ['a b']]) expect(parse({ ...refresh, scopes: bad }).issues).toEqual(['scopes']);
  });

  it('takes a Keyv instance (by shape) or a bare store, and an explicit lock', () => {
    const keyv = new Keyv();
    expect(parse({ ...refresh, tokenStore: keyv }).settings?.cache.store).toBe(keyv);
    const bare = { get() {}, set() {}, delete() {} };
    expect(parse({ ...refresh, tokenStore: bare }).settings?.cache.store).toBe(bare);
    expect(parse({ ...refresh, tokenStore: new Map() }).settings?.cache.store).toBeInstanceOf(Map);
    expect(parse({ ...refresh, tokenStore: 'redis://localhost' }).issues).toEqual(['tokenStore']);
    expect(parse({ ...refresh, tokenLock: { acquire() {} } }).issues).toEqual(['tokenLock']);
    expect(parse({ ...refresh, tokenStoreTimeoutMs: 0, eagerRefreshMs: -1 }).issues.sort()).toEqual(['eagerRefreshMs', 'tokenStoreTimeoutMs']);
  });

  it('OAUTH_KEYS lists every key the OAuth strategies accept', () => {
    for (const key of [
      'user',
      'clientId',
      'clientSecret',
      'refreshToken',
      'serviceAccount',
      'keyFile',
      'scopes',
      'tokenStore',
      'tokenLock',
      'tokenEncryptionKey',
      'tokenStoreTimeoutMs',
      'eagerRefreshMs',
      'endpoints',
    ]) {
      expect(OAUTH_KEYS).toContain(key);
    }
  });
});
