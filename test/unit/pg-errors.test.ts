import test from 'ava';

import {
  isDatabaseUnavailable,
  isExclusionViolation,
  isRecoveryConflict,
  isTransactionConflict,
} from '../../src/db/pg-errors.js';

const error = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('recovery conflicts are told apart from other failures by SQLSTATE and message', (t) => {
  const error = (code: string, message: string) => Object.assign(new Error(message), { code });
  t.true(isRecoveryConflict(error('40001', 'canceling statement due to conflict with recovery')));
  t.true(isRecoveryConflict(error('40001', 'terminating connection due to conflict with recovery')));
  t.true(isRecoveryConflict(error('40P01', 'canceling statement due to conflict with recovery')));
  t.true(isRecoveryConflict(error('57P04', 'terminating connection due to conflict with recovery')));
  t.false(isRecoveryConflict(error('40001', 'could not serialize access due to concurrent update')));
  t.false(isRecoveryConflict(error('23505', 'duplicate key')));
  t.false(isRecoveryConflict('40001'));
});

test('the server starting, stopping or crashing, lost connections and timeouts are "unavailable" (a 503)', (t) => {
  for (const code of [
    '57P01',
    '57P02',
    '57P03',
    '53300',
    '08006',
    '08003',
    '57014',
    '55P03',
    'QUERY_TIMEOUT',
    'ECONNREFUSED',
  ]) {
    t.true(isDatabaseUnavailable(error(code)), code);
  }
  for (const code of ['23505', '42P01', '40P01', 'XX000']) t.false(isDatabaseUnavailable(error(code)), code);
  t.false(isDatabaseUnavailable(undefined));
  t.false(isDatabaseUnavailable('57P03'));
});

test('deadlocks and serialization failures are retryable conflicts; 23P01 is an exclusion violation', (t) => {
  t.true(isTransactionConflict(error('40P01')));
  t.true(isTransactionConflict(error('40001')));
  t.false(isTransactionConflict(error('23P01')));
  t.true(isExclusionViolation(error('23P01')));
  t.false(isExclusionViolation(error('23505')));
});
