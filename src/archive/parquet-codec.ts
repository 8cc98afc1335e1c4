import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type FileMetaData } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';

import { SCHEMA_VERSION, type ArchiveRow, type StreamFormat } from './archive-format.js';

/** Parquet's schema element type, as the writer takes it. */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const timestampMicros = (name: string): SchemaElement => ({
  name,
  type: 'INT64',
  repetition_type: 'REQUIRED',
  converted_type: 'TIMESTAMP_MICROS',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
});

/**
 * The Parquet schema of a stream: device id (UTF-8), ts (INT64 microseconds, UTC), each value
 * column as DOUBLE (the column type of the table: no rounding) and received_at like ts. Every
 * column is REQUIRED, as NOT NULL in the table.
 */
function schemaOf(format: StreamFormat): SchemaElement[] {
  return [
    { name: 'root', num_children: 3 + format.valueColumns.length },
    { name: format.deviceColumn, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    timestampMicros('ts'),
    ...format.valueColumns.map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' })),
    timestampMicros('received_at'),
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
    schema: schemaOf(format),
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
      ],
    });
  }
  await writer.finish();
}

/** Keeps microsecond timestamps as they are (the default parser would round them to a Date). */
const parsers = { timestampFromMicroseconds: (micros: bigint) => micros };

/**
 * Reads an archived chunk back, one row group at a time (bounded memory). Checks the schema
 * version and the columns' names first, and every value's type on the way.
 */
export async function* readParquetFile(filename: string, format: StreamFormat): AsyncGenerator<ArchiveRow[]> {
  const file = await asyncBufferFromFile(filename);
  const metadata = await parquetMetadataAsync(file, { parsers });
  checkLayout(metadata, format);
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
    yield rows.map((row) => toArchiveRow(row, format));
    rowStart = rowEnd;
  }
}

function checkLayout(metadata: FileMetaData, format: StreamFormat): void {
  const version = metadata.key_value_metadata?.find((kv) => kv.key === 'ev.archive.schema_version')?.value;
  if (version !== String(SCHEMA_VERSION))
    throw new Error(`archive schema version ${version}, expected ${SCHEMA_VERSION}`);
  const names = metadata.schema.slice(1).map((element) => element.name);
  const expected = schemaOf(format)
    .slice(1)
    .map((element) => element.name);
  if (names.join(',') !== expected.join(','))
    throw new Error(`archive columns ${names.join(',')}, expected ${expected.join(',')}`);
}

function toArchiveRow(row: unknown[], format: StreamFormat): ArchiveRow {
  const [device, ts, ...rest] = row;
  const receivedAt = rest[format.valueColumns.length];
  const values = rest.slice(0, format.valueColumns.length);
  if (typeof device !== 'string' || typeof ts !== 'bigint' || typeof receivedAt !== 'bigint') {
    throw new Error('archive row with unexpected types');
  }
  if (!values.every((value): value is number => typeof value === 'number'))
    throw new Error('archive value not a double');
  return { device, tsUs: Number(ts), values, receivedAtUs: Number(receivedAt) };
}
