/**
 * What a bridge needs only once it listens: smtp-server, the session handlers, delivery and the
 * self-signed certificate maker. `listen()` loads this module, so importing the package, or
 * creating a bridge only to validate its config, does not parse or keep any of it.
 */
import type { AddressInfo } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { GmailTransportError } from '../errors/error.js';
import { Spool } from './spool.js';

export { SMTPServer } from 'smtp-server';
export { createSessionHandlers } from './session.js';
export { deliverUpstream } from './delivery.js';
export { loadOrCreateSelfSigned } from './self-signed-store.js';
export { LOCAL_REPLIES } from './replies.js';
export { RefusalLog } from './refusal-log.js';

/** Starts `server` listening and resolves with the bound port, or rejects with CONFIG_INVALID naming `listen`. */
export function bind(server: SMTPServer, host: string, port: number, onClientError: (err: Error) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error';
      const hint =
        code === 'EADDRINUSE'
          ? 'Another program uses this port; pick another listen.port or stop it.'
          : code === 'EACCES'
            ? 'Ports below 1024 need privileges; use a port such as 2525, or grant CAP_NET_BIND_SERVICE.'
            : 'Check listen.host: it must be an address of this machine.';
      reject(
        new GmailTransportError({
          code: 'CONFIG_INVALID',
          message: `Invalid gmail-transport config: listen cannot bind ${host}:${port} (${code})`,
          hint,
          phase: 'config',
          issues: [{ path: 'listen', message: `cannot bind ${host}:${port} (${code})`, hint }],
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // Errors of single client connections (resets, TLS handshakes that fail) land here; they
      // concern one device and must not stop the bridge.
      server.on('error', onClientError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

/** The bridge's spool in `parent`, once it proved it can write there; else CONFIG_INVALID naming `spoolDir`. */
export async function createSpool(parent: string): Promise<Spool> {
  const spool = new Spool(parent);
  try {
    await spool.check();
    return spool;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new GmailTransportError({
      code: 'CONFIG_INVALID',
      message: `Invalid gmail-transport config: spoolDir cannot hold a directory of the bridge (${code})`,
      hint: 'Set spoolDir to a directory on a disk that the bridge may write, e.g. its state directory /var/lib/gmail-transport-bridge.',
      phase: 'config',
      issues: [{ path: 'spoolDir', message: `cannot create a directory in it (${code})` }],
      cause: err,
    });
  }
}
