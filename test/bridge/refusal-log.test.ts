import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefusalLog } from '../../src/bridge/refusal-log.js';
import type { BridgeRefusalRecord } from '../../src/bridge/index.js';

const refusal = (client: string, reason: BridgeRefusalRecord['reason'] = 'network-not-allowed'): BridgeRefusalRecord => ({
  event: 'refused',
  client,
  reason,
  reply: '530 5.7.0',
});

describe('summarised refusal log (issue 18)', () => {
  afterEach(() => vi.useRealTimers());

  it('writes the first refusals of an address in full, then one summary when the window closes, then starts again', () => {
    vi.useFakeTimers();
    const lines: Array<{ record: BridgeRefusalRecord; text: string }> = [];
    const log = new RefusalLog((record, _level, text) => lines.push({ record, text }), { windowMs: 60_000, fullLines: 2 });
    for (let i = 0; i < 50; i++) log.note(refusal('10.0.0.9'), 'warn');
    log.note(refusal('10.0.0.8'), 'warn');
    log.note(refusal('10.0.0.9', 'auth-failed'), 'warn');
    expect(lines.map((l) => [l.record.client, l.record.reason])).toEqual([
      ['10.0.0.9', 'network-not-allowed'],
      ['10.0.0.9', 'network-not-allowed'],
      ['10.0.0.8', 'network-not-allowed'],
      ['10.0.0.9', 'auth-failed'],
    ]);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toEqual({
      record: { event: 'refused', client: '10.0.0.9', reason: 'network-not-allowed', reply: '530 5.7.0', repeated: 48 },
      text: 'gmail-transport bridge: refused 48 more times (network-not-allowed) within 60 s',
    });
    log.note(refusal('10.0.0.9'), 'warn');
    expect(lines[5]!.record).toEqual(refusal('10.0.0.9'));
  });

  it('keeps its table bounded: past maxKeys, new addresses share one summary per reason', () => {
    vi.useFakeTimers();
    const lines: BridgeRefusalRecord[] = [];
    const log = new RefusalLog((record) => lines.push(record), { fullLines: 1, maxKeys: 3 });
    for (let i = 0; i < 100; i++) log.note(refusal(`10.0.${i >> 8}.${i & 255}`), 'warn');
    expect(lines).toHaveLength(4);
    log.flush();
    expect(lines.at(-1)).toMatchObject({ client: '*', repeated: 96 });
  });
});
