import type { BridgeRefusalRecord } from './types.js';

type Level = 'info' | 'warn' | 'error';

interface Burst {
  first: BridgeRefusalRecord;
  level: Level;
  written: number;
  more: number;
  timer: NodeJS.Timeout;
}

/**
 * Writes refusals to the log without letting one address flood it: the first `fullLines`
 * refusals of an address for a reason are written in full (a device with a wrong password shows
 * each try), the ones that follow within `windowMs` are counted and written as one summary line
 * (`repeated: N`) when the window closes.
 */
export class RefusalLog {
  readonly #write: (record: BridgeRefusalRecord, level: Level, text: string) => void;
  readonly #windowMs: number;
  readonly #fullLines: number;
  readonly #maxKeys: number;
  readonly #bursts = new Map<string, Burst>();

  constructor(
    write: (record: BridgeRefusalRecord, level: Level, text: string) => void,
    opts: { windowMs?: number; fullLines?: number; maxKeys?: number } = {},
  ) {
    this.#write = write;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#fullLines = opts.fullLines ?? 5;
    this.#maxKeys = opts.maxKeys ?? 1_000;
  }

  note(record: BridgeRefusalRecord, level: Level): void {
    // Past the bound (a scan from many addresses), the rest share one burst per reason.
    let key = `${record.client}\0${record.reason}`;
    if (!this.#bursts.has(key) && this.#bursts.size >= this.#maxKeys) key = `*\0${record.reason}`;
    const burst = this.#bursts.get(key);
    if (burst && burst.written >= this.#fullLines) {
      burst.more++;
      return;
    }
    this.#write(record, level, `gmail-transport bridge: refused (${record.reason})`);
    if (burst) {
      burst.written++;
      return;
    }
    const timer = setTimeout(() => this.#close(key), this.#windowMs);
    // A summary waiting to be written must not keep a stopping process alive; flush() writes it.
    timer.unref();
    this.#bursts.set(key, { first: record, level, written: 1, more: 0, timer });
  }

  /** Writes every pending summary now (the bridge is closing). */
  flush(): void {
    for (const key of [...this.#bursts.keys()]) this.#close(key);
  }

  #close(key: string): void {
    const burst = this.#bursts.get(key);
    if (!burst) return;
    this.#bursts.delete(key);
    clearTimeout(burst.timer);
    if (burst.more === 0) return;
    const { first } = burst;
    const client = key.startsWith('*\0') ? '*' : first.client;
    this.#write(
      { event: 'refused', client, reason: first.reason, reply: first.reply, repeated: burst.more },
      burst.level,
      `gmail-transport bridge: refused ${burst.more} more time${burst.more === 1 ? '' : 's'} (${first.reason}) within ${Math.round(this.#windowMs / 1000)} s`,
    );
  }
}
