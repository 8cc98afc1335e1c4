import test from 'ava';

import { createLogger } from '../../src/logger.js';
import { LIVE_READING_AGE_MS, selectBatch, type QueuedRequest } from '../../src/telemetry/batch-selection.js';
import { batchSlices, hourRuns } from '../../src/telemetry/batch-writer.js';
import { IngestQueue, type BatchWriter } from '../../src/telemetry/ingest-queue.js';
import type { MeterReading, ReadingsByKind } from '../../src/telemetry/reading.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/time.js';

/** Unit tier: the queue and batch selection with a fake writer, no database. */
const silent = createLogger('silent');
const now = Date.now();
const meter = (id: string, ageMs: number, kwh = 1): MeterReading => ({
  meterId: id,
  kwhConsumedAc: kwh,
  kwhConsumedAcTotal: null,
  voltage: 230,
  timestamp: new Date(now - ageMs),
});
const options = { flushReadings: 100, flushIntervalMs: 1, maxQueuedReadings: 1000 };

/** A writer that records each batch and reports as skipped the readings it already saw. */
function fakeWriter(delayMs = 0) {
  const batches: ReadingsByKind[] = [];
  const seen = new Set<string>();
  let release: (() => void) | undefined;
  const gate = { hold: false };
  const write: BatchWriter = async (batch) => {
    batches.push(batch);
    if (gate.hold) await new Promise<void>((done) => (release = done));
    if (delayMs) await new Promise((done) => setTimeout(done, delayMs));
    const skipped: ReadingsByKind<number> = { meter: [], vehicle: [] };
    batch.meter.forEach((r, i) => {
      const key = `${r.meterId}|${r.timestamp.getTime()}`;
      if (seen.has(key)) skipped.meter.push(i);
      seen.add(key);
    });
    return skipped;
  };
  return { write, batches, gate, release: () => release?.() };
}

test('each request gets its own counts; duplicates inside a batch and against stored rows count as duplicates', async (t) => {
  const writer = fakeWriter();
  const queue = new IngestQueue(writer.write, options, silent);
  const first = await queue.submit('meter', [meter('a', MINUTE_MS), meter('a', 2 * MINUTE_MS)]);
  t.deepEqual(first, { accepted: 2, duplicates: 0 });
  const [again, overlapping] = await Promise.all([
    queue.submit('meter', [meter('a', MINUTE_MS)]),
    queue.submit('meter', [meter('b', MINUTE_MS), meter('b', MINUTE_MS)]),
  ]);
  t.deepEqual(again, { accepted: 0, duplicates: 1 });
  t.deepEqual(overlapping, { accepted: 1, duplicates: 1 });
});

test('a failed write refuses every request of the batch with 503; the queue keeps working', async (t) => {
  let fail = true;
  const queue = new IngestQueue(
    () => {
      if (fail) return Promise.reject(Object.assign(new Error('gone'), { code: 'ECONNRESET' }));
      return Promise.resolve({ meter: [], vehicle: [] });
    },
    options,
    silent,
  );
  const error = await t.throwsAsync(queue.submit('meter', [meter('a', MINUTE_MS)]));
  t.like(error, { status: 503, code: 'database_unavailable' });
  fail = false;
  t.deepEqual(await queue.submit('meter', [meter('a', MINUTE_MS)]), { accepted: 1, duplicates: 0 });
});

test('live and late readings never share a batch; late requests join only when their hours touch', async (t) => {
  const writer = fakeWriter();
  writer.gate.hold = true;
  const queue = new IngestQueue(writer.write, options, silent);
  const blocker = queue.submit('meter', [meter('x', MINUTE_MS)]);
  await new Promise((done) => setTimeout(done, 10)); // the first batch is being written
  writer.gate.hold = false;
  const submitted = [
    queue.submit('meter', [meter('live-1', MINUTE_MS)]),
    queue.submit('meter', [meter('late-20d', 20 * DAY_MS)]),
    queue.submit('meter', [meter('late-90m', 90 * MINUTE_MS + LIVE_READING_AGE_MS)]),
    queue.submit('meter', [meter('live-2', 10 * MINUTE_MS)]),
    queue.submit('meter', [meter('late-20d-b', 20 * DAY_MS - 30 * MINUTE_MS)]),
  ];
  writer.release();
  await Promise.all([blocker, ...submitted]);
  const devices = writer.batches.slice(1).map((b) => b.meter.map((r) => r.meterId).sort());
  // After a live batch a late one: the 20-day-old ones together (their hours touch), then
  // the live ones together, then the 3.5-hour-old one alone, never with the 20-day-old ones.
  t.deepEqual(devices, [['late-20d', 'late-20d-b'], ['live-1', 'live-2'], ['late-90m']]);
});

test('batch selection alternates live and late batches, so neither waits behind the other', (t) => {
  const request = (live: boolean, hour: number): QueuedRequest => ({
    stream: 'meter',
    readings: [meter('d', 0)],
    live,
    hours: { first: hour, last: hour },
  });
  const pending = [request(false, 10), request(true, 500), request(false, 11), request(false, 400), request(true, 501)];
  t.deepEqual(selectBatch(pending, 100, false), [1, 4]);
  t.deepEqual(selectBatch(pending, 100, true), [0, 2]);
  t.deepEqual(selectBatch([request(false, 10)], 100, false), [0], 'late alone: no live to prefer');
  // Size: whole requests, at least one, at most maxReadings.
  const big = { ...request(true, 500), readings: Array.from({ length: 80 }, () => meter('d', 0)) };
  t.deepEqual(selectBatch([big, big, request(true, 500)], 100, false), [0]);
});

test('late readings may fill only half the queue: live readings always find room', async (t) => {
  const writer = fakeWriter();
  writer.gate.hold = true;
  const queue = new IngestQueue(writer.write, { ...options, maxQueuedReadings: 10 }, silent);
  const late = (n: number, hour: number) =>
    queue.submit(
      'meter',
      Array.from({ length: n }, (_, i) => meter(`late-${hour}-${i}`, (hour + 5) * HOUR_MS)),
    );
  const inFlight = late(3, 1);
  await new Promise((done) => setTimeout(done, 10));
  const queued = late(5, 2); // 5 late readings waiting: half of 10, still fits
  const refused = await t.throwsAsync(late(1, 3));
  t.like(refused, { status: 503, code: 'overloaded' });
  const live = queue.submit('meter', [meter('live', MINUTE_MS)]);
  writer.release();
  writer.gate.hold = false;
  await Promise.all([inFlight, queued, live]);
  t.pass();
});

test('drain writes everything accepted, then refuses new requests with 503 shutting_down', async (t) => {
  const writer = fakeWriter(5);
  const queue = new IngestQueue(writer.write, options, silent);
  const accepted = Array.from({ length: 5 }, (_, i) => queue.submit('meter', [meter(`d-${i}`, MINUTE_MS)]));
  await queue.drain();
  for (const result of await Promise.all(accepted)) t.deepEqual(result, { accepted: 1, duplicates: 0 });
  t.like(await t.throwsAsync(queue.submit('meter', [meter('late', MINUTE_MS)])), {
    status: 503,
    code: 'shutting_down',
  });
  t.is(queue.depth, 0);
});

test('a batch is written per run of touching hours: one request of a 20-day-old and a 90-minute-old reading is two runs', (t) => {
  const at = (hoursAgo: number, minute = 0) => ({ timestamp: new Date(Date.UTC(2026, 10, 28, 12 - hoursAgo, minute)) });
  // Oldest first, by hour: 481 and 480 hours ago touch; 1.5 hours ago and now touch.
  t.deepEqual(hourRuns([at(0), at(480), at(1, 30), at(481), at(0, 59)]), [
    [3, 1],
    [2, 0, 4],
  ]);
  t.deepEqual(hourRuns([]), []);
  t.deepEqual(hourRuns([at(2), at(4)]), [[1], [0]], 'a gap of one hour splits');
});

test('a sparse late backlog is written slice by slice: a live reading waits for one slice, not for the backlog', async (t) => {
  const calls: string[] = [];
  let releaseFirst: () => void = () => undefined;
  const firstHeld = new Promise<void>((done) => (releaseFirst = done));
  let firstStarted: () => void = () => undefined;
  const started = new Promise<void>((done) => (firstStarted = done));
  const write: BatchWriter = async (batch) => {
    calls.push(batch.meter.map((r) => r.meterId).join(','));
    if (calls.length === 1) {
      firstStarted();
      await firstHeld;
    }
    // The second slice of the backlog: the live reading must already be answered.
    return { meter: batch.meter.flatMap((r, i) => (r.meterId === 'dup' ? [i] : [])), vehicle: [] };
  };
  const queue = new IngestQueue(write, options, silent);
  const answered: string[] = [];
  // Three separate hours, 10, 20 and 30 hours old; one of them already stored.
  const backlog = queue
    .submit('meter', [meter('h10', 10 * HOUR_MS), meter('h20', 20 * HOUR_MS), meter('dup', 30 * HOUR_MS)])
    .then((result) => {
      answered.push('backlog');
      return result;
    });
  await started;
  const live = queue.submit('meter', [meter('live', MINUTE_MS)]).then((result) => {
    answered.push('live');
    return result;
  });
  releaseFirst();
  t.deepEqual(await live, { accepted: 1, duplicates: 0 });
  t.deepEqual(answered, ['live'], 'the live reading is answered while the backlog is still being written');
  t.deepEqual(await backlog, { accepted: 2, duplicates: 1 });
  t.deepEqual(calls, ['dup', 'live', 'h20', 'h10'], 'oldest slice first, the live batch after it');
});

test('batch slices pair the i-th meter run with the i-th vehicle run, positions into the batch', (t) => {
  const m = (hoursAgo: number) => meter(`m${hoursAgo}`, hoursAgo * HOUR_MS);
  const slices = batchSlices({ meter: [m(3), m(10), m(2)], vehicle: [] });
  t.deepEqual(
    slices.map((s) => s.positions),
    [
      { meter: [1], vehicle: [] },
      { meter: [0, 2], vehicle: [] },
    ],
  );
  t.deepEqual(
    slices[1]!.rows.meter.map((r) => r.meterId),
    ['m3', 'm2'],
  );
});
