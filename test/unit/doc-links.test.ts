import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

import test from 'ava';

/**
 * Every relative link of the user-facing pages points at a file that exists and, for a
 * `#anchor`, at a heading of that page: the pages link each other's sections, and a moved or
 * renamed section leaves a dead link otherwise. Anchors follow GitHub's slugs. No database.
 */

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const pages = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`),
].filter((path) => path.endsWith('.md') && existsSync(new URL(path, root)));

/** The text outside fenced code blocks and inline code, where links and headings are. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/``[^`\n]+``|`[^`\n]+`/g, (code) => code.replace(/[[\]()#]/g, ' '));
}

/** GitHub's anchor for a heading's text: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\*\*|__|\*/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page: one per heading, a repeated one suffixed -1, -2, ... as GitHub does. */
function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const text = read(page).replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

test('slugs follow GitHub', (t) => {
  t.is(slug('Retention and policies (for DBAs)'), 'retention-and-policies-for-dbas');
  t.is(slug('Try it locally (no Docker)'), 'try-it-locally-no-docker');
  t.is(slug('Stream ingestion (Kinesis), 2026-11-28'), 'stream-ingestion-kinesis-2026-11-28');
  t.is(slug('The `archive` field: what, how'), 'the-archive-field-what-how');
  t.is(slug('Past one machine: a TimescaleDB server'), 'past-one-machine-a-timescaledb-server');
});

test('every relative link of README.md, CONTRIBUTING.md, SECURITY.md and docs/ reaches a file and heading', (t) => {
  t.true(pages.length > 5, 'the pages are found');
  const broken: string[] = [];
  let links = 0;
  for (const page of pages) {
    for (const [, target] of prose(read(page)).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto: and the like
      links++;
      const [file, anchor] = target!.split('#', 2) as [string, string | undefined];
      const path = file === '' ? page : normalize(join(dirname(page), decodeURIComponent(file)));
      if (path.startsWith('..') || !existsSync(new URL(path, root))) {
        broken.push(`${page}: ${target} (no file ${path})`);
      } else if (anchor !== undefined && path.endsWith('.md') && !anchors(path).has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${path})`);
      }
    }
  }
  t.true(links > 20, 'the link pattern still finds the links');
  t.deepEqual(broken, []);
});
