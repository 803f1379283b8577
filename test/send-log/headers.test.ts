import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, readRawHeaders } from '../../src/send-log/headers.js';

/** What a Japanese scanner sends: ISO-2022-JP, base64, split into words mid-character. */
function iso2022jpWords(text: string): string {
  // "会議資料" in ISO-2022-JP: ESC $ B, the JIS X 0208 pairs, ESC ( B.
  const bytes = Buffer.from(text, 'hex');
  const half = 4; // inside the first character
  return `=?ISO-2022-JP?B?${bytes.subarray(0, half).toString('base64')}?=\r\n =?ISO-2022-JP?B?${bytes.subarray(half).toString('base64')}?=`;
}

describe('send-log headers of raw messages', () => {
  it('decodes a folded ISO-2022-JP subject split across encoded-words, and reads the Message-ID', () => {
    const subject = iso2022jpWords('1b2442327135443b714e411b2842');
    const raw = Buffer.from(`From: scanner@example.com\r\nSubject: ${subject}\r\nMessage-ID:\r\n <scan-1@printer.local>\r\n\r\nSubject: not this one\r\n`);
    expect(readRawHeaders(raw, true)).toEqual({ messageId: '<scan-1@printer.local>', subject: '会議資料' });
    expect(readRawHeaders(raw, false)).toEqual({ messageId: '<scan-1@printer.local>' });
  });

  it.each([
    ['=?UTF-8?Q?Caf=C3=A9_au_lait?=', 'Café au lait'],
    ['Re: =?utf-8?B?5pyI5qyh5aCx5ZGK?= (draft)', 'Re: 月次報告 (draft)'],
    ['=?utf-8?q?a?= =?utf-8?q?b?=', 'ab'],
    ['=?utf-8?q?a?= plain =?utf-8?q?b?=', 'a plain b'],
    ['=?Shift_JIS?B?grGC8YLJgr+CzQ==?=', 'こんにちは'],
    ['=?x-unknown?Q?abc?=', '=?x-unknown?Q?abc?='],
    ['=?UTF-8*ja?Q?=E6=97=A5?=', '日'],
    ['no words here', 'no words here'],
  ])('%s → %s', (encoded, decoded) => {
    expect(decodeEncodedWords(encoded)).toBe(decoded);
  });

  it('only the header section is read', () => {
    expect(readRawHeaders('From: a@b\r\n\r\nMessage-ID: <in-body@x>\r\nSubject: body\r\n', true)).toEqual({});
  });
});
