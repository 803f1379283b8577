import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stat.mtimeMs);
}

/**
 * Builds dist/ once before the test files run, when it is missing or older than its sources:
 * the tests of the built package (test/build, test/docs) must not build it side by side.
 */
export default function setup(): void {
  const outputs = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'cli.js'].map((file) => join(root, 'dist', file));
  const inputs = [join(root, 'src'), join(root, 'package.json'), join(root, 'tsup.config.ts')];
  const fresh = outputs.every((file) => existsSync(file)) && Math.min(...outputs.map((file) => statSync(file).mtimeMs)) >= Math.max(...inputs.map(newest));
  if (fresh) return;
  const result = spawnSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`building dist/ failed (status ${result.status ?? result.signal})`);
}
