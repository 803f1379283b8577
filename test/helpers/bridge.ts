import { type GmailTransportConfig } from '../../src/index.js';
import { createBridge, type Bridge, type BridgeOptions } from '../../src/bridge/index.js';
import { hashPasswordWith } from '../../src/bridge/password-hash.js';
import { testCert } from './certs.js';
import type { ScriptedUpstream } from './scripted-upstream.js';

/** Every call the bridge made to its logger, as the JSON line the CLI would print. */
export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg?: string;
  record: Record<string, unknown>;
  line: string;
}

export interface RunningBridge {
  bridge: Bridge;
  port: number;
  tlsPort?: number;
  /** The bridge's certificate, for devices to trust. */
  cert: string;
  logs: CapturedLog[];
  close(): Promise<void>;
}

/** A cheap hash for tests (the default parameters cost ~0.5 s a login on a CI machine). */
export function fastHash(password: string): Promise<string> {
  return hashPasswordWith(password, { logN: 10, r: 8, p: 1 });
}

/** The upstream config that delivers to a scripted upstream: an external relay, no login. */
export function relayTo(upstream: ScriptedUpstream): GmailTransportConfig {
  return { strategy: 'relay', host: '127.0.0.1', port: upstream.port, secure: true, smtp: { tls: { ca: [upstream.cert] } } };
}

/** Starts a bridge on ephemeral ports with the test certificate, capturing its log lines. */
export async function startBridge(options: Omit<BridgeOptions, 'logger'> & { logger?: false }): Promise<RunningBridge> {
  const { key, cert } = await testCert();
  const logs: CapturedLog[] = [];
  const capture = (level: CapturedLog['level']) => (record: Record<string, unknown>, msg?: string) => {
    logs.push({ level, ...(msg ? { msg } : {}), record, line: JSON.stringify({ level, msg, ...record }) });
  };
  const { logger: _logger, ...rest } = options;
  const bridge = createBridge({
    tls: { key, cert },
    ...rest,
    listen: { host: '127.0.0.1', port: 0, ...options.listen },
    logger: { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') },
  });
  const addresses = await bridge.listen();
  const plain = addresses.find((a) => a.tls !== 'implicit')!;
  const implicit = addresses.find((a) => a.tls === 'implicit');
  return { bridge, port: plain.port, ...(implicit ? { tlsPort: implicit.port } : {}), cert, logs, close: () => bridge.close() };
}

/** The `message` log records, one per message. */
export function messageLogs(logs: CapturedLog[]): Record<string, unknown>[] {
  return logs.filter((l) => l.record.event === 'message').map((l) => l.record);
}
