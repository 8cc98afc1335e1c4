import { readdirSync, readFileSync } from 'node:fs';

import test from 'ava';

/**
 * Every configuration variable src/config/ reads and every metric src/ registers is
 * documented (README.md or docs/), named in backquotes. Read from the source text, so a new
 * key or metric cannot be added without its line in the docs.
 */

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const docs = ['README.md', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)]
  .filter((path) => path.endsWith('.md'))
  .map(read)
  .join('\n');
const documented = (name: string) => docs.includes('`' + name) && new RegExp('`' + name + '[`{]').test(docs);

const sources = (dir: string): string[] =>
  readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(`${dir}${f}`));

test('every environment variable src/config/ reads is documented', (t) => {
  const keys = new Set(
    sources('src/config/').flatMap((text) => [...text.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!)),
  );
  t.true(keys.size > 20, 'the key pattern still finds the keys');
  t.deepEqual(
    [...keys].filter((key) => !documented(key)),
    [],
  );
});

test('every metric src/ registers is documented', (t) => {
  const names = new Set(
    sources('src/').flatMap((text) => [...text.matchAll(/name: '(ev_[a-z_]+)'/g)].map((m) => m[1]!)),
  );
  t.true(names.size > 10, 'the metric pattern still finds the metrics');
  t.deepEqual(
    [...names].filter((name) => !documented(name)),
    [],
  );
});
