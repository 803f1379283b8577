/**
 * Characters a terminal acts on instead of showing: C0 controls but tab and line feed, a CR that
 * does not end a line (it returns to the line start and hides what was written; CRLF, which CSV
 * for Excel needs, hides nothing), DEL, the C1 controls (U+009B is CSI on many terminals) and the
 * bidirectional overrides that reorder what is shown (CVE-2021-42574).
 */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

/** `text` without the characters a terminal would act on; tab, line feed and CRLF are kept. */
export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

/** `text` on one line (line breaks and other controls become spaces), cut to `maxLength` with an ellipsis. */
export function oneLine(text: string, maxLength = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/**
 * A server's free text (an OAuth `error` or `error_description`, an API message) as it may
 * appear in an error: one line without control characters, or `undefined` when it is not a
 * string, is longer than `maxLength` (the endpoint is not ours, and a long body may echo the
 * request), or holds any of `secrets` (Google's descriptions are fixed phrases; one that quotes
 * what we sent is dropped whole rather than trusted to be cut right).
 */
export function publicText(raw: unknown, secrets: readonly string[], maxLength = 200): string | undefined {
  if (typeof raw !== 'string' || raw.length > maxLength) return undefined;
  const text = stripControlCharacters(raw).replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  // Both forms: a secret split by control characters is whole again once they are gone.
  if (secrets.some((secret) => secret !== '' && (raw.includes(secret) || text.includes(secret)))) return undefined;
  return text;
}
