import test from 'ava';

import { planWindow, type Segment } from '../src/analytics/analytics-window.js';

const MINUTE = 60_000;
const base = Date.UTC(2026, 10, 27, 0, 0);
const at = (minutes: number) => new Date(base + minutes * MINUTE);
const show = (segments: Segment[]) =>
  segments.map((s) => `${s.source} ${(s.from.getTime() - base) / MINUTE}-${(s.to.getTime() - base) / MINUTE}`);

test('whole hours from the hourly aggregate, whole quarters at the edges, minutes from raw', (t) => {
  t.deepEqual(show(planWindow(at(7), at(290))), [
    'raw 7-15',
    'quarter 15-60',
    'hourly 60-240',
    'quarter 240-285',
    'raw 285-290',
  ]);
});

test('aligned windows read aggregates only; tiny windows read raw only', (t) => {
  t.deepEqual(show(planWindow(at(60), at(180))), ['hourly 60-180']);
  t.deepEqual(show(planWindow(at(15), at(45))), ['quarter 15-45']);
  t.deepEqual(show(planWindow(at(3), at(14))), ['raw 3-14']);
  t.deepEqual(show(planWindow(at(50), at(70))), ['raw 50-70']);
});

test('15-minute series skip the hourly level', (t) => {
  t.deepEqual(show(planWindow(at(7), at(130), 'quarter')), ['raw 7-15', 'quarter 15-120', 'raw 120-130']);
});

test('segments are disjoint, ordered, non-empty and cover the window exactly', (t) => {
  for (let i = 0; i < 500; i += 1) {
    const from = base + Math.floor(Math.random() * 5000) * 7_919;
    const to = from + 1 + Math.floor(Math.random() * 3 * 24 * 60) * 60_013;
    const segments = planWindow(new Date(from), new Date(to), Math.random() < 0.5 ? 'hourly' : 'quarter');
    t.is(segments[0]!.from.getTime(), from);
    t.is(segments.at(-1)!.to.getTime(), to);
    for (const [k, s] of segments.entries()) {
      t.true(s.from < s.to);
      if (k > 0) t.is(s.from.getTime(), segments[k - 1]!.to.getTime());
    }
  }
});

test('aggregates are used only below their watermark; above it the rows are read raw', (t) => {
  // Hours materialized until minute 180, quarter hours until minute 225.
  const materialized = {
    hourly: { from: -Infinity, until: base + 180 * MINUTE },
    quarter: { from: -Infinity, until: base + 225 * MINUTE },
  };
  t.deepEqual(show(planWindow(at(7), at(290), 'hourly', materialized)), [
    'raw 7-15',
    'quarter 15-60',
    'hourly 60-180',
    'quarter 180-225',
    'raw 225-290',
  ]);
  // Nothing materialized yet: everything raw (what a real-time aggregate would compute anyway).
  const nothing = { from: Infinity, until: -Infinity };
  t.deepEqual(show(planWindow(at(7), at(290), 'hourly', { hourly: nothing, quarter: nothing })), ['raw 7-290']);
  // A watermark inside a bucket only counts up to that bucket's start.
  const until100 = { from: -Infinity, until: base + 100 * MINUTE };
  t.deepEqual(show(planWindow(at(0), at(120), 'hourly', { hourly: until100, quarter: until100 })), [
    'hourly 0-60',
    'quarter 60-90',
    'raw 90-120',
  ]);
});

test('below the oldest materialized bucket (an aggregate created after the data) rows are read raw', (t) => {
  // Quarter hours materialized only from minute 120 on (created later), hours from the start.
  const materialized = {
    hourly: { from: -Infinity, until: Infinity },
    quarter: { from: base + 120 * MINUTE, until: Infinity },
  };
  t.deepEqual(show(planWindow(at(7), at(290), 'hourly', materialized)), [
    'raw 7-60',
    'hourly 60-240',
    'quarter 240-285',
    'raw 285-290',
  ]);
  t.deepEqual(show(planWindow(at(7), at(200), 'quarter', materialized)), [
    'raw 7-120',
    'quarter 120-195',
    'raw 195-200',
  ]);
});
