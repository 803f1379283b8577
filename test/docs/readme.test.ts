import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/index.js';
import { parseMarkdown, readDoc } from '../helpers/markdown.js';

// The READMEs are an overview for people; the detail lives in docs/ (one guide per topic), and
// test/docs/links.test.ts keeps every link between them working. README.ja.md is a short Japanese
// overview, not a translation of README.md section by section.

const english = readDoc('README.md');
const japanese = readDoc('README.ja.md');

describe('README.md and README.ja.md', () => {
  it('link to each other at the top', () => {
    const head = (markdown: string) => markdown.split('\n').slice(0, 5).join('\n');
    expect(head(english)).toContain('[日本語](README.ja.md)');
    expect(head(japanese)).toContain('[English](README.md)');
  });

  it.each([['npm install && npm run demo'], ['npm install && npm test']])('both show the one-line command `%s`', (command) => {
    expect(english).toContain(command);
    expect(japanese).toContain(command);
  });

  it('README.md stays an overview a person reads to the end (about 300 lines): move detail into a guide under docs/', () => {
    expect(english.split('\n').length).toBeLessThanOrEqual(320);
  });

  it('README.md has what the reader needs first: the strategy chooser, install, a quick start, verify, the bridge, the guides', () => {
    const headings = parseMarkdown(english)
      .headings.filter((h) => h.level === 2)
      .map((h) => h.text);
    for (const section of ['Which strategy do I need?', 'Install', 'Quick start', 'Printers and scanners: the SMTP bridge', 'Guides'])
      expect(headings).toContain(section);
    expect(headings.some((h) => h.includes('`verify`'))).toBe(true);
  });

  it('both quick starts are complete programs: they import what they use from gmail-transport', () => {
    for (const markdown of [english, japanese]) {
      const quickStart = parseMarkdown(markdown).blocks.find((block) => block.lang === 'ts' && block.body.includes('sendMail'));
      expect(quickStart?.body).toMatch(/^import \{ createGmailTransport, isGmailTransportError \} from 'gmail-transport';$/m);
      expect(quickStart?.body).toContain('createGmailTransport({');
    }
  });

  it("tells Japanese readers about `locale: 'ja'` before the first section, and leads them to the Japanese guides", () => {
    const preamble = japanese.slice(0, japanese.indexOf('\n## '));
    expect(preamble).toContain("locale: 'ja'");
    expect(japanese).toContain('/docs/ja/bridge.md');
    expect(japanese).toContain('/docs/ja/errors-reference.md');
  });
});

describe('docs/troubleshooting.md', () => {
  const troubleshooting = readDoc('docs/troubleshooting.md');

  it.each(ERROR_CODES.map((code) => [code]))('explains %s: what you see, why, and the fix', (code) => {
    const entry = new RegExp(`(?:^|\\n)## \`${code}\`\\n\\n- \\*\\*[^\\n]+\\n[\\s\\S]*?(?=\\n## |(?![\\s\\S]))`).exec(troubleshooting)?.[0] ?? '';
    expect(entry, `## \`${code}\` in docs/troubleshooting.md`).not.toBe('');
    expect(entry.match(/^- \*\*(You see|Why|Fix):\*\*/gm)?.length, `${code}: what you see, why, fix`).toBe(3);
  });
});

describe('the bridge’s install steps (issue 19)', () => {
  it.each([
    ['docs/bridge.md', '### Linux'],
    ['docs/ja/bridge.md', '### Linux'],
  ] as const)('%s: Debian users take Node from NodeSource (a supported version), not from the distribution', (page, heading) => {
    const markdown = readDoc(page);
    const start = markdown.indexOf(heading);
    const steps = markdown.slice(start, markdown.indexOf('\n## ', start + heading.length));
    expect(steps).toMatch(/Debian/);
    expect(steps).toMatch(/https:\/\/deb\.nodesource\.com\/setup_(2[2-9]|[3-9]\d)\.x/);
    expect(steps).toContain('https://github.com/nodesource/distributions');
    expect(steps).not.toMatch(/apt(-get)? install -y nodejs npm|or your distribution's packages|またはディストリビューションのパッケージから/);
  });
});
