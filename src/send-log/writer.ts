import type { SendLogFile, SendLogFileOptions } from './file.js';
import type { ResolvedSendLog, SendLogPrivacy } from '../core/send-log.js';
import { buildRecord, type RecordInput } from './record.js';

/** Warning codes of the send log, emitted as the transporter's `warning` event. */
export type SendLogWarningCode = 'SEND_LOG_WRITE_FAILED' | 'SEND_LOG_CLEANUP_FAILED';

/** What the transport tells its file writer: its clock, and whether more records may come soon. */
type Runtime = Pick<SendLogFileOptions<RecordInput>, 'now' | 'moreComing'>;

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

export function createSendLogWriter(config: ResolvedSendLog, warn: (code: SendLogWarningCode, message: string) => void, runtime: Runtime = {}): SendLogWriter {
  const privacy = { subjects: config.subjects, recipients: config.recipients };
  if (config.kind === 'file') return fileWriter(config, privacy, warn, runtime);
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

/** The file writer's module, loaded with the first transport that writes files, once per process. */
let fileModule: Promise<typeof import('./file.js')> | undefined;
/** The same, once it has loaded: later transports make their writer without waiting a turn. */
let loadedFile: typeof import('./file.js') | undefined;

/**
 * Writes records to the files of `config.dir`. The file writer loads with the first transport
 * that has a `sendLog.dir`, in the background: importing the package does not hold it. Records
 * given before it lands wait for it, in order; should it fail to load, each one is reported
 * lost, as a failed write is, and its send settles.
 */
function fileWriter(
  config: Extract<ResolvedSendLog, { kind: 'file' }>,
  privacy: SendLogPrivacy,
  warn: (code: SendLogWarningCode, message: string) => void,
  runtime: Runtime,
): SendLogWriter {
  const open = ({ SendLogFile }: typeof import('./file.js')): SendLogFile<RecordInput> =>
    new SendLogFile<RecordInput>({
      dir: config.dir,
      build: buildRecord,
      retentionDays: config.retentionDays,
      onFailure: (failure) => warn(failure.kind === 'write' ? 'SEND_LOG_WRITE_FAILED' : 'SEND_LOG_CLEANUP_FAILED', failure.message),
      ...runtime,
    });
  let file: SendLogFile<RecordInput> | undefined = loadedFile && open(loadedFile);
  let waiting: Array<{ input: RecordInput; done: () => void }> | undefined = file ? undefined : [];
  fileModule ??= import('./file.js').then((module) => (loadedFile = module));
  const loaded = file
    ? Promise.resolve()
    : fileModule.then(
        (module) => {
          file = open(module);
          for (const { input, done } of waiting!) file.append(input, done);
          waiting = undefined;
        },
        () => {
          const waited = waiting!;
          waiting = undefined;
          for (const { done } of waited) {
            try {
              lost(done);
            } catch (err) {
              // A throw out of a caller's listener is theirs; the other sends still settle.
              process.nextTick(() => {
                throw err;
              });
            }
          }
        },
      );
  const lost = (done: () => void): void => {
    try {
      warn('SEND_LOG_WRITE_FAILED', "the send log's file writer could not be loaded; the message's record is lost");
    } finally {
      done();
    }
  };
  return {
    privacy,
    write(input, done) {
      if (file) file.append(input, done);
      else if (waiting) waiting.push({ input, done });
      else lost(done);
    },
    async close() {
      await loaded;
      await file?.close();
    },
  };
}
