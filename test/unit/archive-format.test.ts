import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';

import {
  csvHeader,
  csvLine,
  ndjsonLine,
  objectKey,
  STREAM_FORMATS,
  usToIso,
  type ArchiveRow,
} from '../../src/archive/archive-format.js';
import { compareSummaries, SummaryBuilder, type ChunkSummary } from '../../src/archive/chunk-summary.js';
import { readParquetFile, writeParquetFile } from '../../src/archive/parquet-codec.js';

test('object keys are fixed per chunk, Hive-style', (t) => {
  const start = new Date('2026-09-01T00:00:00Z');
  t.is(objectKey('archive', 'meter', start, 42), 'archive/v2/stream=meter/date=2026-09-01/chunk-42.parquet');
  t.is(objectKey('tenant/a/', 'vehicle', start, 7), 'tenant/a/v2/stream=vehicle/date=2026-09-01/chunk-7.parquet');
  t.is(objectKey('', 'meter', start, 1), 'v2/stream=meter/date=2026-09-01/chunk-1.parquet');
});

test('microsecond instants keep their six decimals', (t) => {
  t.is(usToIso(1_788_307_200_123_456), '2026-09-02T00:00:00.123456Z');
  t.is(usToIso(1_788_307_200_000_001), '2026-09-02T00:00:00.000001Z');
});

const interval = { kwhRegister: null, registerEvent: null };
const rows: ArchiveRow[] = [
  { device: 'a', tsUs: 1_000, values: [0.1, 230], receivedAtUs: 1_500, kwhRegister: '1000.20', registerEvent: 'first' },
  { device: 'a', tsUs: 2_000, values: [0.2, 231], receivedAtUs: 2_500, kwhRegister: '1000.40', registerEvent: null },
  { device: 'a', tsUs: 3_000, values: [0, 231], receivedAtUs: 3_500, ...interval },
  { device: 'b', tsUs: 1_000, values: [0.3, 229], receivedAtUs: 1_700, ...interval },
];
const summarize = (list: ArchiveRow[]) => {
  const builder = new SummaryBuilder();
  for (const row of list) builder.add(row);
  return builder.finish();
};
const replace = (index: number, change: Partial<ArchiveRow>) =>
  rows.map((row, i) => (i === index ? { ...row, ...change } : row));

test('summaries: equal rows compare equal; any changed value, time, or extra row is named', (t) => {
  const base = summarize(rows);
  t.like(base, { rows: 4, minUs: 1_000, maxUs: 3_000 });
  t.is(base.devices.a!.sums[0], 0.1 + 0.2 + 0);
  t.deepEqual(compareSummaries(base, summarize(rows.map((r) => ({ ...r })))), []);
  t.is(compareSummaries(base, summarize(replace(1, { values: [0.2000000000000001, 231] }))).length, 1);
  t.is(compareSummaries(base, summarize(replace(2, { tsUs: 3_001 }))).length, 2);
  t.regex(compareSummaries(base, summarize(rows.slice(0, 3)))[0]!, /row count/);
  t.throws(() => summarize([rows[1]!, rows[0]!]), { message: /out of order/ });
  t.throws(() => summarize([rows[0]!, rows[3]!, rows[1]!]), { message: /out of order/ });
});

test('summaries: registers and events are counted and digested; any change to them is named', (t) => {
  const base = summarize(rows);
  t.like(base.devices.a, { registers: 2, events: { first: 1, reset: 0, jump: 0 } });
  t.regex(base.devices.a!.registerDigest!, /^[0-9a-f]{64}$/);
  t.like(base.devices.b, { registers: 0, events: { first: 0, reset: 0, jump: 0 }, registerDigest: null });
  for (const changed of [
    replace(1, { kwhRegister: '1000.4' }), // the same number, another scale
    replace(1, { kwhRegister: '1000.41' }),
    replace(1, { kwhRegister: null }),
    replace(2, { kwhRegister: '1000.40' }),
    replace(0, { registerEvent: 'reset' }),
    replace(0, { registerEvent: null }),
    // The registers swapped between two readings: count and events unchanged, the digest not.
    replace(0, { kwhRegister: '1000.40' }).map((row, i) => (i === 1 ? { ...row, kwhRegister: '1000.20' } : row)),
  ]) {
    t.is(compareSummaries(base, summarize(changed)).length, 1, JSON.stringify(changed));
  }
});

test('summaries recorded before registers were archived (version 1) read as having none', (t) => {
  const withoutRegisters = rows.map((row) => ({ ...row, ...interval }));
  const current = summarize(withoutRegisters);
  // What a version 1 manifest holds: no register figures at all.
  const v1: ChunkSummary = JSON.parse(
    JSON.stringify(current, (key, value: unknown) =>
      ['registers', 'events', 'registerDigest'].includes(key) ? undefined : value,
    ),
  ) as ChunkSummary;
  t.false('registers' in v1.devices.a!);
  t.deepEqual(compareSummaries(v1, current), []);
  t.is(compareSummaries(v1, summarize(rows)).length, 1);
});

const format = STREAM_FORMATS.meter;
const info = {
  stream: 'meter',
  hypertable: format.hypertable,
  chunkId: 1,
  rangeStart: new Date(0),
  rangeEnd: new Date(86_400_000),
};

async function* batches(...list: ArchiveRow[][]): AsyncGenerator<ArchiveRow[]> {
  for (const batch of list) yield await Promise.resolve(batch);
}

async function readAll(file: string): Promise<ArchiveRow[]> {
  const read: ArchiveRow[] = [];
  for await (const batch of readParquetFile(file, format)) read.push(...batch);
  return read;
}

test('Parquet: registers keep their text exactly, nulls stay null (also in a row group of only nulls)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-format-'));
  try {
    const file = join(dir, 'chunk.parquet');
    const exact: ArchiveRow = {
      device: 'c',
      tsUs: 1_000,
      values: [0, 230],
      receivedAtUs: 1_001,
      // More digits than a double holds, and a trailing zero that is part of the NUMERIC's text.
      kwhRegister: '999999999.123456789012345670',
      registerEvent: 'jump',
    };
    await writeParquetFile(file, format, info, batches(rows, [rows[3]!], [exact]));
    t.deepEqual(await readAll(file), [...rows, rows[3]!, exact]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Parquet: a version 1 object (no register columns) reads with null registers; others are refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'archive-format-'));
  const timestamp = (name: string) =>
    ({
      name,
      type: 'INT64',
      repetition_type: 'REQUIRED',
      converted_type: 'TIMESTAMP_MICROS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    }) as const;
  const writeV1 = async (file: string, version: string) => {
    // The layout version 1 wrote (before register readings), as it wrote it.
    const writer = new ParquetWriter({
      writer: fileWriter(file),
      schema: [
        { name: 'root', num_children: 5 },
        { name: 'meter_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        timestamp('ts'),
        { name: 'kwh_consumed_ac', type: 'DOUBLE', repetition_type: 'REQUIRED' },
        { name: 'voltage', type: 'DOUBLE', repetition_type: 'REQUIRED' },
        timestamp('received_at'),
      ],
      kvMetadata: [{ key: 'ev.archive.schema_version', value: version }],
    });
    await writer.write({
      columnData: [
        { name: 'meter_id', data: ['a'] },
        { name: 'ts', data: [1_000n] },
        { name: 'kwh_consumed_ac', data: Float64Array.of(0.1) },
        { name: 'voltage', data: Float64Array.of(230) },
        { name: 'received_at', data: [1_500n] },
      ],
    });
    await writer.finish();
  };
  try {
    await writeV1(join(dir, 'v1.parquet'), '1');
    t.deepEqual(await readAll(join(dir, 'v1.parquet')), [
      { device: 'a', tsUs: 1_000, values: [0.1, 230], receivedAtUs: 1_500, ...interval },
    ]);
    // Version 2 must have the register columns; an unknown version is not guessed at.
    await writeV1(join(dir, 'v2.parquet'), '2');
    await t.throwsAsync(readAll(join(dir, 'v2.parquet')), { message: /archive columns/ });
    await writeV1(join(dir, 'v3.parquet'), '3');
    await t.throwsAsync(readAll(join(dir, 'v3.parquet')), { message: /schema version 3/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('query output: registers as exact text (a JSON string), events; interval readings null or empty', (t) => {
  t.is(csvHeader(format), 'meter_id,ts,kwh_consumed_ac,voltage,received_at,kwh_register,register_event');
  t.is(csvLine(rows[0]!), '"a",1970-01-01T00:00:00.001000Z,0.1,230,1970-01-01T00:00:00.001500Z,1000.20,first');
  t.is(csvLine(rows[3]!), '"b",1970-01-01T00:00:00.001000Z,0.3,229,1970-01-01T00:00:00.001700Z,,');
  t.deepEqual(JSON.parse(ndjsonLine(format, rows[1]!)), {
    meter_id: 'a',
    ts: '1970-01-01T00:00:00.002000Z',
    kwh_consumed_ac: 0.2,
    voltage: 231,
    received_at: '1970-01-01T00:00:00.002500Z',
    kwh_register: '1000.40',
    register_event: null,
  });
  t.like(JSON.parse(ndjsonLine(format, rows[3]!)), { kwh_register: null, register_event: null });
});
