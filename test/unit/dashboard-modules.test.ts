import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import test from 'ava';

import { DASHBOARD_MODULES } from '../../src/dashboard/dashboard.routes.js';

/*
 * The dashboard is plain ES modules served one by one, each declared in dashboard.routes.ts.
 * Without a browser (test/dashboard.test.ts needs Chromium) this still catches a module that is
 * not served, an import of something that is not one of them, and a module left unchecked.
 */

const PUBLIC = join(process.cwd(), 'src/dashboard/public');
const modules = readdirSync(PUBLIC).filter((name) => name.endsWith('.js'));
const source = (name: string) => readFileSync(join(PUBLIC, name), 'utf8');

test('every module of the dashboard is served, and only those', (t) => {
  t.deepEqual([...DASHBOARD_MODULES].sort(), modules.sort());
});

test('the modules import only each other, by relative path', (t) => {
  for (const name of modules) {
    const specifiers = [...source(name).matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
    for (const specifier of specifiers) {
      t.true(
        specifier.startsWith('./') && modules.includes(specifier.slice(2)),
        `${name} imports ${specifier}, which is not a served module`,
      );
    }
  }
});

test('every module is type-checked (// @ts-check) and index.html loads the entry as a module', (t) => {
  for (const name of modules) t.true(source(name).startsWith('// @ts-check\n'), `${name} starts with // @ts-check`);
  t.regex(
    readFileSync(join(PUBLIC, 'index.html'), 'utf8'),
    /<script type="module" src="\/dashboard\/app\.js"><\/script>/,
  );
});
