import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTransport } from 'nodemailer';
import { build } from 'esbuild';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';
import { startTokenEndpoint, type BreakableTokenEndpoint } from '../helpers/fault-token-endpoint.js';
import { CLIENT_SECRET, REFRESH_TOKEN, uniqueClientId } from '../helpers/oauth-fixtures.js';

/**
 * The built package, as users get it: dist/index.js through `import`, dist/index.cjs through
 * `require`. Both are loaded into one process, which is where `instanceof` stops working and
 * the Symbol.for brand of isGmailTransportError has to.
 */

type Api = typeof import('../../src/index.js');
type BridgeApi = typeof import('../../src/bridge/index.js');
type AppPasswordConfig = import('../../src/index.js').AppPasswordConfig;

const root = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const outputs = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'bridge.js', 'bridge.cjs', 'bridge.d.ts', 'bridge.d.cts'].map((f) =>
  join(root, 'dist', f),
);
const APP_PASSWORD = 'ljdx vmtr qpsn zkbh';

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds with the project's tsup config when dist is missing or older than its sources. */
function ensureBuilt(): void {
  const sources = Math.max(newestSourceMtime(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs, statSync(join(root, 'tsup.config.ts')).mtimeMs);
  const built = outputs.every((f) => existsSync(f)) ? Math.min(...outputs.map((f) => statSync(f).mtimeMs)) : 0;
  if (built >= sources) return;
  execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], { cwd: root, stdio: 'pipe' });
}

/**
 * Source modules that importing the package must not load: each sits behind a dynamic import
 * and loads at first use (tsup.config.ts splits them into chunks).
 */
const LAZY_MODULES = [
  'src/tokens/provider.ts',
  'src/tokens/google.ts',
  'src/tokens/store.ts',
  'src/routes/gmail-api/gmail-api-route.ts',
  'src/routes/gmail-api/compose.ts',
  'src/bridge/runtime.ts',
  'src/bridge/session.ts',
  'src/bridge/self-signed.ts',
  'src/config/load-config.ts',
  'src/config/json-problem.ts',
  'src/send-log/file.ts',
  'src/send-log/scan.ts',
];

/** The dist files an entry loads before any of its code runs: its static relative imports, transitively. */
function eagerFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(root, 'dist', file), 'utf8');
    // ESM: `import ... from './x.js'`, `export ... from './x.js'`; CJS: `require('./x.cjs')`.
    // A dynamic `import('./x')` matches neither: it is what stays lazy.
    const specifiers = [...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*['"](\.\/[^'"]+)['"]/gm), ...code.matchAll(/\brequire\(['"](\.\/[^'"]+)['"]\)/g)];
    for (const [, specifier] of specifiers) visit(specifier!.slice(2));
  };
  visit(entry);
  return [...seen].sort();
}

/** The source modules bundled into dist files, from their source maps (`../src/x.ts` → `src/x.ts`). */
function sourceModulesOf(files: string[]): string[] {
  return files.flatMap((file) =>
    (JSON.parse(readFileSync(join(root, 'dist', `${file}.map`), 'utf8')) as { sources: string[] }).sources.map((source) => source.replace(/^(\.\.\/)+/, '')),
  );
}

describe('dual ESM/CJS build', () => {
  let server: RecordingServer;
  let esm: Api;
  let cjs: Api;
  let esmBridge: BridgeApi;
  let cjsBridge: BridgeApi;

  let tokens: BreakableTokenEndpoint;
  let gmailApi: Server;
  let gmailApiUrl: string;
  const gmailApiPaths: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    server = await startRecordingServer({ secure: true });
    tokens = await startTokenEndpoint('ya29.FAKE-BUILD');
    // Enough of the Gmail API for verify(): the profile of the authorised mailbox.
    gmailApi = createServer((req, res) => {
      gmailApiPaths.push(`${req.method} ${req.url} ${tokens.isValid(req.headers.authorization?.replace(/^Bearer /, '')) ? 'valid-token' : 'bad-token'}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ emailAddress: 'build@gmail.com', messagesTotal: 1 }));
    });
    await new Promise<void>((resolve) => gmailApi.listen(0, '127.0.0.1', resolve));
    gmailApiUrl = `http://127.0.0.1:${(gmailApi.address() as AddressInfo).port}`;
    esm = (await import(/* @vite-ignore */ pathToFileURL(join(root, 'dist/index.js')).href)) as Api;
    cjs = createRequire(import.meta.url)(join(root, 'dist/index.cjs')) as Api;
    esmBridge = (await import(/* @vite-ignore */ pathToFileURL(join(root, 'dist/bridge.js')).href)) as BridgeApi;
    cjsBridge = createRequire(import.meta.url)(join(root, 'dist/bridge.cjs')) as BridgeApi;
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await tokens?.close();
    await new Promise((resolve) => (gmailApi ? gmailApi.close(resolve) : resolve(undefined)));
  });

  const configFor = (label: string): AppPasswordConfig => ({
    strategy: 'app-password',
    user: `${label}@gmail.com`,
    appPassword: APP_PASSWORD,
    smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
  });

  it('emits both formats with their own declaration files, and the version baked in', () => {
    for (const file of outputs) expect(existsSync(file), file).toBe(true);
    expect(readFileSync(join(root, 'dist/index.cjs'), 'utf8')).toMatch(/\bexports\.|module\.exports|Object\.defineProperty\(exports, /);
    expect(readFileSync(join(root, 'dist/index.js'), 'utf8')).toMatch(/^export \{/m);
    expect(eagerFiles('index.js').some((file) => readFileSync(join(root, 'dist', file), 'utf8').includes(JSON.stringify(version)))).toBe(true);
  });

  for (const format of ['esm', 'cjs'] as const) {
    it(`the ${format} build sends a message`, async () => {
      const api = format === 'esm' ? esm : cjs;
      const mailer = api.createGmailTransport(configFor(format));
      expect(mailer.transporter.name).toBe('gmail-transport');
      expect(mailer.transporter.version).toBe(version);
      await mailer.sendMail({ from: `${format}@gmail.com`, to: 'you@example.com', subject: `from the ${format} build`, text: format });
      const got = server.messages.at(-1)!;
      expect(got.parsed.subject).toBe(`from the ${format} build`);
      expect(got.auth).toEqual({ method: 'PLAIN', username: `${format}@gmail.com`, password: APP_PASSWORD.replace(/ /g, '') });
    });
  }

  it('isGmailTransportError recognises an error made by the other build', async () => {
    const fromCjs = (() => {
      try {
        cjs.createGmailTransport({ strategy: 'nope' } as never);
      } catch (err) {
        return err;
      }
    })();
    const fromEsm = await esm
      .createGmailTransport({ ...configFor('esm'), appPassword: APP_PASSWORD, retry: false, smtp: { host: '127.0.0.1', port: 1, secure: true } })
      .sendMail({ from: 'esm@gmail.com', to: 'you@example.com', text: 'x' })
      .catch((err: unknown) => err);
    expect(fromCjs).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(fromEsm).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    // Two copies of the class: instanceof fails across them, the brand does not.
    expect(fromCjs instanceof esm.GmailTransportError).toBe(false);
    expect(esm.isGmailTransportError(fromCjs)).toBe(true);
    expect(cjs.isGmailTransportError(fromEsm)).toBe(true);
    expect(esm.isGmailTransportError(new Error('plain'))).toBe(false);
    expect(cjs.isGmailTransportError({ code: 'CONFIG_INVALID' })).toBe(false);
  });

  it('plain Node resolves the package name to both builds through the exports map, and each sends', async () => {
    // A separate process: Node's own loaders, no test runner in between.
    const script = `
      import { createRequire } from 'node:module';
      const esm = await import('gmail-transport');
      const cjs = createRequire(process.cwd() + '/package.json')('gmail-transport');
      const config = (user) => ({ strategy: 'app-password', user, appPassword: process.env.APP_PASSWORD,
        smtp: { host: '127.0.0.1', port: Number(process.env.SMTP_PORT), secure: true, tls: { ca: [process.env.SMTP_CA] } } });
      const sent = [];
      for (const [name, api] of [['esm', esm], ['cjs', cjs]]) {
        const info = await api.createGmailTransport(config(name + '-native@gmail.com')).sendMail({ from: name + '-native@gmail.com', to: 'you@example.com', subject: name + ' native', text: 'x' });
        sent.push(info.accepted[0]);
      }
      let cjsError; try { cjs.createGmailTransport({}); } catch (e) { cjsError = e; }
      let esmError; try { esm.createGmailTransport({}); } catch (e) { esmError = e; }
      const bridges = [await import('gmail-transport/bridge'), createRequire(process.cwd() + '/package.json')('gmail-transport/bridge')];
      console.log(JSON.stringify({ sent, sameModule: esm.createGmailTransport === cjs.createGmailTransport,
        crossEsm: esm.isGmailTransportError(cjsError), crossCjs: cjs.isGmailTransportError(esmError),
        bridge: bridges.map((b) => typeof b.createBridge + ' ' + typeof b.hashPassword) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, APP_PASSWORD, SMTP_PORT: String(server.port), SMTP_CA: server.cert },
    });
    expect(JSON.parse(stdout)).toEqual({
      sent: ['you@example.com', 'you@example.com'],
      sameModule: false,
      crossEsm: true,
      crossCjs: true,
      bridge: ['function function', 'function function'],
    });
    expect(server.messages.map((m) => m.parsed.subject)).toEqual(expect.arrayContaining(['esm native', 'cjs native']));
  });
  it('importing either build and creating a transport loads none of the parts behind a dynamic import', async () => {
    for (const entry of ['index.js', 'index.cjs']) {
      const eager = sourceModulesOf(eagerFiles(entry));
      expect(eager, entry).toEqual(
        expect.arrayContaining(['src/transport/create.ts', 'src/errors/error.ts', 'src/strategies/app-password.ts', 'src/tokens/registry.ts']),
      );
      for (const lazy of LAZY_MODULES) expect(eager, `${entry} loads ${lazy} at import`).not.toContain(lazy);
      // What the import loads is a few files, not a chunk per set of lazy parts that share a
      // module (the one-eager-chunk plugin in tsup.config.ts).
      expect(eagerFiles(entry).length, entry).toBeLessThanOrEqual(3);
      // Each lazy module is in the build, in a chunk of its own format.
      const all = readdirSync(join(root, 'dist')).filter((f) => f.endsWith(entry.endsWith('.cjs') ? '.cjs' : '.js') && f !== 'cli.js');
      expect(sourceModulesOf(all), entry).toEqual(expect.arrayContaining(LAZY_MODULES));
    }
    // What plain Node loads for require() + an app-password transport is that same set, and
    // neither smtp-server nor google-auth-library.
    const script = `
      const mailer = require(${JSON.stringify(join(root, 'dist/index.cjs'))}).createGmailTransport({ strategy: 'app-password', user: 'me@gmail.com', appPassword: 'abcd efgh ijkl mnop' });
      console.log(JSON.stringify(Object.keys(require.cache)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: root });
    const loaded = JSON.parse(stdout) as string[];
    const distDir = join(root, 'dist') + '/';
    expect(
      loaded
        .filter((f) => f.startsWith(distDir))
        .map((f) => f.slice(distDir.length))
        .sort(),
    ).toEqual(eagerFiles('index.cjs'));
    expect(loaded.filter((f) => /node_modules\/(smtp-server|google-auth-library)\//.test(f))).toEqual([]);
  });

  it('the bridge is an entry of its own (gmail-transport/bridge): the package does not load it, and both share one copy of every class', () => {
    for (const format of ['esm', 'cjs'] as const) {
      const [entry, api, bridge] = format === 'esm' ? ['index.js', esm, esmBridge] : ['index.cjs', cjs, cjsBridge];
      const eager = sourceModulesOf(eagerFiles(entry));
      expect(
        eager.filter((m) => m.startsWith('src/bridge/')),
        entry,
      ).toEqual([]);
      const refused = (() => {
        try {
          bridge.createBridge({} as never);
        } catch (err) {
          return err;
        }
      })();
      // Same format, same chunk: the class the package exports is the one the bridge throws.
      expect(refused, format).toBeInstanceOf(api.GmailTransportError);
      expect(refused, format).toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });

  it("importing the CommonJS build loads no part of Node's runtime that nodemailer alone does not (node:fs/promises brings ~175 kB)", async () => {
    const builtins = async (target: string): Promise<string[]> => {
      const script = `const before = new Set(process.moduleLoadList); require(${JSON.stringify(target)});
        console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule '))));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: root });
      return JSON.parse(stdout) as string[];
    };
    const nodemailer = new Set(await builtins('nodemailer'));
    expect((await builtins(join(root, 'dist/index.cjs'))).filter((m) => !nodemailer.has(m))).toEqual([]);
  });

  for (const format of ['esm', 'cjs'] as const) {
    it(`the ${format} build loads each lazy part on first use: the token provider, the Gmail API route, the send log's files, the bridge listener`, async () => {
      const api = format === 'esm' ? esm : cjs;
      const oauth = { clientId: uniqueClientId(), clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN };
      const user = `${format}-lazy@gmail.com`;

      // oauth2: the first send loads the provider (and google-auth-library) for its token.
      const oauth2 = api.createGmailTransport({
        strategy: 'oauth2',
        user,
        ...oauth,
        endpoints: { token: tokens.url },
        smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
      });
      await oauth2.sendMail({ from: user, to: 'you@example.com', subject: `${format} oauth2`, text: 'x' });
      const viaOAuth = server.messages.find((m) => m.parsed.subject === `${format} oauth2`)!;
      expect(viaOAuth.auth).toMatchObject({ method: 'XOAUTH2', username: user });
      expect(tokens.isValid((viaOAuth.auth as { accessToken?: string }).accessToken)).toBe(true);
      oauth2.close();

      // gmail-api: verify() loads the route and reaches the API with a valid token.
      const before = gmailApiPaths.length;
      const viaApi = api.createGmailTransport({ strategy: 'gmail-api', user, ...oauth, endpoints: { token: tokens.url, gmailApi: gmailApiUrl } });
      await expect(viaApi.verify()).resolves.toBe(true);
      expect(gmailApiPaths.slice(before)).toEqual([`GET /gmail/v1/users/${encodeURIComponent(user)}/profile valid-token`]);
      viaApi.close();

      // send log: the transport loads the file writer, the first record read loads the scan.
      const dir = mkdtempSync(join(tmpdir(), `dual-${format}-log-`));
      const logged = api.createGmailTransport({ ...configFor(`${format}-log`), sendLog: { dir } });
      await logged.sendMail({ from: `${format}-log@gmail.com`, to: 'you@example.com', subject: `${format} logged`, text: 'x' });
      logged.close();
      const records: { status: string; from?: string }[] = [];
      for await (const record of api.readSendLog({ dir })) records.push(record);
      rmSync(dir, { recursive: true, force: true });
      expect(records).toEqual([expect.objectContaining({ status: 'delivered', from: `${format}-log@gmail.com` })]);

      // bridge: listen() loads smtp-server and the session handlers; a device's message arrives upstream.
      const bridge = (format === 'esm' ? esmBridge : cjsBridge).createBridge({
        listen: { host: '127.0.0.1', port: 0 },
        allowNetworks: ['127.0.0.1'],
        upstream: configFor(`${format}-bridge`),
      });
      const [address] = await bridge.listen();
      const device = createTransport({ host: '127.0.0.1', port: address!.port, secure: false, ignoreTLS: true });
      await device.sendMail({ from: `${format}-bridge@gmail.com`, to: 'you@example.com', subject: `${format} bridge`, text: 'x' });
      device.close();
      await bridge.close();
      expect(server.messages.map((m) => m.parsed.subject)).toContain(`${format} bridge`);
    });
  }
  for (const format of ['esm', 'cjs'] as const) {
    it(`an app bundled with esbuild from the ${format} build carries the lazy parts along`, async () => {
      // The bundle is written where dist/ is not beside it: a chunk the bundler did not follow
      // would be a "Cannot find module" at run time. The dependencies stay external, as a
      // server bundle usually keeps them.
      mkdirSync(join(root, '.tmp'), { recursive: true });
      const dir = mkdtempSync(join(root, '.tmp', 'bundle-'));
      try {
        const ext = format === 'esm' ? 'mjs' : 'cjs';
        const load =
          format === 'esm'
            ? `import { createGmailTransport } from ${JSON.stringify(join(root, 'dist/index.js'))};
               import { createBridge } from ${JSON.stringify(join(root, 'dist/bridge.js'))};`
            : `const { createGmailTransport } = require(${JSON.stringify(join(root, 'dist/index.cjs'))});
               const { createBridge } = require(${JSON.stringify(join(root, 'dist/bridge.cjs'))});`;
        writeFileSync(
          join(dir, `app.${ext}`),
          `${load}
          const env = process.env;
          (async () => {
            const api = createGmailTransport({ strategy: 'gmail-api', user: 'bundled@gmail.com', clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, refreshToken: env.REFRESH_TOKEN, endpoints: { token: env.TOKEN_URL, gmailApi: env.GMAIL_API_URL } });
            const verified = await api.verify();
            api.close();
            const bridge = createBridge({ listen: { host: '127.0.0.1', port: 0 }, allowNetworks: ['127.0.0.1'], upstream: { strategy: 'relay', host: '127.0.0.1', port: Number(env.SMTP_PORT), secure: true, smtp: { tls: { ca: [env.SMTP_CA] } } } });
            const [address] = await bridge.listen();
            await bridge.close();
            console.log(JSON.stringify({ verified, listened: address.port > 0 }));
          })().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
          `,
        );
        const outfile = join(dir, 'out', `app.${ext}`);
        await build({
          entryPoints: [join(dir, `app.${ext}`)],
          outfile,
          bundle: true,
          platform: 'node',
          target: 'node20',
          format,
          external: ['nodemailer', 'google-auth-library', 'smtp-server', 'keyv'],
          logLevel: 'silent',
        });
        expect(readdirSync(join(dir, 'out'))).toEqual([`app.${ext}`]);
        const before = gmailApiPaths.length;
        const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
          cwd: dir,
          env: {
            ...process.env,
            CLIENT_ID: uniqueClientId(),
            CLIENT_SECRET,
            REFRESH_TOKEN,
            TOKEN_URL: tokens.url,
            GMAIL_API_URL: gmailApiUrl,
            SMTP_PORT: String(server.port),
            SMTP_CA: server.cert,
          },
        });
        expect(JSON.parse(stdout)).toEqual({ verified: true, listened: true });
        expect(gmailApiPaths.slice(before)).toEqual(['GET /gmail/v1/users/bundled%40gmail.com/profile valid-token']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
