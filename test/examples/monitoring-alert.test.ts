import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { localEnvironment, startLocalStack, type LocalStack } from '../../examples/lib/local-stack.js';
import { ensureBuilt, root, run, runTsx } from './run.js';

/**
 * examples/monitoring-alert.cjs is plain CommonJS that does `require('gmail-transport')`: the
 * package's own name, which Node resolves to the built dist/index.cjs (self-reference through
 * package.json "exports"). So it runs against dist, with `node`, as a user's script would.
 */
const script = join(root, 'examples/monitoring-alert.cjs');

let stack: LocalStack;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ensureBuilt();
  stack = await startLocalStack();
  dir = await mkdtemp(join(tmpdir(), 'gmail-transport-alert-test-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, stack.gmail.smtp.tls.ca[0]!);
  // Only what the script needs: no GMAIL_* from the machine running the tests.
  env = { PATH: process.env.PATH, ...localEnvironment(stack, caFile), ALERT_TO: 'ops@example.org' };
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const secrets = () => [stack.credentials.oauth2.clientSecret, stack.credentials.oauth2.refreshToken, 'ya29.local'];

describe('examples/monitoring-alert.cjs', () => {
  it('type-checks as JavaScript (// @ts-check, JSDoc) against the built declarations', () => {
    // tsconfig.json has no allowJs, and dist does not exist when CI type-checks: checked here instead.
    const program = ts.createProgram([script], {
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
    expect(program.getSourceFiles().some((f) => f.fileName === join(root, 'dist/index.d.cts'))).toBe(true);
  }, 60_000);

  it('sends the alert and exits 0', async () => {
    const { code, stdout, stderr } = await run(process.execPath, [script, 'Disk almost full on db-1', '/var is at 93%'], { env });
    expect(stderr).not.toContain('alert not sent');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^alert sent: <[^>]+@example\.com>\n$/);
    const [mail] = stack.received().filter((s) => s.subject === '[ALERT] Disk almost full on db-1');
    expect(mail?.envelope).toEqual({ from: 'me@example.com', to: ['ops@example.org'] });
    expect(mail?.auth).toMatch(/^XOAUTH2 as me@example\.com/);
    expect(mail?.text).toMatch(/^\/var is at 93%\n\nHost: .+\nTime: \d{4}-/);
  });

  it('exits 1 with the code and hint, never a secret, when Google refuses the refresh token', async () => {
    const { code, stdout, stderr } = await run(process.execPath, [script, 'Revoked'], { env: { ...env, GMAIL_REFRESH_TOKEN: 'FAKE-REFRESH-revoked-51aa' } });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/alert not sent: OAUTH_INVALID_GRANT: .+\nhint: .+\n$/);
    for (const secret of [...secrets(), 'FAKE-REFRESH-revoked-51aa']) expect(stderr).not.toContain(secret);
  });

  it('exits 75 (EX_TEMPFAIL) when Gmail cannot be reached, so the caller retries later', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { code, stderr } = await run(process.execPath, [script, 'Unreachable'], { env: { ...env, GMAIL_SMTP_PORT: String(port) } });
    expect(code).toBe(75);
    expect(stderr).toMatch(/alert not sent: CONNECTION_FAILED: /);
  });

  it('exits 64 (EX_USAGE) without a subject or ALERT_TO', async () => {
    expect((await run(process.execPath, [script], { env })).code).toBe(64);
    expect((await run(process.execPath, [script, 'x'], { env: { ...env, ALERT_TO: '' } })).code).toBe(64);
  });

  it('runs with `npm run example -- monitoring-alert` against stand-ins of its own', async () => {
    const { code, stdout } = await runTsx(['examples/lib/run-local.ts', 'monitoring-alert'], { env: { PATH: process.env.PATH } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^alert sent: /);
    expect(stdout).toContain(
      'The local stand-ins received 1 message(s):\n  "[ALERT] Disk almost full on db-1" me@example.com -> ops@example.org (XOAUTH2 as me@example.com',
    );
  }, 60_000);
});
