import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkTargets } from '../helpers/markdown.js';

// Issue 19, item 8: the npm package has its LICENSE, and every link of its READMEs works on
// npm as on the repository: an absolute URL, or a file the package ships.

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string; repository: { url: string } };
const REPOSITORY = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** The files `npm pack` puts in the tarball, as npm itself lists them. */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(output) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
}

describe('the packed package (issue 19)', () => {
  const files = packedFiles();

  it('ships an MIT LICENSE, as package.json says', () => {
    expect(pkg.license).toBe('MIT');
    expect(files).toContain('LICENSE');
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
  });

  it.each(['README.md', 'README.ja.md'])('%s: every link is absolute, a shipped file, or an anchor of the page', (readme) => {
    expect(files).toContain(readme);
    const links = linkTargets(readFileSync(join(root, readme), 'utf8'));
    expect(links.length).toBeGreaterThan(10);
    const broken = links.filter((link) => {
      if (/^(https?:|mailto:)/.test(link) || link.startsWith('#')) return false;
      return !files.includes(link.split('#')[0]!);
    });
    expect(broken).toEqual([]);
  });

  it.each(['README.md', 'README.ja.md'])('%s: links into the repository point at files and folders that exist', (readme) => {
    const links = linkTargets(readFileSync(join(root, readme), 'utf8')).filter((link) => link.startsWith(`${REPOSITORY}/`));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      const match = /^\/(blob|tree)\/main\/([^#]+)/.exec(link.slice(REPOSITORY.length));
      expect(match, link).not.toBeNull();
      expect(existsSync(join(root, match![2]!)), link).toBe(true);
    }
  });
});
