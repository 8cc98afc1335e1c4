import { readdirSync, readFileSync } from 'node:fs';

import test from 'ava';

/**
 * Every configuration variable src/config/ reads is documented in docs/configuration.md, and
 * every metric src/ registers in docs/api.md (its metrics table), named in backquotes. Read
 * from the source text, so a new key or metric cannot be added without its line in the page
 * a user looks it up in.
 */

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
/** Whether `page` names `name` in backquotes, alone or with its labels (`ev_x{a, b}`). */
const documentedIn = (page: string) => {
  const text = read(page);
  return (name: string) => new RegExp('`' + name + '[`{]').test(text);
};

const sources = (dir: string): string[] =>
  readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(`${dir}${f}`));

test('every environment variable src/config/ reads is documented in docs/configuration.md', (t) => {
  const keys = new Set(
    sources('src/config/').flatMap((text) => [...text.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!)),
  );
  t.true(keys.size > 20, 'the key pattern still finds the keys');
  const documented = documentedIn('docs/configuration.md');
  t.deepEqual(
    [...keys].filter((key) => !documented(key)),
    [],
  );
});

test('every metric src/ registers is documented in docs/api.md', (t) => {
  const names = new Set(
    sources('src/').flatMap((text) => [...text.matchAll(/name: '(ev_[a-z_]+)'/g)].map((m) => m[1]!)),
  );
  t.true(names.size > 10, 'the metric pattern still finds the metrics');
  const documented = documentedIn('docs/api.md');
  t.deepEqual(
    [...names].filter((name) => !documented(name)),
    [],
  );
});
