import { SendLogFile } from './file.js';
import type { ResolvedSendLog, SendLogPrivacy } from '../core/send-log.js';
import { buildRecord, type RecordInput } from './record.js';

/** Warning codes of the send log, emitted as the transporter's `warning` event. */
export type SendLogWarningCode = 'SEND_LOG_WRITE_FAILED' | 'SEND_LOG_CLEANUP_FAILED';

/** Where a transport's records go: its files, or the user's sink. */
export interface SendLogWriter {
  readonly privacy: SendLogPrivacy;
  /**
   * Makes the record of `input` and hands it over; `done` runs once it is (or its failure is
   * reported). Never throws.
   */
  write(input: RecordInput, done: () => void): void;
  close(): Promise<void>;
}

export function createSendLogWriter(
  config: ResolvedSendLog,
  warn: (code: SendLogWarningCode, message: string) => void,
  runtime: { now?: () => number } = {},
): SendLogWriter {
  const privacy = { subjects: config.subjects, recipients: config.recipients };
  if (config.kind === 'file') {
    const file = new SendLogFile<RecordInput>({
      dir: config.dir,
      build: buildRecord,
      retentionDays: config.retentionDays,
      onFailure: (failure) => warn(failure.kind === 'write' ? 'SEND_LOG_WRITE_FAILED' : 'SEND_LOG_CLEANUP_FAILED', failure.message),
      ...runtime,
    });
    return { privacy, write: (input, done) => file.append(input, done), close: () => file.close() };
  }
  const sink = config.sink;
  const failed = (err: unknown): void => {
    // The sink's own error text is not quoted: it is the user's code, and may quote the record.
    const name = err instanceof Error ? err.name : typeof err;
    warn('SEND_LOG_WRITE_FAILED', `the send log's write() failed (${name}); the message's record is lost`);
  };
  return {
    privacy,
    write(input, done) {
      let result: unknown;
      try {
        result = sink.write(buildRecord(input));
      } catch (err) {
        failed(err);
        done();
        return;
      }
      if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
        done();
        return;
      }
      (result as PromiseLike<unknown>).then(
        () => done(),
        (err: unknown) => {
          failed(err);
          done();
        },
      );
    },
    close: () => Promise.resolve(),
  };
}
