import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });
// A plain JavaScript module (ESLint loads it without a TypeScript loader): its one export used here, typed.
const configPath: string = '../../eslint.config.js';
const { LAYERS } = (await import(configPath)) as { LAYERS: readonly string[] };

/** The messages of the layer rules for `code` as if it were the file at `path`. */
async function layerMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

// Issue 20, item 1: imports point one way, checked by `npm run lint` (docs/decisions/0012-layout.md).
describe('the layer rule of eslint.config.js', () => {
  it('refuses an import from a layer above: static, type-only, import() and typeof import()', async () => {
    const code = [
      "import { createGmailTransport } from '../transport/create.js';",
      "import type { Strategy } from '../strategies/types.js';",
      "export const load = () => import('../../cli/io.js');",
      "export type Io = typeof import('../cli/io.js');",
      'export type S = Strategy<string, object, unknown>;',
      'export const create = createGmailTransport;',
    ].join('\n');
    const messages = await layerMessages('src/core/probe.ts', code);
    expect(messages).toHaveLength(4);
    for (const message of messages) expect(message).toContain('src/core/ may import only from its own folder, errors');
  });

  it('lets the same imports through from a layer above them', async () => {
    const code = [
      "import { createGmailTransport } from '../transport/create.js';",
      "import type { Strategy } from '../strategies/types.js';",
      'export type S = Strategy<string, object, unknown>;',
      'export const create = createGmailTransport;',
    ].join('\n');
    expect(await layerMessages('src/cli/probe.ts', code)).toEqual([]);
  });

  it('refuses an upward import from a nested folder (routes/smtp/ into budget/)', async () => {
    const messages = await layerMessages('src/routes/smtp/probe.ts', "export { withBudget } from '../../budget/route.js';");
    expect(messages).toEqual([expect.stringContaining('src/routes/ may import only from')]);
  });

  it('covers every folder of src/, and index.ts is the only file at its root', () => {
    const entries = readdirSync(`${root}src`, { withFileTypes: true });
    expect(entries.filter((e) => e.isFile()).map((e) => e.name)).toEqual(['index.ts']);
    expect(
      entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    ).toEqual([...LAYERS].sort());
  });
});
