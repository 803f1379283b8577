import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

const shared = {
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  define: { __GMAIL_TRANSPORT_VERSION__: JSON.stringify(version) },
} as const;

/**
 * tsup's treeshake pass (rollup) ends each file with its sourceMappingURL comment, then tsup
 * appends the same line again: keep one.
 */
async function dropRepeatedSourceMapComment(): Promise<void> {
  const dir = new URL('./dist/', import.meta.url);
  for (const name of await readdir(dir)) {
    if (!/\.c?js$/.test(name) || name === 'cli.js') continue;
    const file = new URL(name, dir);
    const code = await readFile(file, 'utf8');
    const fixed = code.replace(/(\/\/# sourceMappingURL=(\S+))\n\/\/# sourceMappingURL=\2\n?$/, '$1\n');
    if (fixed !== code) await writeFile(file, fixed);
  }
}

/** The source modules the package loads with a dynamic `import()`: its lazy parts. */
function lazyParts(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/\bimport\('(\.\.?\/[^']+)\.js'\)/g)) found.add(resolve(dirname(file), `${target}.ts`));
  }
  return found;
}

/**
 * esbuild puts each module in a chunk by the set of entry points that reach it, and counts each
 * lazy part as an entry point. The lazy parts each reach a different few of the modules the
 * package's import loads, which cut those into many small chunks: as many files
 * for Node to resolve, read and link at every import, for code that is always loaded together.
 * Each lazy part is made to reach all of it (a namespace re-export of the package's entry that
 * nothing uses), so what the import loads is one chunk. A lazy part only ever loads after the
 * package itself, so this loads nothing sooner.
 */
const oneEagerChunk: Plugin = {
  name: 'one-eager-chunk',
  setup(build) {
    const lazy = lazyParts(resolve('src'));
    const entry = resolve('src/index.ts');
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!lazy.has(args.path)) return undefined;
      const specifier = `./${relative(dirname(args.path), entry).split('\\').join('/')}`.replace(/^\.\/\.\./, '..');
      return { contents: `${readFileSync(args.path, 'utf8')}\nexport * as __eager from ${JSON.stringify(specifier)};\n`, loader: 'ts' };
    });
  },
};

export default defineConfig([
  {
    ...shared,
    // The bridge is an entry of its own (`gmail-transport/bridge`); what both entries use is
    // shared in chunks, so a process that loads both holds one copy of each class.
    entry: { index: 'src/index.ts', bridge: 'src/bridge/index.ts' },
    format: ['esm', 'cjs'],
    // Parts only some users need (the bridge's listener, the token provider, the Gmail API
    // route) are separate chunks, loaded on first use: importing the package stays cheap.
    // For CJS, tsup turns esbuild's ESM chunks into CommonJS (its `splitting` for cjs).
    splitting: true,
    esbuildPlugins: [oneEagerChunk],
    // Rollup's pass over each chunk; it also turns the CJS chunks into plain CommonJS without
    // down-levelling `?.` and `??` (tsup's other CJS-splitting path, sucrase, would).
    treeshake: true,
    onSuccess: dropRepeatedSourceMapComment,
    // The CJS chunks load each other with import(), which Node runs from CommonJS too. Not
    // esbuild's require() shim: bundlers follow a literal import(), not calls of that shim.
    dts: true,
    // The two builds run side by side: leave the bin's files to the second one.
    clean: ['!cli.js', '!cli.js.map'],
  },
  {
    ...shared,
    // The `gmail-transport` bin: ESM only; esbuild keeps src/cli/bin.ts's shebang and tsup marks the file executable.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    // One file: a command runs once, and a lone executable is simpler to install and inspect.
    splitting: false,
    dts: false,
    clean: false,
  },
]);
