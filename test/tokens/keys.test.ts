import { describe, expect, it } from 'vitest';
import { tokenLockKey, tokenStoreKey } from '../../src/tokens/keys.js';

const SCOPE = 'https://mail.google.com/';

describe('token store keys', () => {
  it('are namespaced, versioned and hashed: no address in the key', () => {
    const key = tokenStoreKey('refresh-token', 'id.apps.googleusercontent.com', 'me@gmail.com', [SCOPE]);
    expect(key).toMatch(/^gmail-transport:v1:refresh-token:[0-9a-f]{64}$/);
    expect(key).not.toContain('me@gmail.com');
    expect(tokenLockKey(key)).toBe(`${key}:lock`);
  });

  it('depend on client, user (case-insensitively) and the set of scopes, not their order', () => {
    const base = tokenStoreKey('refresh-token', 'a', 'me@gmail.com', [SCOPE, 'x']);
    expect(tokenStoreKey('refresh-token', 'a', 'ME@gmail.com', ['x', SCOPE, 'x'])).toBe(base);
    expect(tokenStoreKey('refresh-token', 'b', 'me@gmail.com', [SCOPE, 'x'])).not.toBe(base);
    expect(tokenStoreKey('refresh-token', 'a', 'you@gmail.com', [SCOPE, 'x'])).not.toBe(base);
    expect(tokenStoreKey('refresh-token', 'a', 'me@gmail.com', [SCOPE])).not.toBe(base);
    expect(tokenStoreKey('service-account', 'a', 'me@gmail.com', [SCOPE, 'x'])).not.toBe(base);
  });
});
