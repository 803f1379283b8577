import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root (where package.json is). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST_ESM = join(ROOT, 'dist', 'index.js');
export const DIST_CJS = join(ROOT, 'dist', 'index.cjs');
export const DIST_BRIDGE_ESM = join(ROOT, 'dist', 'bridge.js');

export type Package = typeof import('../../src/index.js');
export type BridgePackage = typeof import('../../src/bridge/index.js');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds dist/ when it is missing or older than src/ (or the build config): every figure is
 * taken from the code users install, not from tsx-transpiled sources.
 */
export function ensureBuilt(log: (line: string) => void): void {
  const inputs = [join(ROOT, 'src'), join(ROOT, 'tsup.config.ts'), join(ROOT, 'package.json')];
  const outputs = [DIST_ESM, DIST_CJS, DIST_BRIDGE_ESM];
  const stale = outputs.some((file) => !existsSync(file)) || Math.max(...inputs.map(newestMtime)) > Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  if (!stale) return;
  log('dist/ is missing or older than src/: running npm run build');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  if (result.status !== 0) throw new Error(`npm run build failed (status ${result.status ?? result.signal})`);
}

/** The built ESM entry, as `import 'gmail-transport'` gives it. */
export async function loadPackage(): Promise<Package> {
  return (await import(pathToFileURL(DIST_ESM).href)) as Package;
}
