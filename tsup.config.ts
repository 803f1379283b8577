import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

const shared = {
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  define: { __GMAIL_TRANSPORT_VERSION__: JSON.stringify(version) },
} as const;

export default defineConfig([
  {
    ...shared,
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    // The two builds run side by side: leave the bin's files to the second one.
    clean: ['!cli.js', '!cli.js.map'],
  },
  {
    ...shared,
    // The `gmail-transport` bin: ESM only; esbuild keeps src/cli/bin.ts's shebang and tsup marks the file executable.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
  },
]);
