import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const root = fileURLToPath(new URL('./', import.meta.url));

const FAULT = ['test/fault/**/*.test.ts'];
const SOAK = ['test/soak/**/*.test.ts'];
/** The built package and what ships with it: dist/, the docs, the examples, the lint rules. */
const BUILD = ['test/build/**/*.test.ts', 'test/docs/**/*.test.ts', 'test/examples/**/*.test.ts', 'test/lint/**/*.test.ts'];

function testFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Unit tests mirror the source: `test/<path>.test.ts` tests `src/<path>.ts`. Any other test file
 * outside the folders above is an integration test (several layers together, or the public API
 * end to end), so every test file lands in exactly one project and `npm test` runs them all.
 */
const UNIT = testFiles('test').filter((file) => existsSync(join(root, 'src', `${file.slice('test/'.length, -'.test.ts'.length)}.ts`)));

function project(name: string, include: string[], more: TestProjectInlineConfiguration['test'] = {}): TestProjectInlineConfiguration {
  return { extends: true, test: { name, include, ...more } };
}

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Suites bind real sockets on 127.0.0.1; files run in parallel, tests inside a file in order.
    pool: 'forks',
    projects: [
      project('unit', UNIT),
      project('integration', ['test/**/*.test.ts'], { exclude: [...UNIT, ...FAULT, ...SOAK, ...BUILD] }),
      project('fault', FAULT),
      project('soak', SOAK),
      // dist/ is built once, before any of these files runs (the other projects test src/).
      project('build', BUILD, { globalSetup: ['test/global-setup.ts'] }),
    ],
  },
});
