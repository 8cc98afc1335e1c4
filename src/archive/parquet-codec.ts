import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type FileMetaData } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';

import {
  READABLE_SCHEMA_VERSIONS,
  registerEventOf,
  registerTextOf,
  SCHEMA_VERSION,
  type ArchiveRow,
  type StreamFormat,
} from './archive-format.js';

/** Parquet's schema element type, as the writer takes it. */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const timestampMicros = (name: string): SchemaElement => ({
  name,
  type: 'INT64',
  repetition_type: 'REQUIRED',
  converted_type: 'TIMESTAMP_MICROS',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
});

const optionalUtf8 = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'OPTIONAL',
});

/**
 * The Parquet schema of a stream at a layout version (archive-format.ts): device id (UTF-8), ts
 * (INT64 microseconds, UTC), each value column as DOUBLE (the column type of the table: no
 * rounding) and received_at like ts, all REQUIRED as NOT NULL in the table; from version 2
 * kwh_register and register_event, OPTIONAL (null for an interval reading), both UTF-8.
 *
 * kwh_register is the NUMERIC's text, not a DECIMAL: a Parquet DECIMAL has one scale for the
 * whole column while an unconstrained NUMERIC keeps each value's own ('1000.40' and '7.5' in one
 * chunk), and hyparquet reads a DECIMAL back as a JavaScript number (unscaled value times
 * 10^-scale in a double), so neither the scale nor every register's digits would survive. The
 * text round-trips byte for byte through both libraries and back into NUMERIC; any reader casts
 * it (Python's `Decimal`, a DuckDB DECIMAL of enough scale).
 */
function schemaOf(format: StreamFormat, version: number): SchemaElement[] {
  const registers = version >= 2 ? [optionalUtf8('kwh_register'), optionalUtf8('register_event')] : [];
  return [
    { name: 'root', num_children: 3 + format.valueColumns.length + registers.length },
    { name: format.deviceColumn, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    timestampMicros('ts'),
    ...format.valueColumns.map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' })),
    timestampMicros('received_at'),
    ...registers,
  ];
}

export interface FileInfo {
  stream: string;
  hypertable: string;
  chunkId: number;
  rangeStart: Date;
  rangeEnd: Date;
}

/**
 * Writes batches of rows (already in device, time order) to a Parquet file, one row group per
 * batch, so a chunk of any size streams through a bounded amount of memory. The key-value
 * metadata names the schema version and the chunk, for anyone who finds the file alone.
 */
export async function writeParquetFile(
  filename: string,
  format: StreamFormat,
  info: FileInfo,
  batches: AsyncIterable<ArchiveRow[]>,
): Promise<void> {
  const writer = new ParquetWriter({
    writer: fileWriter(filename),
    schema: schemaOf(format, SCHEMA_VERSION),
    codec: 'SNAPPY',
    createdBy: 'ev-telemetry archive',
    kvMetadata: [
      { key: 'ev.archive.schema_version', value: String(SCHEMA_VERSION) },
      { key: 'ev.archive.stream', value: info.stream },
      { key: 'ev.archive.hypertable', value: info.hypertable },
      { key: 'ev.archive.chunk_id', value: String(info.chunkId) },
      { key: 'ev.archive.range_start', value: info.rangeStart.toISOString() },
      { key: 'ev.archive.range_end', value: info.rangeEnd.toISOString() },
    ],
  });
  for await (const rows of batches) {
    if (rows.length === 0) continue;
    await writer.write({
      rowGroupSize: rows.length,
      columnData: [
        { name: format.deviceColumn, data: rows.map((r) => r.device) },
        { name: 'ts', data: rows.map((r) => BigInt(r.tsUs)) },
        ...format.valueColumns.map((name, i) => ({ name, data: Float64Array.from(rows, (r) => r.values[i]!) })),
        { name: 'received_at', data: rows.map((r) => BigInt(r.receivedAtUs)) },
        // Nulls in an OPTIONAL column are written as undefined definition levels, read back as null.
        { name: 'kwh_register', data: rows.map((r) => r.kwhRegister) },
        { name: 'register_event', data: rows.map((r) => r.registerEvent) },
      ],
    });
  }
  await writer.finish();
}

/** Keeps microsecond timestamps as they are (the default parser would round them to a Date). */
const parsers = { timestampFromMicroseconds: (micros: bigint) => micros };

/**
 * Reads an archived chunk back, one row group at a time (bounded memory), at any readable
 * layout version (a version 1 object's rows have no registers). Checks the schema version and
 * the columns' names first, and every value's type on the way.
 */
export async function* readParquetFile(filename: string, format: StreamFormat): AsyncGenerator<ArchiveRow[]> {
  const file = await asyncBufferFromFile(filename);
  const metadata = await parquetMetadataAsync(file, { parsers });
  const version = checkLayout(metadata, format);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: unknown[][] = [];
    await parquetRead({
      file,
      metadata,
      parsers,
      rowStart,
      rowEnd,
      onComplete: (read: unknown[][]) => {
        rows = read;
      },
    });
    yield rows.map((row) => toArchiveRow(row, format, version));
    rowStart = rowEnd;
  }
}

/** The file's layout version, if readable and its columns are that version's. */
function checkLayout(metadata: FileMetaData, format: StreamFormat): number {
  const text = metadata.key_value_metadata?.find((kv) => kv.key === 'ev.archive.schema_version')?.value;
  const version = READABLE_SCHEMA_VERSIONS.find((readable) => String(readable) === text);
  if (version === undefined)
    throw new Error(`archive schema version ${text}, expected one of ${READABLE_SCHEMA_VERSIONS.join(', ')}`);
  const names = metadata.schema.slice(1).map((element) => element.name);
  const expected = schemaOf(format, version)
    .slice(1)
    .map((element) => element.name);
  if (names.join(',') !== expected.join(','))
    throw new Error(`archive columns ${names.join(',')}, expected ${expected.join(',')}`);
  return version;
}

function toArchiveRow(row: unknown[], format: StreamFormat, version: number): ArchiveRow {
  const [device, ts, ...rest] = row;
  const values = rest.slice(0, format.valueColumns.length);
  const [receivedAt, kwhRegister, registerEvent] = rest.slice(format.valueColumns.length);
  if (typeof device !== 'string' || typeof ts !== 'bigint' || typeof receivedAt !== 'bigint') {
    throw new Error('archive row with unexpected types');
  }
  if (!values.every((value): value is number => typeof value === 'number'))
    throw new Error('archive value not a double');
  return {
    device,
    tsUs: Number(ts),
    values,
    receivedAtUs: Number(receivedAt),
    // Version 1 has neither column: undefined here, read as null.
    kwhRegister: version >= 2 ? registerTextOf(kwhRegister) : null,
    registerEvent: version >= 2 ? registerEventOf(registerEvent) : null,
  };
}
