import test from 'ava';

import { EXIT_CODES, runExitCode } from '../../src/archive/archive-exit-codes.js';

const report = (archived: number, failed: number, held = 0, busy = 0) => ({
  archived,
  failed,
  held,
  busy,
  unconfigured: [],
});

test('archive run exit codes: failures are never 0; partly and wholly failed runs differ', (t) => {
  t.is(runExitCode(report(0, 0)), 0, 'nothing due');
  t.is(runExitCode(report(10, 0, 2, 1)), 0, 'held and busy chunks are not failures');
  t.is(runExitCode(report(9, 1)), EXIT_CODES.partlyFailed);
  t.is(runExitCode(report(0, 14)), EXIT_CODES.allFailed);
  t.is(runExitCode(report(0, 1, 0, 3)), EXIT_CODES.allFailed);
  t.deepEqual(new Set(Object.values(EXIT_CODES)).size, Object.keys(EXIT_CODES).length, 'distinct');
});
