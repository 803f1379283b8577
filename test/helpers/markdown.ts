import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, as a path. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where this repository's files are published; links of this form are checked against the local tree. */
export const REPO_URL = 'https://github.com/gmail-transport/gmail-transport';

/** The documentation the link checker walks: the two READMEs, the changelog and every page of docs/. */
export function docFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', 'README.ja.md', 'CHANGELOG.md', ...walk('docs').sort()];
}

export function readDoc(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

export interface CodeBlock {
  lang: string;
  body: string;
  /** The nearest heading above the block. */
  heading: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export interface ParsedMarkdown {
  /** Headings outside code blocks, in order, with their level and GitHub's anchor. */
  headings: { level: number; text: string; slug: string }[];
  /** Ids of `<a id="…">` and `<a name="…">` anchors. */
  anchorIds: string[];
  blocks: CodeBlock[];
  /** Link targets outside code: inline links and images, autolinks, reference definitions. */
  links: string[];
}

/** GitHub's heading anchors: markup dropped, lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function slugger(): (text: string) => string {
  const seen = new Map<string, number>();
  return (text) => {
    const base = text
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  };
}

/** Splits a page into headings, anchors, fenced code blocks (fences may be indented) and links. */
export function parseMarkdown(markdown: string): ParsedMarkdown {
  const result: ParsedMarkdown = { headings: [], anchorIds: [], blocks: [], links: [] };
  const slug = slugger();
  let fence: { marker: string; indent: number; lang: string; line: number; lines: string[] } | undefined;
  let heading = '';
  for (const [index, line] of markdown.split('\n').entries()) {
    const fenceMatch = /^( *)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[2]?.startsWith(fence.marker) && fenceMatch[3] === '') {
        result.blocks.push({ lang: fence.lang, body: fence.lines.join('\n'), heading, line: fence.line });
        fence = undefined;
      } else {
        fence.lines.push(line.slice(fence.indent));
      }
      continue;
    }
    if (fenceMatch?.[2]) {
      fence = { marker: fenceMatch[2], indent: fenceMatch[1]?.length ?? 0, lang: fenceMatch[3] ?? '', line: index + 1, lines: [] };
      continue;
    }
    const text = line.replace(/(`+)[\s\S]*?\1/g, '');
    for (const anchor of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) if (anchor[1]) result.anchorIds.push(anchor[1]);
    const headingMatch = /^(#{1,6}) (.+?)#*\s*$/.exec(line);
    if (headingMatch?.[1] && headingMatch[2]) {
      heading = headingMatch[2].trim();
      result.headings.push({ level: headingMatch[1].length, text: heading, slug: slug(heading) });
    }
    for (const link of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) if (link[1]) result.links.push(link[1]);
    for (const link of text.matchAll(/<((?:https?:\/\/|mailto:)[^>\s]+)>/g)) if (link[1]) result.links.push(link[1]);
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition?.[1]) result.links.push(definition[1]);
  }
  return result;
}

/** Every anchor a link may point at in a page: its headings and its `<a id>` anchors. */
export function anchorsOf(markdown: string): Set<string> {
  const parsed = parseMarkdown(markdown);
  return new Set([...parsed.headings.map((h) => h.slug), ...parsed.anchorIds]);
}

/**
 * Where a link leads in this repository: a path relative to the root and an anchor, or
 * `undefined` for a link elsewhere (another site, mail). Links to this repository's
 * blob/main or tree/main pages count as local.
 */
export function localTarget(fromFile: string, link: string): { path: string; anchor: string | undefined; absolute: boolean } | undefined {
  const [rawPath = '', anchor] = link.split('#', 2) as [string, string | undefined];
  if (link.startsWith(`${REPO_URL}/blob/main/`) || link.startsWith(`${REPO_URL}/tree/main/`)) {
    return { path: decodeURIComponent(rawPath.slice(`${REPO_URL}/blob/main/`.length)).replace(/\/$/, ''), anchor, absolute: true };
  }
  if (rawPath === REPO_URL || rawPath === `${REPO_URL}/`) return { path: 'README.md', anchor, absolute: true };
  if (/^[a-z][a-z+.-]*:/i.test(link)) return undefined;
  if (rawPath === '') return { path: fromFile, anchor, absolute: false };
  const base = fromFile.includes('/') ? fromFile.slice(0, fromFile.lastIndexOf('/')) : '';
  const joined = relative(REPO_ROOT, join(REPO_ROOT, base, decodeURIComponent(rawPath)));
  return { path: joined.split('\\').join('/'), anchor, absolute: false };
}

/** The fenced code blocks of a Markdown text, in order. */
export function fencedBlocks(markdown: string): CodeBlock[] {
  return parseMarkdown(markdown).blocks;
}

/** Link targets of a Markdown text, outside code. */
export function linkTargets(markdown: string): string[] {
  return parseMarkdown(markdown).links;
}
