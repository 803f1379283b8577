import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { listenOnLoopback } from '../../src/consent/loopback.js';

/** Sends raw bytes to 127.0.0.1:port and resolves with the status line of the answer. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

describe('the consent loopback listener (gmail-transport auth, Connect Google in the console)', () => {
  it('a request line that is no URL gets 400, and the wait for the real redirect goes on', async () => {
    const refused: string[] = [];
    const listener = await listenOnLoopback({ port: 0, state: 'FAKE-STATE-7c1e', onRefused: (reason) => refused.push(reason) });
    try {
      const port = Number(new URL(listener.redirectUri).port);
      // `new URL('//[', base)` throws: before, an uncaught exception in the waiting process.
      expect(await rawRequest(port, 'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
      const waiting = listener.waitForConsent(5_000);
      // The browser's request is answered once the exchange is done (finish()).
      const redirect = fetch(`${listener.redirectUri}?state=FAKE-STATE-7c1e&code=FAKE-CODE-4b2d`);
      expect(await waiting).toEqual({ kind: 'code', code: 'FAKE-CODE-4b2d' });
      listener.finish({ status: 200, title: 'Done', text: 'Signed in.' });
      expect((await redirect).status).toBe(200);
      expect(refused).toEqual([]);
    } finally {
      await listener.close();
    }
  });
});
