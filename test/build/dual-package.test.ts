import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

/**
 * The built package, as users get it: dist/index.js through `import`, dist/index.cjs through
 * `require`. Both are loaded into one process, which is where `instanceof` stops working and
 * the Symbol.for brand of isGmailTransportError has to.
 */

type Api = typeof import('../../src/index.js');
type AppPasswordConfig = import('../../src/index.js').AppPasswordConfig;

const root = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const outputs = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].map((f) => join(root, 'dist', f));
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

describe('dual ESM/CJS build', () => {
  let server: RecordingServer;
  let esm: Api;
  let cjs: Api;

  beforeAll(async () => {
    ensureBuilt();
    server = await startRecordingServer({ secure: true });
    esm = (await import(/* @vite-ignore */ pathToFileURL(join(root, 'dist/index.js')).href)) as Api;
    cjs = createRequire(import.meta.url)(join(root, 'dist/index.cjs')) as Api;
  }, 180_000);
  afterAll(() => server?.close());

  const configFor = (label: string): AppPasswordConfig => ({
    strategy: 'app-password',
    user: `${label}@gmail.com`,
    appPassword: APP_PASSWORD,
    smtp: { host: '127.0.0.1', port: server.port, secure: true, tls: { ca: [server.cert] } },
  });

  it('emits both formats with their own declaration files, and the version baked in', () => {
    for (const file of outputs) expect(existsSync(file), file).toBe(true);
    expect(readFileSync(join(root, 'dist/index.cjs'), 'utf8')).toMatch(/exports\.|module\.exports/);
    expect(readFileSync(join(root, 'dist/index.js'), 'utf8')).toMatch(/^export \{/m);
    expect(readFileSync(join(root, 'dist/index.js'), 'utf8')).toContain(JSON.stringify(version));
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
      console.log(JSON.stringify({ sent, sameModule: esm.createGmailTransport === cjs.createGmailTransport,
        crossEsm: esm.isGmailTransportError(cjsError), crossCjs: cjs.isGmailTransportError(esmError) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, APP_PASSWORD, SMTP_PORT: String(server.port), SMTP_CA: server.cert },
    });
    expect(JSON.parse(stdout)).toEqual({ sent: ['you@example.com', 'you@example.com'], sameModule: false, crossEsm: true, crossCjs: true });
    expect(server.messages.map((m) => m.parsed.subject)).toEqual(expect.arrayContaining(['esm native', 'cjs native']));
  });
});
