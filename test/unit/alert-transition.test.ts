import test from 'ava';

import { nextTransition, type OpenAlert } from '../../src/alerts/alert-transition.js';
import { parseIsoDuration } from '../../src/alerts/iso-duration.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/time.js';

const t0 = new Date('2026-11-27T00:00:00Z');
const after = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE_MS);
const FOR = 15 * MINUTE_MS;
const pending: OpenAlert = { state: 'pending', startedAt: t0 };
const firing: OpenAlert = { state: 'firing', startedAt: t0 };

test('no alert: a holding condition opens one (firing at once only when `for` is zero)', (t) => {
  t.deepEqual(nextTransition(null, false, t0, FOR), { action: 'none' });
  t.deepEqual(nextTransition(null, true, t0, FOR), { action: 'open', firing: false });
  t.deepEqual(nextTransition(null, true, t0, 0), { action: 'open', firing: true });
});

test('pending fires once the condition has held for `for`, not before', (t) => {
  t.deepEqual(nextTransition(pending, true, after(14), FOR), { action: 'keep' });
  t.deepEqual(nextTransition(pending, true, after(15), FOR), { action: 'fire' });
  t.deepEqual(nextTransition(pending, true, after(60), FOR), { action: 'fire' });
});

test('a pending alert that stops holding resolves silently; a firing one with an event', (t) => {
  t.deepEqual(nextTransition(pending, false, after(5), FOR), { action: 'resolve', notify: false });
  t.deepEqual(nextTransition(firing, false, after(30), FOR), { action: 'resolve', notify: true });
  t.deepEqual(nextTransition(firing, true, after(30), FOR), { action: 'keep' });
});

test('a flapping condition (holding and not, every few minutes) never fires: each episode starts `for` anew', (t) => {
  let open: OpenAlert | null = null;
  let fired = 0;
  for (let minute = 0; minute < 120; minute += 1) {
    const holds = minute % 10 < 7; // 7 minutes on, 3 off: never 15 in a row
    const step = nextTransition(open, holds, after(minute), FOR);
    if (step.action === 'open') open = { state: step.firing ? 'firing' : 'pending', startedAt: after(minute) };
    if (step.action === 'fire') fired += 1;
    if (step.action === 'resolve') open = null;
  }
  t.is(fired, 0);
});

test('ISO 8601 durations: fixed-length parts only, whole seconds', (t) => {
  t.is(parseIsoDuration('PT15M'), 15 * MINUTE_MS);
  t.is(parseIsoDuration('PT24H'), DAY_MS);
  t.is(parseIsoDuration('P1DT12H'), DAY_MS + 12 * HOUR_MS);
  t.is(parseIsoDuration('P2W'), 14 * DAY_MS);
  t.is(parseIsoDuration('PT0S'), 0);
  for (const text of ['P1M', 'P1Y', 'P1Y2M']) t.regex((parseIsoDuration(text) as { error: string }).error, /months/);
  for (const text of ['P', 'PT', '15M', 'PT1.5S', 'pt15m', 'PT15M ', 'P1H', '-PT1M', 'PT1M1H']) {
    t.regex((parseIsoDuration(text) as { error: string }).error ?? '', /ISO 8601/, text);
  }
});
