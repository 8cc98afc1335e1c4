import test from 'ava';

import { loadConfig } from '../../src/config/config.js';

test('ALERT_EVALUATION_INTERVAL_S: 60 seconds by default, whole seconds from 5 to a day', (t) => {
  t.is(loadConfig({}).alerts.evaluationIntervalMs, 60_000);
  t.is(loadConfig({ ALERT_EVALUATION_INTERVAL_S: '' }).alerts.evaluationIntervalMs, 60_000);
  t.is(loadConfig({ ALERT_EVALUATION_INTERVAL_S: '15' }).alerts.evaluationIntervalMs, 15_000);
  for (const value of ['0', '4', '1.5', 'soon', '86401']) {
    t.throws(
      () => loadConfig({ ALERT_EVALUATION_INTERVAL_S: value }),
      { message: /ALERT_EVALUATION_INTERVAL_S/ },
      value,
    );
  }
});
