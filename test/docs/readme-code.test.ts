import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { docFiles, fencedBlocks, type CodeBlock as FencedBlock } from '../helpers/markdown.js';
import { startRecordingServer, type RecordingServer } from '../helpers/smtp-server.js';

// Issue 19, item 7: every ```ts block of the READMEs and the guides compiles as written against
// the built package (dist/, built by test/global-setup.ts), as a CommonJS and as an ES module
// unless the block says it is for ES modules only; and the Quick start runs.

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Every page with a ts block: the READMEs and the guides. */
const PAGES = docFiles().filter((page) => fencedBlocks(readFileSync(join(root, page), 'utf8')).some((b) => b.lang === 'ts'));
const APP_PASSWORD = 'fakequickstartqw';

/** A block says it needs an ES module (top-level await) with a comment naming ESM. */
const ESM_ONLY = /^\s*\/\/.*\bESM\b/m;
/** `// const { x } = require('gmail-transport');  // CommonJS`: the block's CommonJS form of its import. */
const COMMONJS_ALTERNATIVE = /^\/\/ (.*require\('gmail-transport'\).*?)\s*\/\/ CommonJS\s*$/gm;

interface Variant {
  file: string;
  readme: string;
  block: FencedBlock;
  kind: 'esm' | 'cjs';
}

let app: string;

/** An empty app folder whose node_modules has gmail-transport (this repository) and its dependencies. */
function makeApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'readme-code-'));
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  symlinkSync(root, join(dir, 'node_modules', 'gmail-transport'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-app', private: true }));
  return dir;
}

function variantsOf(readme: string): Variant[] {
  const blocks = fencedBlocks(readFileSync(join(root, readme), 'utf8')).filter((b) => b.lang === 'ts');
  const prefix = readme.replace(/\W/g, '-');
  return blocks.flatMap((block, index) => {
    const base = `${prefix}-${String(index + 1).padStart(2, '0')}`;
    const alternatives = [...block.body.matchAll(COMMONJS_ALTERNATIVE)].map((m) => m[1]!);
    const esm: Variant = { file: `${base}.mts`, readme, block, kind: 'esm' };
    writeFileSync(join(app, esm.file), `${block.body}\nexport {};\n`);
    if (alternatives.length > 0) {
      const cjs = block.body
        .split('\n')
        .filter((line) => !/from 'gmail-transport'/.test(line) && !COMMONJS_ALTERNATIVE.test(line))
        .concat(alternatives)
        .join('\n');
      COMMONJS_ALTERNATIVE.lastIndex = 0;
      writeFileSync(join(app, `${base}.cts`), `${cjs}\nexport {};\n`);
      return [esm, { file: `${base}.cts`, readme, block, kind: 'cjs' as const }];
    }
    if (ESM_ONLY.test(block.body)) return [esm];
    writeFileSync(join(app, `${base}.cts`), `${block.body}\nexport {};\n`);
    return [esm, { file: `${base}.cts`, readme, block, kind: 'cjs' as const }];
  });
}

function typeErrors(variants: Variant[]): string[] {
  const program = ts.createProgram(
    variants.map((v) => join(app, v.file)),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
      esModuleInterop: true,
    },
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const variant = variants.find((v) => d.file && d.file.fileName.endsWith(v.file));
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (!variant || !d.file || d.start === undefined) return `${d.file?.fileName ?? ''}: TS${d.code} ${text}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${variant.readme}:${variant.block.line + 1 + line} (${variant.kind}): TS${d.code} ${text}`;
  });
}

beforeAll(() => {
  app = makeApp();
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

it('the READMEs and the guides have ts blocks to check', () => {
  expect(PAGES).toContain('README.md');
  expect(PAGES).toContain('README.ja.md');
  expect(PAGES.length).toBeGreaterThan(10);
});

describe.each(PAGES)('%s', (readme) => {
  it('every ts block type-checks against the built package, as CommonJS and as an ES module (or, where it says ESM, as an ES module)', () => {
    const variants = variantsOf(readme);
    expect(variants.length).toBeGreaterThan(0);
    expect(typeErrors(variants)).toEqual([]);
    // The blocks that need an ES module are few, and say so.
    const esmOnly =
      new Set(variants.filter((v) => v.kind === 'esm').map((v) => v.block)).size - new Set(variants.filter((v) => v.kind === 'cjs').map((v) => v.block)).size;
    expect(esmOnly).toBeLessThanOrEqual(4);
  }, 120_000);
});

describe('the Quick start', () => {
  let server: RecordingServer;
  let refusing: RecordingServer;
  beforeAll(async () => {
    server = await startRecordingServer({ secure: true });
    refusing = await startRecordingServer({ secure: true, checkAuth: () => false });
  });
  afterAll(async () => {
    await server.close();
    await refusing.close();
  });

  /** The Quick start as README.md has it, with `smtp` pointed at a local server (the one change). */
  function quickStart(target: RecordingServer): string {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Quick start'), readme.indexOf('\n## ', readme.indexOf('\n## Quick start') + 1));
    const block = fencedBlocks(section).find((b) => b.lang === 'ts');
    expect(block).toBeDefined();
    const anchor = /^(\s*)appPassword: process\.env\.GMAIL_APP_PASSWORD!,.*$/m;
    expect(block!.body).toMatch(anchor);
    const smtp = `smtp: { host: '127.0.0.1', port: ${target.port}, secure: true, tls: { ca: [${JSON.stringify(target.cert)}] } },`;
    return block!.body.replace(anchor, (line, indent: string) => `${line}\n${indent}${smtp}`);
  }

  function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [file], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', GMAIL_APP_PASSWORD: APP_PASSWORD },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it.each([
    ['an ES module', ts.ModuleKind.ESNext, 'quick-start.mjs'],
    ['a CommonJS file', ts.ModuleKind.CommonJS, 'quick-start.cjs'],
  ] as const)(
    'runs as %s and sends its message through a local server',
    async (_kind, module, file) => {
      const before = server.messages.length;
      writeFileSync(
        join(app, file),
        ts.transpileModule(quickStart(server), { compilerOptions: { module, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText,
      );
      const result = await run(file);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Sent <[^>]+>\n$/);
      expect(server.messages.length).toBe(before + 1);
      const got = server.messages.at(-1)!;
      expect(got.envelope).toEqual({ from: 'me@gmail.com', to: ['you@example.com'] });
      expect(got.parsed.subject).toBe('Hi');
      expect(got.auth).toMatchObject({ username: 'me@gmail.com', password: APP_PASSWORD });
    },
    30_000,
  );

  it('prints the code and the hint of a failure, and exits 1', async () => {
    writeFileSync(
      join(app, 'quick-start-refused.mjs'),
      ts.transpileModule(quickStart(refusing), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText,
    );
    const result = await run('quick-start-refused.mjs');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^AUTH_INVALID_CREDENTIALS: The server refused the login: 535 5\.7\.8/);
    expect(result.stderr).toMatch(/Google refused the app password/);
    expect(result.stdout + result.stderr).not.toContain(APP_PASSWORD);
  }, 30_000);
});
