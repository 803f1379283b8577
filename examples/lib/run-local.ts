/**
 * `npm run example -- <name>`: runs examples/<name>.ts (or .cjs) against the local stand-ins of
 * local-stack.ts, with their fake credentials. No Google account, no network beyond 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { localEnvironment, startLocalStack } from './local-stack.js';
import { LOCAL_FLAG, localTarget } from './target.js';

const examplesDir = fileURLToPath(new URL('..', import.meta.url));
const names = readdirSync(examplesDir)
  .filter((f) => /\.(ts|cjs)$/.test(f) && !['demo.ts', 'bridge-demo.ts'].includes(f))
  .map((f) => f.replace(/\.(ts|cjs)$/, ''));

const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run example -- <name>\nexamples: ${names.join(', ')}`);
  process.exit(64);
}

if (existsSync(join(examplesDir, `${name}.cjs`))) {
  process.exitCode = await runCommonJs(join(examplesDir, `${name}.cjs`));
} else {
  process.env[LOCAL_FLAG] = '1';
  const example = (await import(pathToFileURL(join(examplesDir, `${name}.ts`)).href)) as { main(): Promise<void> };
  await example.main();
}

/** The CommonJS example loads the built package, so it runs in a child with GMAIL_* variables. */
async function runCommonJs(file: string): Promise<number> {
  if (!existsSync(fileURLToPath(new URL('../../dist/index.cjs', import.meta.url)))) {
    console.error('The CommonJS example loads the built package: run `npm run build` first.');
    return 1;
  }
  const stack = await startLocalStack();
  const dir = await mkdtemp(join(tmpdir(), 'gmail-transport-example-'));
  try {
    const caFile = join(dir, 'local-ca.pem');
    await writeFile(caFile, stack.gmail.smtp.tls.ca[0]!);
    const env = { ...process.env, ...localEnvironment(stack, caFile), ALERT_TO: 'ops@example.org' };
    const child = spawn(process.execPath, [file, 'Disk almost full on db-1', '/var is at 93%'], { env, stdio: 'inherit' });
    const status = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    await localTarget({ credentials: stack.credentials, overrides: stack.overrides }, stack).close();
    return status;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
