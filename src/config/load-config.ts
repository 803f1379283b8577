import { dirname, resolve } from 'node:path';
import type { ConfigIssue } from '../errors/error.js';
import type { GmailTransportConfig } from '../strategies/index.js';
import { configError, isPlainObject } from '../core/validate.js';
import { findJsonProblem } from './json-problem.js';
import { errnoOf } from './errno.js';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Where `{ "env": "NAME" }` references are looked up. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Base of a relative config path, and of relative `{ "file": … }` references and `keyFile`
   * paths when the config is given as an object. @default process.cwd()
   */
  cwd?: string;
}

const REFERENCE_HINT =
  'Set the environment variables and make the files readable by this process; a reference is { "env": "NAME" } or { "file": "path" }, with nothing else in the object.';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Fields holding a path, resolved against the config file's folder like `{ "file" }` references. */
const PATH_FIELDS = new Set(['keyFile']);

/** The package's `loadConfig` (see config/lazy.ts, which carries its documentation). */
export async function loadConfig<T = GmailTransportConfig>(source: string | Record<string, unknown>, options: LoadConfigOptions = {}): Promise<T> {
  const { value, issues } = await readConfig<T>(source, options);
  if (issues.length > 0) throw configError(issues, [REFERENCE_HINT]);
  return value;
}

/**
 * What {@link loadConfig} does, without throwing for references that cannot be resolved: the
 * config with those fields left out, and one issue (with its hint) for each. For a caller that
 * validates the config next and reports every problem in one pass, the bridge's `serve`. A file
 * that cannot be read or parsed still throws: there is nothing to validate.
 */
export async function readConfig<T = GmailTransportConfig>(
  source: string | Record<string, unknown>,
  options: LoadConfigOptions = {},
): Promise<{ value: T; issues: ConfigIssue[] }> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let raw: unknown = source;
  let baseDir = cwd;
  if (typeof source === 'string') {
    const file = resolve(cwd, source);
    raw = await readJsonFile(file);
    baseDir = dirname(file);
  } else if (!isPlainObject(source)) {
    throw configError([{ path: 'config', message: 'must be a file path or an object' }]);
  }
  if (!isPlainObject(raw)) throw configError([{ path: 'config', message: 'must be a JSON object' }]);
  const issues: ConfigIssue[] = [];
  const resolved = await resolveReferences(raw, '', { env, baseDir, issues });
  return { value: resolved as T, issues: issues.map((issue) => ({ ...issue, hint: REFERENCE_HINT })) };
}

/**
 * Reads a file a config names, as UTF-8 without a byte-order mark (Windows editors write one).
 * Only a regular file: a FIFO or a device would block the read forever or never end, so it is
 * opened without blocking and refused with the code `not a regular file` (see {@link errnoOf}).
 * node:fs is loaded at the first read: nothing else at import needs it, and in CommonJS it costs
 * about a millisecond that a transport which never reads a file would pay.
 */
export async function readRegularFile(file: string): Promise<string> {
  const [{ open }, { constants }] = await Promise.all([import('node:fs/promises'), import('node:fs')]);
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer (Windows has no FIFOs).
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    // A directory is reported as reading one would be, with the errno a user can look up.
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    return (await handle.readFile('utf8')).replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

/**
 * A secret kept in a file, as {@link readRegularFile} reads it, without surrounding whitespace:
 * secret files (Docker, Kubernetes, systemd credentials, `echo … > file`) usually end with a
 * line break that is not part of the secret, and none of Google's secrets has outer spaces.
 */
export async function readSecretFile(file: string): Promise<string> {
  return secretText(await readRegularFile(file));
}

/** A secret as typed, pasted or saved: without a byte-order mark and surrounding whitespace. */
export function secretText(text: string): string {
  return text.replace(/^\uFEFF/, '').trim();
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readRegularFile(file);
  } catch (err) {
    throw configError([{ path: 'config', message: `file ${file} cannot be read (${errnoOf(err)})` }]);
  }
  // Windows Notepad saves UTF-8 with a byte order mark, which JSON.parse refuses.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    // V8's message quotes the text around the error, which may hold a secret, and gives a
    // position for some errors only: the scanner says where, and what it found, in its own words.
    const problem = findJsonProblem(json);
    const position = /at position (\d+)/.exec(String((err as Error).message))?.[1];
    const where = problem
      ? ` (line ${problem.line}, column ${problem.column}): found ${problem.found} where ${problem.expected} was expected`
      : position
        ? ` (${lineAndColumn(json, Number(position))})`
        : '';
    const message = `file ${file} is not valid JSON${where}`;
    throw configError([{ path: 'config', message, ...(problem ? { hint: problem.advice } : {}) }], problem ? [problem.advice] : []);
  }
}

interface ResolveContext {
  env: Readonly<Record<string, string | undefined>>;
  baseDir: string;
  issues: ConfigIssue[];
}

async function resolveReferences(value: unknown, path: string, ctx: ResolveContext): Promise<unknown> {
  if (Array.isArray(value)) {
    return Promise.all(value.map((item, index) => resolveReferences(item, `${path}[${index}]`, ctx)));
  }
  if (!isPlainObject(value)) return value;
  if ('env' in value || 'file' in value) return resolveReference(value, path, ctx);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    out[key] = PATH_FIELDS.has(key) && typeof child === 'string' ? resolve(ctx.baseDir, child) : await resolveReferences(child, childPath, ctx);
  }
  return out;
}

async function resolveReference(ref: Record<string, unknown>, path: string, ctx: ResolveContext): Promise<string | undefined> {
  const fail = (message: string): undefined => {
    ctx.issues.push({ path: path || 'config', message });
    return undefined;
  };
  if (Object.keys(ref).length !== 1) return fail('is a secret reference and must have exactly one key, "env" or "file"');
  if ('env' in ref) {
    const name = ref.env;
    if (typeof name !== 'string' || !ENV_NAME.test(name)) return fail('refers to an environment variable whose name is not valid');
    const value = ctx.env[name];
    if (value === undefined) return fail(`refers to environment variable ${name}, which is not set`);
    if (value === '') return fail(`refers to environment variable ${name}, which is empty`);
    return value;
  }
  const file = ref.file;
  if (typeof file !== 'string' || file === '') return fail('refers to a file but the path is not a non-empty string');
  const full = resolve(ctx.baseDir, file);
  try {
    const content = await readSecretFile(full);
    if (content === '') return fail(`refers to file ${full}, which is empty`);
    return content;
  } catch (err) {
    return fail(`refers to file ${full}, which cannot be read (${errnoOf(err)})`);
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
