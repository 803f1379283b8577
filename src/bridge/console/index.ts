/**
 * The bridge's admin console: loaded by `listen()` only when the `admin` option is set, so a
 * bridge without it carries none of this.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { GmailTransportError } from '../../errors/error.js';
import type { BridgeAdminAddress } from '../types.js';
import { createConsoleHandler } from './app.js';
import type { ConsoleHost } from './context.js';

export { ConsoleActivity } from './activity.js';
export type { ConsoleHost } from './context.js';

export interface RunningConsole {
  address: BridgeAdminAddress;
  close(): Promise<void>;
}

/** Starts the console on `admin.listen`: HTTP on loopback, HTTPS with the bridge's certificate elsewhere. */
export async function startConsole(host: ConsoleHost): Promise<RunningConsole> {
  const { listen, secure } = host.config.admin;
  const { handle: handler, close: closeHandler } = createConsoleHandler(host);
  if (secure && !host.tls) throw new Error('gmail-transport bridge: the console needs the bridge certificate for HTTPS');
  const server: Server = secure ? createHttpsServer({ key: host.tls!.key, cert: host.tls!.cert, minVersion: 'TLSv1.2' }, handler) : createHttpServer(handler);
  // A browser that opened a connection and sends nothing must not hold it for ever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error';
      const hint =
        code === 'EADDRINUSE'
          ? 'Another program uses this port; pick another admin.listen.port or stop it.'
          : 'Check admin.listen.host: it must be an address of this machine.';
      reject(
        new GmailTransportError({
          code: 'CONFIG_INVALID',
          message: `Invalid gmail-transport config: admin.listen cannot bind ${listen.host}:${listen.port} (${code})`,
          hint,
          phase: 'config',
          issues: [{ path: 'admin.listen', message: `cannot bind ${listen.host}:${listen.port} (${code})`, hint }],
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(listen.port, listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const address: BridgeAdminAddress = { host: listen.host, port, url: `${secure ? 'https' : 'http'}://${shown}:${port}/` };
  return {
    address,
    close: async () => {
      await closeHandler();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Browsers keep connections open; close() would wait for them otherwise.
        server.closeAllConnections();
      });
    },
  };
}
