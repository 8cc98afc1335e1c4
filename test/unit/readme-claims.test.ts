import { existsSync, readdirSync, readFileSync } from 'node:fs';

import test from 'ava';

/**
 * What the README and docs/ say about the tree and how to use it stays true: the files they
 * name exist (a moved file leaves a stale pointer otherwise), and the examples a new user
 * copies work on a fresh database. No database: only the text is read.
 */

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const pages = [
  'README.md',
  'SECURITY.md',
  'CONTRIBUTING.md',
  ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`),
].filter((path) => path.endsWith('.md') && existsSync(new URL(path, root)));

/** Files that no longer exist, named as history (a benchmark's past design). */
const HISTORY = new Set(['docs/benchmarks.md: src/analytics/watermarks.ts']);

test('every file or folder of the tree that README.md and docs/ name in backquotes exists', (t) => {
  const missing: string[] = [];
  for (const page of pages) {
    for (const [, path] of read(page).matchAll(/`((?:src|test|migrations|bench|docs)\/[^`\s]*)`/g)) {
      // Patterns (`latest*.json`, `<timestamp>_….sql`, `[-quick]`) name families, not files.
      if (/[*<>[\]…]/.test(path!)) continue;
      const claim = `${page}: ${path}`;
      if (!HISTORY.has(claim) && !existsSync(new URL(path!, root))) missing.push(claim);
    }
  }
  t.deepEqual(missing, []);
});

/** The pages whose examples a new user copies: the README's tour and the reference it links. */
const EXAMPLES = ['README.md', 'docs/api.md', 'docs/streams.md', 'docs/retention.md', 'CONTRIBUTING.md'];

test("the README's and the reference's examples work on a fresh database and use today's Docker command", (t) => {
  for (const page of EXAMPLES) {
    const text = read(page);
    // Assignment ids are the database's: an example takes it from a response, never a literal.
    t.deepEqual(
      [...text.matchAll(/\/v1\/assignments\/\d+/g)].map((m) => m[0]),
      [],
      page,
    );
    // `docker compose` (Compose v2); the file is still docker-compose.yml.
    t.deepEqual(
      [...text.matchAll(/docker-compose(?!\.yml)/g)].map((m) => m.index),
      [],
      page,
    );
  }
});
