import { expect } from 'vitest';
import { inspect } from 'node:util';
import type { GmailTransporter, GmailTransportError } from '../../src/index.js';
import { startRecordingServer, type RecordingServer, type RecordingServerOptions } from './smtp-server.js';
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
import { activeResources, describeEscapes, leftoverResources, watchEscapes } from './fault-checks.js';

/** The header that names each test message, so the server can count deliveries per message. */
export const ID_HEADER = 'X-Fault-Id';

export interface FaultHarness {
  /** The SMTP server (smtp-server, in clear behind the proxy) that counts deliveries. */
  backend: RecordingServer;
  proxy: FaultProxy;
  /** The `smtp` override that sends through the proxy, over implicit TLS. */
  smtp(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Message ids the server took (answered 250 to the final dot), in order. */
  delivered(): string[];
  close(): Promise<void>;
}

/** smtp-server behind a TLS-terminating fault proxy, both on 127.0.0.1. */
export async function startFaultHarness(opts: Omit<FaultProxyOptions, 'target'> & { server?: RecordingServerOptions } = {}): Promise<FaultHarness> {
  const backend = await startRecordingServer({ ...opts.server, secure: false, noStartTls: true });
  const proxy = await startFaultProxy({ ...opts, target: backend.port });
  return {
    backend,
    proxy,
    smtp: (extra = {}) => ({ host: '127.0.0.1', port: proxy.port, secure: true, tls: { ca: [proxy.cert] }, ...extra }),
    delivered: () => backend.messages.map((m) => String(m.parsed.headers.get(ID_HEADER.toLowerCase()) ?? '?')),
    close: async () => {
      await proxy.close();
      await backend.close();
    },
  };
}

/** A small message carrying its id in {@link ID_HEADER}. */
export function faultMessage(id: string, extra: Record<string, unknown> = {}) {
  return { from: 'me@gmail.com', to: 'you@example.com', subject: `fault ${id}`, text: `message ${id}`, headers: { [ID_HEADER]: id }, ...extra };
}

export type Outcome = { id: string; ok: true } | { id: string; ok: false; error: GmailTransportError };

/** Sends every message and waits for all of them, keeping each one's outcome. */
export async function sendAll(
  mailer: GmailTransporter,
  ids: readonly string[],
  extra: (id: string) => Record<string, unknown> = () => ({}),
): Promise<Outcome[]> {
  return Promise.all(
    ids.map((id) =>
      mailer.sendMail(faultMessage(id, extra(id))).then(
        (): Outcome => ({ id, ok: true }),
        (error: GmailTransportError): Outcome => ({ id, ok: false, error }),
      ),
    ),
  );
}

/** How many times each id was delivered, for ids delivered more than once. */
export function duplicates(ids: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
}

/** Asserts that no secret appears in any rendering of an error. */
export function expectNoSecretIn(err: unknown, secrets: readonly string[]): void {
  const renderings = [String(err), JSON.stringify(err), inspect(err, { depth: 5 }), String((err as { hint?: unknown }).hint)];
  for (const text of renderings) for (const secret of secrets) expect(text).not.toContain(secret);
}

/**
 * Watches one scenario: from the moment it is created (servers already listening) until
 * `finish`, no unhandled rejection or uncaught exception may occur, and once the transports
 * are closed and the proxies have seen their connections end, no socket or timer beyond those
 * present at the start may remain.
 */
export function startScenarioGuard() {
  const baseline = activeResources();
  const escapes = watchEscapes();
  return {
    escaped: escapes.escaped,
    stop: () => escapes.stop(),
    async finish(mailers: readonly GmailTransporter[], proxies: readonly FaultProxy[] = []): Promise<void> {
      try {
        for (const mailer of mailers) mailer.close();
        await Promise.all(proxies.map((p) => p.whenIdle()));
        const left = await leftoverResources(baseline);
        expect(left, 'sockets or timers left running after close()').toEqual([]);
        expect(describeEscapes(escapes.escaped), 'unhandled rejections / uncaught exceptions').toEqual([]);
      } finally {
        escapes.stop();
      }
    },
  };
}
