import { describe, expect, it } from 'vitest';
import { SharedTokenProvider, type ProviderLoader } from '../../src/tokens/registry.js';
import type { OAuthSettings } from '../../src/tokens/oauth-config.js';
import type { TokenCall, TokenProvider } from '../../src/tokens/provider.js';
import type { AccessToken } from '../../src/core/tokens.js';
import { Secret } from '../../src/core/secret.js';

const call: TokenCall = { emit: () => undefined, strategy: 'oauth2', locale: 'en', forceRefresh: false };

/** Stands in for the provider chunk: hands out numbered tokens, records how often it was built. */
function fakeChunk(): { TokenProvider: new (settings: OAuthSettings) => TokenProvider; built: number } {
  const chunk = {
    built: 0,
    TokenProvider: class {
      #issued = 0;
      constructor() {
        chunk.built++;
      }
      async getAccessToken(): Promise<AccessToken> {
        return { token: new Secret(`token-${++this.#issued}`), expiresAt: Date.now() + 3_600_000 } as AccessToken;
      }
    } as unknown as new (settings: OAuthSettings) => TokenProvider,
  };
  return chunk;
}

/** A loader that fails its first `failures` loads (a chunk missing from a broken install), then succeeds. */
function flakyLoader(failures: number): { load: ProviderLoader; loads: number; chunk: ReturnType<typeof fakeChunk> } {
  const state = {
    loads: 0,
    chunk: fakeChunk(),
    load: async () => {
      state.loads++;
      if (state.loads <= failures) throw new Error(`Cannot find module './provider-chunk.js' (load ${state.loads})`);
      return state.chunk;
    },
  };
  return state;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SharedTokenProvider: the provider chunk, loaded on use', () => {
  it('starts loading at construction, and a token call waits for that load instead of starting another', async () => {
    const loader = flakyLoader(0);
    const shared = new SharedTokenProvider({} as OAuthSettings, loader.load);
    expect(loader.loads).toBe(1);
    const token = await shared.getAccessToken(call);
    expect(token.token.reveal()).toBe('token-1');
    await shared.getAccessToken(call);
    expect(loader.loads).toBe(1);
    expect(loader.chunk.built).toBe(1);
  });

  it('a failed background load is not an unhandled rejection; the next call loads again and reports its own failure', async () => {
    const loader = flakyLoader(2);
    const shared = new SharedTokenProvider({} as OAuthSettings, loader.load);
    // The background load fails here; vitest fails the run on an unhandled rejection.
    await settle();
    expect(loader.loads).toBe(1);
    await expect(shared.getAccessToken(call)).rejects.toThrow(/Cannot find module .*load 2/);
    expect(loader.loads).toBe(2);
    // The failure is not cached: the next call loads once more, and from then on uses the provider.
    expect((await shared.getAccessToken(call)).token.reveal()).toBe('token-1');
    expect((await shared.getAccessToken(call)).token.reveal()).toBe('token-2');
    expect(loader.loads).toBe(3);
    expect(loader.chunk.built).toBe(1);
  });

  it('calls made while a load fails all get that failure; the one after them loads again', async () => {
    const loader = flakyLoader(1);
    const shared = new SharedTokenProvider({} as OAuthSettings, loader.load);
    const waiting = await Promise.allSettled([shared.getAccessToken(call), shared.getAccessToken(call)]);
    expect(waiting.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(loader.loads).toBe(1);
    expect((await shared.getAccessToken(call)).token.reveal()).toBe('token-1');
    expect(loader.loads).toBe(2);
  });
});
