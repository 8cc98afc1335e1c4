import test from 'ava';

import { usableSpans } from '../../src/aggregates/aggregate-freshness.js';
import { BUCKET_MS } from '../../src/aggregates/aggregate-levels.js';
import { planSegments, type Segment } from '../../src/analytics/window-plan.js';
import { MINUTE_MS, type Interval } from '../../src/time.js';
import { seededRandom } from '../../tools/simulator/random.js';

const base = Date.UTC(2026, 10, 27, 0, 0);
const at = (minutes: number) => base + minutes * MINUTE_MS;
const window = (from: number, to: number): Interval => ({ from: at(from), to: at(to) });
const show = (segments: Segment[]) =>
  segments.map((s) => `${s.source} ${(s.from.getTime() - base) / MINUTE_MS}-${(s.to.getTime() - base) / MINUTE_MS}`);
const everywhere = [{ from: -Infinity, to: Infinity }];
const all = { hourly: everywhere, quarter: everywhere };

test('whole hours from the hourly aggregate, whole quarters at the edges, minutes from raw', (t) => {
  t.deepEqual(show(planSegments(window(7, 290), all)), [
    'raw 7-15',
    'quarter 15-60',
    'hourly 60-240',
    'quarter 240-285',
    'raw 285-290',
  ]);
});

test('aligned windows read aggregates only; tiny windows read raw only', (t) => {
  t.deepEqual(show(planSegments(window(60, 180), all)), ['hourly 60-180']);
  t.deepEqual(show(planSegments(window(15, 45), all)), ['quarter 15-45']);
  t.deepEqual(show(planSegments(window(3, 14), all)), ['raw 3-14']);
  t.deepEqual(show(planSegments(window(50, 70), all)), ['raw 50-70']);
});

test('15-minute series skip the hourly level', (t) => {
  t.deepEqual(show(planSegments(window(7, 130), all, 'quarter')), ['raw 7-15', 'quarter 15-120', 'raw 120-130']);
});

test('no usable span: everything raw', (t) => {
  t.deepEqual(show(planSegments(window(7, 290), {})), ['raw 7-290']);
  t.deepEqual(show(planSegments(window(7, 290), { hourly: [], quarter: [] })), ['raw 7-290']);
});

test('gaps in the usable spans (unmaterialized or invalidated buckets) are read at the next level or raw', (t) => {
  // Hours usable except 120-180 (say a late reading at minute 130); quarters usable up to 225.
  const usable = {
    hourly: [
      { from: at(0), to: at(120) },
      { from: at(180), to: at(300) },
    ],
    quarter: [{ from: at(0), to: at(225) }],
  };
  t.deepEqual(show(planSegments(window(7, 290), usable)), [
    'raw 7-15',
    'quarter 15-60',
    'hourly 60-120',
    'quarter 120-180',
    'hourly 180-240',
    'raw 240-290',
  ]);
  // A usable span that does not hold a whole bucket is not used.
  t.deepEqual(show(planSegments(window(0, 120), { hourly: [{ from: at(10), to: at(100) }] })), ['raw 0-120']);
});

test('segments are disjoint, ascending, cover the window, and aggregate ones are whole buckets inside usable spans', (t) => {
  const rnd = seededRandom(7);
  const randomSpans = () => {
    const spans: Interval[] = [];
    let cursor = at(-120);
    while (cursor < at(5000)) {
      const from = cursor + Math.floor(rnd() * 400) * 7 * MINUTE_MS;
      const to = from + Math.floor(rnd() * 600) * 3 * MINUTE_MS;
      if (to > from) spans.push({ from, to });
      cursor = to + MINUTE_MS;
    }
    return spans;
  };
  for (let i = 0; i < 500; i += 1) {
    const from = base + Math.floor(rnd() * 5000) * 7_919;
    const to = from + 1 + Math.floor(rnd() * 3 * 24 * 60) * 60_013;
    const usable = { hourly: randomSpans(), quarter: randomSpans() };
    const coarsest = rnd() < 0.5 ? 'hourly' : 'quarter';
    const segments = planSegments({ from, to }, usable, coarsest);
    t.is(segments[0]!.from.getTime(), from);
    t.is(segments.at(-1)!.to.getTime(), to);
    for (const [k, s] of segments.entries()) {
      t.true(s.from < s.to);
      if (k > 0) t.is(s.from.getTime(), segments[k - 1]!.to.getTime());
      if (s.source === 'raw') continue;
      t.false(coarsest === 'quarter' && s.source === 'hourly');
      const bucket = BUCKET_MS[s.source];
      t.is(s.from.getTime() % bucket, 0);
      t.is(s.to.getTime() % bucket, 0);
      t.true(usable[s.source].some((span) => span.from <= s.from.getTime() && s.to.getTime() <= span.to));
    }
  }
});

test('usable spans: below watermark and threshold, outside invalidations, the aggregate alone below the raw history', (t) => {
  const state = {
    watermarkMs: at(300),
    thresholdMs: at(400),
    rawFromMs: at(60),
    aggregateFromMs: at(-1_000),
    stale: [
      { from: at(0), to: at(30) }, // dropped by retention: below the oldest raw chunk, ignored
      { from: at(50), to: at(70) }, // straddles the oldest chunk: invalid from minute 60
      { from: at(100), to: at(130) },
      { from: at(120), to: at(150) }, // overlapping entries (both logs)
      { from: at(280), to: at(500) },
    ],
  };
  const show = (spans: Interval[]) => spans.map((s) => `${(s.from - base) / MINUTE_MS}-${(s.to - base) / MINUTE_MS}`);
  t.deepEqual(show(usableSpans(state, window(-60, 600))), ['-60-60', '70-100', '150-280']);
  // Threshold below the watermark bounds it too; nothing materialized: nothing usable.
  t.deepEqual(show(usableSpans({ ...state, thresholdMs: at(200), stale: [] }, window(0, 600))), ['0-200']);
  t.deepEqual(show(usableSpans({ ...state, watermarkMs: -Infinity }, window(0, 600))), []);
  // No raw chunk at all: the aggregate is all there is, invalidations or not.
  t.deepEqual(show(usableSpans({ ...state, rawFromMs: null }, window(0, 600))), ['0-300']);
  // The aggregate's retention dropped its buckets before its oldest chunk: not usable there.
  t.deepEqual(show(usableSpans({ ...state, aggregateFromMs: at(80) }, window(-60, 600))), ['80-100', '150-280']);
  t.deepEqual(show(usableSpans({ ...state, aggregateFromMs: null }, window(-60, 600))), []);
});
