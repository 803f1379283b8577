import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGmailTransportError, loadConfig, type GmailTransportError } from '../../src/index.js';
import { createBridge, type BridgeOptions } from '../../src/bridge/index.js';
import { testCert } from '../helpers/certs.js';
import { fastHash } from '../helpers/bridge.js';
import { RawSmtpClient } from '../helpers/printer.js';
import { parseMarkdown, readDoc } from '../helpers/markdown.js';

const PLAIN_PASSWORD = 'FAKE-PLAIN-PW-8a1f';
const APP_PASSWORD = 'zxcv bnma sdfg hjkl';
const upstream = { strategy: 'app-password', user: 'scans@example.com', appPassword: APP_PASSWORD } as const;

function configError(options: unknown): GmailTransportError {
  try {
    createBridge(options as BridgeOptions);
  } catch (err) {
    if (isGmailTransportError(err)) return err;
    throw err;
  }
  throw new Error('createBridge accepted the config');
}

function paths(err: GmailTransportError): string[] {
  return (err.issues ?? []).map((i) => i.path);
}

describe('bridge config validation (createBridge)', () => {
  let dir: string;
  let hash: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-config-'));
    hash = await fastHash('printer-pw');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports every problem at once, by field path, in one CONFIG_INVALID, with no value in it', async () => {
    const { key } = await testCert();
    const err = configError({
      listen: { port: 70000, tlsPort: 25 },
      tls: { key, cert: 'missing.pem' },
      accounts: [
        { user: 'printer', passwordHash: PLAIN_PASSWORD, allowFrom: ['not an address'] },
        { user: 'printer', passwordHash: hash },
      ],
      allowNetworks: ['192.168.1.0/33', '0.0.0.0/0', 'printers'],
      limits: { maxMessageBytes: 'big', lockoutMinutes: 0 },
      allowedNetworks: [],
      upstream: { ...upstream, appPassword: PLAIN_PASSWORD },
      baseDir: dir,
    });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.phase).toBe('config');
    expect(paths(err)).toEqual(
      expect.arrayContaining([
        'allowedNetworks',
        'listen.port',
        'tls.cert',
        'accounts[0].passwordHash',
        'accounts[0].allowFrom[0]',
        'accounts[1].user',
        'allowNetworks[0]',
        'allowNetworks[1]',
        'allowNetworks[2]',
        'limits.maxMessageBytes',
        'limits.lockoutMinutes',
        'upstream.appPassword',
      ]),
    );
    expect(err.issues!.find((i) => i.path === 'allowNetworks[1]')!.message).toMatch(/open relay/);
    expect(err.issues!.find((i) => i.path === 'tls.cert')!.message).toMatch(/cannot be read .*missing\.pem \(ENOENT\)/);
    expect(err.hint).toMatch(/hash-password/);
    for (const text of [String(err), JSON.stringify(err), inspect(err, { depth: 5 }), err.hint ?? '']) {
      expect(text).not.toContain(PLAIN_PASSWORD);
      expect(text).not.toContain('PRIVATE KEY');
    }
  });

  // Every bridge.json the administrator's guides show (Windows and Linux, English and Japanese),
  // with the two secret files beside it, as an administrator would set it up.
  const guideConfigs = ['docs/bridge.md', 'docs/ja/bridge.md'].flatMap((guide) =>
    parseMarkdown(readDoc(guide))
      .blocks.filter((block) => block.lang === 'json' && block.body.includes('"upstream"'))
      .map((block, index) => [`${guide} #${index + 1}`, block.body] as const),
  );

  it('the guides show a bridge.json for Windows and one for Linux, in both languages', () => {
    expect(guideConfigs.map(([where]) => where)).toEqual(['docs/bridge.md #1', 'docs/bridge.md #2', 'docs/ja/bridge.md #1', 'docs/ja/bridge.md #2']);
    expect(guideConfigs[2]?.[1]).toBe(guideConfigs[0]?.[1]);
    expect(guideConfigs[3]?.[1]).toBe(guideConfigs[1]?.[1]);
  });

  it.each(guideConfigs)('the bridge.json of %s (office printers through OAuth2) is a valid config', async (_where, text) => {
    const json = JSON.parse(text) as Record<string, unknown> & { accounts: Array<Record<string, unknown>> };
    expect(json.upstream).toMatchObject({ strategy: 'oauth2' });
    await writeFile(join(dir, 'client-secret'), 'FAKE-CLIENT-SECRET-readme\n');
    await writeFile(join(dir, 'refresh-token'), '1//FAKE-REFRESH-readme\n');
    // The guides show a shortened hash; everything else is used as printed.
    json.accounts[0]!.passwordHash = hash;
    await writeFile(join(dir, 'bridge.json'), JSON.stringify(json));
    const loaded = await loadConfig<Record<string, unknown>>(join(dir, 'bridge.json'));
    const bridge = createBridge({ ...(loaded as unknown as BridgeOptions), baseDir: dir });
    expect(bridge.addresses).toEqual([]);
    await bridge.close();
  });

  it('needs the upstream, and someone to admit', () => {
    expect(paths(configError({}))).toEqual(expect.arrayContaining(['upstream', 'accounts']));
    expect(paths(configError({ upstream: 'app-password' }))).toContain('upstream');
  });

  it('refuses accounts without TLS unless allowInsecureAuth, and tlsPort without TLS', () => {
    const err = configError({ accounts: [{ user: 'p', passwordHash: hash }], listen: { tlsPort: 4650 }, upstream });
    expect(paths(err)).toEqual(expect.arrayContaining(['tls', 'listen.tlsPort']));
    expect(() => createBridge({ accounts: [{ user: 'p', passwordHash: hash }], allowInsecureAuth: true, upstream })).not.toThrow();
  });

  it('checks that the key belongs to the certificate, and reads relative paths from baseDir', async () => {
    const { key, cert } = await testCert();
    const other = await testCert({ host: 'other.example' });
    expect(paths(configError({ tls: { key: other.key, cert }, allowNetworks: ['10.0.0.0/8'], upstream }))).toEqual(['tls.key']);
    expect(paths(configError({ tls: { key: 'not a key', cert: 'not a cert' }, allowNetworks: ['10.0.0.0/8'], upstream, baseDir: dir }))).toEqual([
      'tls.key',
      'tls.cert',
    ]);
    expect(paths(configError({ tls: {}, allowNetworks: ['10.0.0.0/8'], upstream }))).toEqual(['tls']);
    expect(paths(configError({ tls: { selfSigned: 'yes' }, allowNetworks: ['10.0.0.0/8'], upstream }))).toEqual(['tls.selfSigned']);
    await writeFile(join(dir, 'bridge.key'), key);
    await writeFile(join(dir, 'bridge.crt'), cert);
    expect(() => createBridge({ tls: { key: 'bridge.key', cert: 'bridge.crt' }, allowNetworks: ['10.0.0.0/8'], upstream, baseDir: dir })).not.toThrow();
  });

  it('validates the upstream with the transport own rules, under upstream.*', () => {
    const err = configError({ allowNetworks: ['10.0.0.0/8'], upstream: { strategy: 'carrier-pigeon' } });
    expect(paths(err)).toEqual(['upstream.strategy']);
  });

  it('a port already in use fails listen() with CONFIG_INVALID naming listen', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    const bridge = createBridge({ listen: { port }, allowNetworks: ['127.0.0.1'], upstream });
    const err = (await bridge.listen().catch((e: unknown) => e)) as GmailTransportError;
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: 'listen', message: expect.stringContaining('EADDRINUSE') }] });
    expect(err.hint).toMatch(/Another program/);
    await bridge.close();
    await new Promise<void>((r) => blocker.close(() => r()));
  });

  it("defaults: 127.0.0.1, SIZE 35882577 (Gmail's own limit), no STARTTLS without a certificate", async () => {
    const bridge = createBridge({ listen: { port: 0 }, allowNetworks: ['127.0.0.1'], upstream });
    const [address] = await bridge.listen();
    expect(address).toMatchObject({ host: '127.0.0.1', tls: 'none' });
    const client = await RawSmtpClient.connect(address!.port);
    await client.read();
    const ehlo = await client.command('EHLO printer.local');
    expect(ehlo).toContain('SIZE 35882577');
    expect(ehlo).not.toMatch(/STARTTLS|AUTH/);
    client.close();
    await bridge.close();
  });
});
