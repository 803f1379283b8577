/** The first syntax error of a JSON text: where it is, what was found there, and what to do. */
export interface JsonProblem {
  line: number;
  column: number;
  /** What was found, described without quoting the text around it (it may be a secret). */
  found: string;
  /** What JSON wanted there. */
  expected: string;
  /** What to do about it, for the usual ways a hand-edited or pasted file breaks. */
  advice: string;
}

const ADVICE = {
  fence: 'Remove the ``` lines around the JSON: the file holds only what is between them.',
  curly: 'Replace curly quotes (“ ” ‘ ’) with straight double quotes ("): word processors and chat apps change them as you type.',
  single: 'JSON strings and names take double quotes ("), not single quotes.',
  comment: 'JSON has no comments: remove the // or /* */ text.',
  trailing: 'Remove the comma before the closing } or ]: JSON allows none after the last item.',
  missingComma: 'Add a comma between the two items (at the end of the line before).',
  unquotedName: 'Put property names in double quotes, e.g. "strategy": "oauth2".',
  end: 'The file ends too early: a closing } or ] (or the " that ends a string) is missing.',
  wideSpace: 'Replace the full-width space (U+3000) with a normal space: Japanese input mode types it.',
  escape: 'A backslash in a string starts an escape: write \\\\ for one backslash (C:\\\\certs\\\\ca.pem), or use / in paths.',
  control: 'A line break or tab inside a string must be written as \\n or \\t.',
  other: 'Fix the JSON at that line and column; an editor that checks JSON shows the same place.',
} as const;

class Stop {
  constructor(
    readonly offset: number,
    readonly expected: string,
    readonly kind?: keyof typeof ADVICE,
  ) {}
}

/**
 * Finds the first syntax error of a JSON text, or undefined when it parses. A small scanner of
 * its own, not JSON.parse's message: V8 gives a position for some errors only, and quotes the
 * text around it.
 */
export function findJsonProblem(text: string): JsonProblem | undefined {
  let pos = 0;
  let depth = 0;
  const ws = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const string = (): void => {
    pos++;
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === '"') {
        pos++;
        return;
      }
      if (ch < ' ') throw new Stop(pos, 'the rest of the string', 'control');
      if (ch === '\\') {
        const next = text[pos + 1];
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) pos += 6;
        else if (next !== undefined && '"\\/bfnrt'.includes(next)) pos += 2;
        else throw new Stop(pos, 'a valid escape (\\\\, \\", \\n, \\uXXXX)', 'escape');
        continue;
      }
      pos++;
    }
    throw new Stop(pos, 'the " that ends the string', 'end');
  };
  const literal = (): void => {
    const match = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(pos, pos + 400));
    if (!match) throw new Stop(pos, 'a value');
    pos += match[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[pos];
    if (ch === '{' || ch === '[') {
      if (++depth > 500) throw new Stop(pos, 'less nesting');
      pos++;
      ws();
      const close = ch === '{' ? '}' : ']';
      if (text[pos] === close) {
        pos++;
        depth--;
        return;
      }
      for (;;) {
        if (ch === '{') {
          ws();
          if (text[pos] !== '"') throw new Stop(pos, 'a property name in double quotes', /[A-Za-z_$]/.test(text[pos] ?? '') ? 'unquotedName' : undefined);
          string();
          ws();
          if (text[pos] !== ':') throw new Stop(pos, 'a colon (:)');
          pos++;
        }
        value();
        ws();
        if (text[pos] === close) {
          pos++;
          depth--;
          return;
        }
        if (text[pos] !== ',')
          throw new Stop(pos, `a comma or ${close}`, text[pos] === '"' || text[pos] === '{' || text[pos] === '[' ? 'missingComma' : undefined);
        const comma = pos++;
        ws();
        if (text[pos] === close) throw new Stop(comma, `another item after the comma, or no comma before ${close}`, 'trailing');
      }
    }
    if (ch === '"') return string();
    literal();
  };
  try {
    value();
    ws();
    if (pos < text.length) throw new Stop(pos, 'the end of the file');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return describe(text, err);
  }
}

function describe(text: string, stop: Stop): JsonProblem {
  const before = text.slice(0, stop.offset).split('\n');
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  const ch = text[stop.offset];
  let kind = stop.kind;
  let found: string;
  if (ch === undefined) {
    found = 'the end of the file';
    kind ??= 'end';
  } else if (ch === '`') {
    found = 'a backquote (`)';
    if (/^[ \t]*```/.test(text.slice(stop.offset - column + 1))) kind = 'fence';
  } else if ('“”„‘’'.includes(ch)) {
    found = `a curly quote (${ch})`;
    kind = 'curly';
  } else if (ch === "'") {
    found = "a single quote (')";
    kind = 'single';
  } else if (ch === '/' && (text[stop.offset + 1] === '/' || text[stop.offset + 1] === '*')) {
    found = `a comment (${text.slice(stop.offset, stop.offset + 2)})`;
    kind = 'comment';
  } else if (ch === '\u3000') {
    found = 'a full-width space (U+3000)';
    kind = 'wideSpace';
  } else if (kind === 'escape') {
    found = 'a backslash that starts no valid escape';
  } else if (kind === 'control') {
    found = ch === '\n' || ch === '\r' ? 'a line break inside a string' : 'a control character inside a string';
  } else if (kind === 'trailing') {
    found = 'a comma (,) before the closing bracket';
  } else if (/\p{L}/u.test(ch)) {
    // A letter may be the start of an unquoted secret: described, never quoted.
    found = 'a letter';
  } else if (/\d/.test(ch)) {
    found = 'a digit';
  } else if (/[\x21-\x7e]/.test(ch)) {
    found = ch === '"' ? 'a double quote (")' : `"${ch}"`;
  } else {
    found = `the character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return { line, column, found, expected: stop.expected, advice: ADVICE[kind ?? 'other'] };
}
