/** One fenced code block of a Markdown file. */
export interface FencedBlock {
  /** The info string's first word: `ts`, `json`, `sh`, or empty. */
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown text, in order; fences may be indented (list items). */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let open: { indent: number; lang: string; line: number; lines: string[] } | undefined;
  markdown.split('\n').forEach((text, index) => {
    const fence = /^( *)```(\S*)\s*$/.exec(text);
    if (open) {
      if (fence && fence[2] === '') {
        blocks.push({ lang: open.lang, body: open.lines.join('\n'), line: open.line });
        open = undefined;
      } else {
        open.lines.push(text.slice(open.indent));
      }
      return;
    }
    if (fence) open = { indent: fence[1]!.length, lang: fence[2] ?? '', line: index + 1, lines: [] };
  });
  return blocks;
}

/** Link targets of a Markdown text: `[text](target)` and `<https://…>` autolinks, outside code. */
export function linkTargets(markdown: string): string[] {
  const outsideCode = markdown.replace(/^( *)```[\s\S]*?^\1```\s*$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...outsideCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...outsideCode.matchAll(/<(https?:\/\/[^>\s]+)>/g)].map((m) => m[1]!);
}
