import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README and docs/*.md name source files as their reference ("the transcripts are
 * `libs/crypto/src/ceremony-transcripts.ts`"); files move, and a stale path sends a reader nowhere
 * (issue 8 §5: docs point only at files inside the repository). This checks every such path exists.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository's top-level directories (libs, apps, test, migrations, ...): a cited path starts with one. */
const TOP_DIRS = new Set(
  readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && e.name !== 'dist')
    .map((e) => e.name),
);

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Citation {
  doc: string;
  line: number;
  path: string;
}

/**
 * Paths a document cites in backticks or as a link target that look like repository files: relative,
 * with a slash, under a top-level directory, no placeholder or glob (`<id>`, `*`, `{a,b}`), and a file
 * extension unless they end in `/` (a directory). A `:12` line suffix and a `#anchor` are dropped.
 */
function citations(doc: string): Citation[] {
  const found: Citation[] = [];
  readFileSync(join(ROOT, doc), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/`([^`\s]+)`|\]\(([^)\s]+)\)/g)) {
        const link = m[2] !== undefined;
        let path = (m[1] ?? m[2]!).replace(/#.*$/, '').replace(/:\d+(?:-\d+)?$/, '');
        if (/^[a-z][a-z0-9+.-]*:/i.test(path) || /[<>*{}$]/.test(path) || !path.includes('/')) continue;
        // A link is relative to the document; a path in backticks to the repository's root.
        if (link) path = join(dirname(doc), path);
        path = path.replace(/^\.\//, '');
        if (!TOP_DIRS.has(path.split('/')[0]!)) continue;
        if (!path.endsWith('/') && !/\.[A-Za-z0-9]+$/.test(path.split('/').pop()!)) continue;
        found.push({ doc, line: i + 1, path });
      }
    });
  return found;
}

const exists = (path: string): boolean => {
  const full = join(ROOT, path);
  return existsSync(full) && (!path.endsWith('/') || statSync(full).isDirectory());
};

describe('docs cite only files that exist', () => {
  const all = DOCS.flatMap(citations);

  it('finds the citations (the check is not vacuous)', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all).toContainEqual(expect.objectContaining({ doc: 'docs/protocol.md', path: 'libs/crypto/src/ceremony-transcripts.ts' }));
  });

  it('every path the README and docs/*.md cite is in the repository', () => {
    const stale = all.filter((c) => !exists(c.path)).map((c) => `${c.doc}:${c.line}: ${c.path}`);
    expect(stale).toEqual([]);
  });
});
