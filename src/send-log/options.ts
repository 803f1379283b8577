import { resolve } from 'node:path';
import { describeType, isPlainObject, type ConfigChecker, type Raw } from '../core/validate.js';
import type { ResolvedSendLog, SendLogRecipients, SendLogSink } from '../core/send-log.js';

/** @default of `retentionDays` */
export const DEFAULT_RETENTION_DAYS = 30;

const RECIPIENTS: readonly SendLogRecipients[] = ['full', 'domain', 'none'];
const FILE_KEYS = ['dir', 'retentionDays', 'subjects', 'recipients'];

/**
 * Validates `input.sendLog`, reporting problems under `sendLog.*`. A relative `dir` is resolved
 * against `baseDir` now, so that a later `process.chdir` does not move the log.
 */
export function parseSendLog(check: ConfigChecker, input: Raw, baseDir: string = process.cwd()): ResolvedSendLog | undefined {
  const value = input.sendLog;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    check.fail('sendLog', `must be an object ({ dir } or an object with a write(record) method), got ${describeType(value)}`);
    return undefined;
  }
  const raw = value as Raw;
  const at = check.at('sendLog');
  const before = check.issues.length;
  const subjects = at.boolean(raw, 'subjects') ?? false;
  const recipients = at.oneOf(raw, 'recipients', RECIPIENTS) ?? 'full';
  if (typeof raw.write === 'function') {
    if (raw.dir !== undefined) at.fail('dir', 'cannot be combined with write: records go to one place');
    return check.issues.length === before ? Object.freeze({ kind: 'sink', sink: value as SendLogSink, subjects, recipients }) : undefined;
  }
  if (!isPlainObject(raw)) {
    check.fail('sendLog', 'must be a plain object with dir, or an object with a write(record) method');
    return undefined;
  }
  if (raw.write !== undefined) at.fail('write', `must be a function, got ${describeType(raw.write)}`);
  at.unknownKeys(raw, [...FILE_KEYS, 'write']);
  const dir = at.string(raw, 'dir', { required: true });
  const retentionDays = at.integer(raw, 'retentionDays', { min: 1, max: 36_500 }) ?? DEFAULT_RETENTION_DAYS;
  if (dir === undefined || check.issues.length > before) return undefined;
  return Object.freeze({ kind: 'file', dir: resolve(baseDir, dir), retentionDays, subjects, recipients });
}
