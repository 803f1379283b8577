import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, hintFor } from '../../src/index.js';

// README.ja.md is a full translation of README.md. These checks fail when README.md gains a
// section, a subsection, a table row or a code block that the Japanese README does not have yet:
// that is their purpose (translate the addition, then they pass again).

const english = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const japanese = readFileSync(new URL('../../README.ja.md', import.meta.url), 'utf8');
const KANA = /[\u3040-\u30ff]/;

interface CodeBlock {
  lang: string;
  body: string;
}

interface Section {
  heading: string;
  /** The `<!-- section:NAME -->` marker inside the section, if it has one. */
  marker: string | undefined;
  subheadings: number;
  tableRows: number;
  blocks: CodeBlock[];
  text: string;
}

interface ParsedReadme {
  /** Every heading outside code blocks, with its level. */
  headings: { level: number; text: string }[];
  /** The `## ` sections in order (the title and its preamble are not one). */
  sections: Section[];
  blocks: CodeBlock[];
  /** Ids of `<a id="…">` anchors. */
  anchorIds: string[];
}

/** Splits a README into headings, `## ` sections and fenced code blocks (fences may be indented). */
function parse(markdown: string): ParsedReadme {
  const result: ParsedReadme = { headings: [], sections: [], blocks: [], anchorIds: [] };
  let current: Section | undefined;
  let fence: { indent: number; lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    const fenceMatch = /^( *)```(\S*)\s*$/.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[2] === '') {
        const block = { lang: fence.lang, body: fence.lines.join('\n') };
        result.blocks.push(block);
        current?.blocks.push(block);
        fence = undefined;
      } else {
        fence.lines.push(line.slice(fence.indent));
      }
      continue;
    }
    if (fenceMatch) {
      fence = { indent: fenceMatch[1]?.length ?? 0, lang: fenceMatch[2] ?? '', lines: [] };
      continue;
    }
    for (const anchor of line.matchAll(/<a (?:id|name)="([^"]+)"><\/a>/g)) if (anchor[1]) result.anchorIds.push(anchor[1]);
    const heading = /^(#{1,6}) (.+)$/.exec(line);
    if (heading?.[1] && heading[2]) {
      result.headings.push({ level: heading[1].length, text: heading[2] });
      if (heading[1].length === 2) {
        current = { heading: heading[2], marker: undefined, subheadings: 0, tableRows: 0, blocks: [], text: '' };
        result.sections.push(current);
        continue;
      }
      if (current && heading[1].length > 2) current.subheadings += 1;
    }
    if (!current) continue;
    const marker = /^<!-- section:([\w-]+) -->$/.exec(line);
    if (marker && current.marker === undefined) current.marker = marker[1];
    if (line.trimStart().startsWith('|')) current.tableRows += 1;
    current.text += `${line}\n`;
  }
  return result;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function headingSlugs(headings: { text: string }[]): string[] {
  const seen = new Map<string, number>();
  return headings.map(({ text }) => {
    const base = text
      .replace(/<[^>]+>/g, '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  });
}

/** A TypeScript block without its `//` comments (outside string literals) and comment-only lines. */
function withoutComments(code: string): string {
  const lines = code.split('\n').map((line) => {
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const char = line[i];
      if (quote) {
        if (char === '\\') i++;
        else if (char === quote) quote = undefined;
      } else if (char === "'" || char === '"' || char === '`') {
        quote = char;
      } else if (char === '/' && line[i + 1] === '/') {
        return line.slice(0, i).trimEnd();
      }
    }
    return line.trimEnd();
  });
  return lines.filter((line) => line.trim() !== '').join('\n');
}

function markedSection(markdown: string, name: string): string {
  const match = new RegExp(`<!-- section:${name} -->([\\s\\S]*?)<!-- /section:${name} -->`).exec(markdown);
  return match?.[1] ?? '';
}

const en = parse(english);
const ja = parse(japanese);

describe('README.md and README.ja.md', () => {
  it('link to each other at the top', () => {
    const head = (markdown: string) => markdown.split('\n').slice(0, 5).join('\n');
    expect(head(english)).toContain('[日本語](README.ja.md)');
    expect(head(japanese)).toContain('[English](README.md)');
  });

  it('have the same `## ` sections in the same order (mapped by their section markers)', () => {
    const outline = (readme: ParsedReadme) => readme.sections.map((section, index) => section.marker ?? `#${index} (no marker)`);
    expect(ja.sections.length, 'number of ## sections').toBe(en.sections.length);
    expect(outline(ja)).toEqual(outline(en));
    const markers = (markdown: string) => [...markdown.matchAll(/<!-- (\/?)section:([\w-]+) -->/g)].map((m) => `${m[1]}${m[2]}`);
    expect(markers(japanese)).toEqual(markers(english));
  });

  it('translate every section: Japanese text, and as many subsections, table rows and code blocks', () => {
    en.sections.forEach((source, index) => {
      const translated = ja.sections[index];
      const label = `section ${index + 1} "${source.heading}" ↔ "${translated?.heading}"`;
      expect(translated, label).toBeDefined();
      if (!translated) return;
      // Prose must be Japanese; a section that is only a code block must have Japanese comments.
      const prose = translated.text.replace(/<[^>]+>/g, '').trim();
      const words = prose === '' ? translated.blocks.map((block) => block.body).join('\n') : prose;
      expect(words, `${label} is in Japanese`).toMatch(KANA);
      expect(translated.subheadings, `${label}: ### subsections`).toBe(source.subheadings);
      expect(translated.tableRows, `${label}: table rows`).toBe(source.tableRows);
      expect(
        translated.blocks.map((b) => b.lang),
        `${label}: code blocks`,
      ).toEqual(source.blocks.map((b) => b.lang));
    });
  });

  it('keep every ```ts block identical except for its comments', () => {
    const tsBlocks = (readme: ParsedReadme) => readme.blocks.filter((b) => b.lang === 'ts').map((b) => withoutComments(b.body));
    const source = tsBlocks(en);
    const translated = tsBlocks(ja);
    expect(translated.length).toBe(source.length);
    source.forEach((code, index) => expect(translated[index], `ts block ${index + 1}`).toBe(code));
  });

  it('keep json, text and console blocks byte for byte (they show files and program output)', () => {
    const literal = (readme: ParsedReadme) => readme.blocks.filter((b) => ['json', 'text', 'console', ''].includes(b.lang)).map((b) => b.body);
    expect(literal(ja)).toEqual(literal(en));
  });

  it.each([['npm install && npm run demo'], ['npm install && npm test']])('both show the one-line command `%s`', (command) => {
    expect(english).toContain(command);
    expect(japanese).toContain(command);
  });

  it.each(ERROR_CODES.map((code) => [code]))('both troubleshooting sections explain %s', (code) => {
    for (const markdown of [english, japanese]) {
      const section = markedSection(markdown, 'troubleshooting');
      const entry = new RegExp(`### \`${code}\`\\n\\n- \\*\\*[^\\n]+\\n[\\s\\S]*?(?=\\n### |$)`).exec(section)?.[0] ?? '';
      expect(entry, `### \`${code}\` in the troubleshooting section`).not.toBe('');
      expect(entry.match(/^- \*\*/gm)?.length, `${code}: what you see, why, fix`).toBe(3);
    }
  });

  it('the Japanese error table shows the hints `locale: \'ja\'` gives, code for code', () => {
    const section = markedSection(japanese, 'errors');
    for (const code of ERROR_CODES) {
      const row = section.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `row for ${code}`).toBeDefined();
      expect(row).toContain(` ${hintFor(code, 'ja').replace(/\|/g, '\\|')} |`);
    }
  });

  it('tell Japanese readers about `locale: \'ja\'` before the first section', () => {
    const preamble = japanese.slice(0, japanese.indexOf('\n## '));
    expect(preamble).toContain("locale: 'ja'");
  });

  it.each([
    ['README.md', english, en],
    ['README.ja.md', japanese, ja],
  ] as const)('%s: every in-page link points at a heading or anchor of the page', (_name, markdown, parsed) => {
    const targets = new Set([...headingSlugs(parsed.headings), ...parsed.anchorIds]);
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((link) => !targets.has(link ?? ''))).toEqual([]);
  });

  it('link into each other’s troubleshooting section at an anchor that exists', () => {
    expect(english).toContain('(README.ja.md#troubleshooting)');
    expect(japanese).toContain('(README.md#troubleshooting)');
    expect(headingSlugs(en.headings)).toContain('troubleshooting');
    expect(ja.anchorIds).toContain('troubleshooting');
  });
});

describe('the bridge’s install steps (issue 19)', () => {
  it.each([
    ['README.md', english, '### What to install'],
    ['README.ja.md', japanese, '### インストールするもの'],
  ] as const)('%s: Debian users take Node from NodeSource (a supported version), not from the distribution', (_name, markdown, heading) => {
    const start = markdown.indexOf(heading);
    const steps = markdown.slice(start, markdown.indexOf('\n### ', start + heading.length));
    expect(steps).toMatch(/Debian/);
    expect(steps).toContain('https://deb.nodesource.com/setup_22.x');
    expect(steps).toContain('https://github.com/nodesource/distributions');
    expect(steps).not.toMatch(/or your distribution's packages|またはディストリビューションのパッケージから/);
  });
});
