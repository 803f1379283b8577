import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { anchorsOf, docFiles, localTarget, parseMarkdown, readDoc, REPO_ROOT, REPO_URL } from '../helpers/markdown.js';

const files = docFiles();

/** Every broken link of one page, as `link: why`. */
function brokenLinks(file: string, markdown: string = readDoc(file)): string[] {
  const broken: string[] = [];
  for (const link of parseMarkdown(markdown).links) {
    const target = localTarget(file, link);
    if (!target) continue;
    if (link.startsWith('#')) {
      if (!anchorsOf(markdown).has(target.anchor ?? '')) broken.push(`${link}: no heading or anchor "${link}" on this page`);
      continue;
    }
    const full = join(REPO_ROOT, target.path);
    if (target.path.startsWith('..') || !existsSync(full)) {
      broken.push(`${link}: ${target.path} does not exist${target.absolute ? ' in this repository' : ''}`);
      continue;
    }
    if (target.anchor === undefined) continue;
    if (!statSync(full).isFile() || !target.path.endsWith('.md')) {
      broken.push(`${link}: an anchor into a file that is not a Markdown page`);
      continue;
    }
    if (!anchorsOf(readFileSync(full, 'utf8')).has(target.anchor)) broken.push(`${link}: ${target.path} has no heading or anchor "#${target.anchor}"`);
  }
  return broken;
}

/** The pages a page links to, directly. */
function linkedPages(file: string): string[] {
  return parseMarkdown(readDoc(file))
    .links.map((link) => localTarget(file, link))
    .filter((target) => target !== undefined && target.path.endsWith('.md'))
    .map((target) => target!.path);
}

describe('links in the docs', () => {
  it('walks the READMEs, the changelog and every page under docs/', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'README.ja.md', 'CHANGELOG.md', 'docs/bridge.md', 'docs/ja/bridge.md']));
    expect(files.length).toBeGreaterThan(15);
  });

  it.each(files.map((file) => [file]))(
    '%s: every relative link resolves to a file, every #anchor to a heading, every link to this repository to a file here',
    (file) => {
      expect(brokenLinks(file)).toEqual([]);
    },
  );

  it('checks what it says: a missing file, a missing anchor and a missing repository file are reported; code is not', () => {
    const page = [
      '[a](missing.md) [b](../README.md#no-such-heading) [c](../README.md)',
      `[d](${REPO_URL}/blob/main/docs/no-such-guide.md) [e](${REPO_URL}/blob/main/README.md) [f](https://example.com/x)`,
      '[g](#here) `[h](in-code.md)`',
      '',
      '## Here',
      '',
      '```md',
      '[i](in-a-block.md)',
      '```',
    ].join('\n');
    expect(brokenLinks('docs/guide.md', page)).toEqual([
      'missing.md: docs/missing.md does not exist',
      '../README.md#no-such-heading: README.md has no heading or anchor "#no-such-heading"',
      `${REPO_URL}/blob/main/docs/no-such-guide.md: docs/no-such-guide.md does not exist in this repository`,
    ]);
  });

  it('leaves no page of docs/ unreachable: README.md leads to every guide, README.ja.md to every Japanese page', () => {
    const reach = (start: string) => {
      const seen = new Set<string>([start]);
      const queue = [start];
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        for (const next of linkedPages(file)) {
          if (!seen.has(next) && existsSync(join(REPO_ROOT, next))) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      return seen;
    };
    const fromReadme = reach('README.md');
    expect(files.filter((file) => file.startsWith('docs/') && !fromReadme.has(file))).toEqual([]);
    const japanese = new Set(linkedPages('README.ja.md'));
    expect(files.filter((file) => file.startsWith('docs/ja/') && !japanese.has(file))).toEqual([]);
  });

  it("the systemd unit's Documentation= points at a guide that exists", () => {
    const unit = readFileSync(join(REPO_ROOT, 'examples/systemd/gmail-transport-bridge.service'), 'utf8');
    const url = /^Documentation=(\S+)$/m.exec(unit)?.[1] ?? '';
    const target = localTarget('examples/systemd/gmail-transport-bridge.service', url);
    expect(target?.absolute, url).toBe(true);
    expect(existsSync(join(REPO_ROOT, target!.path)), url).toBe(true);
    if (target!.anchor) expect(anchorsOf(readDoc(target!.path)).has(target!.anchor)).toBe(true);
  });
});

describe('the service files the bridge guide installs', () => {
  const bin = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['gmail-transport'] ?? '';

  it('the systemd unit runs the command npm installs, with the config systemd hands it', () => {
    const unit = readFileSync(join(REPO_ROOT, 'examples/systemd/gmail-transport-bridge.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=gmail-transport serve --config %d\/bridge\.json$/m);
    expect(unit).toMatch(/^LoadCredential=bridge\.json:/m);
  });

  it("the WinSW file starts node with the package's bin from the folder the guide installs it in, and stops it with Ctrl+C", () => {
    const xml = readFileSync(join(REPO_ROOT, 'examples/windows/gmail-transport-bridge.xml'), 'utf8');
    const windowsBin = bin.replace(/^\.\//, '').split('/').join('\\');
    expect(windowsBin).toBe('dist\\cli.js');
    expect(/<executable>([^<]+)<\/executable>/.exec(xml)?.[1]).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(/<arguments>([^<]+)<\/arguments>/.exec(xml)?.[1]).toBe(
      `"%BASE%\\node_modules\\gmail-transport\\${windowsBin}" serve --config "%BASE%\\bridge.json"`,
    );
    expect(xml).toMatch(/<stoptimeout>\d+ sec<\/stoptimeout>/);
    expect(xml).toMatch(/<onfailure action="restart"/);
    const guide = readDoc('docs/bridge.md');
    expect(guide).toContain('examples/windows/gmail-transport-bridge.xml');
    expect(guide).toContain('gmail-transport-bridge.exe install');
  });
});
