import { parseArgs } from 'node:util';

import { EXIT_CODES, runExitCode } from '../archive/archive-exit-codes.js';
import { csvHeader, csvLine, ndjsonLine, STREAM_FORMATS, STREAMS } from '../archive/archive-format.js';
import { ArchiveJob } from '../archive/archive-job.js';
import { queryArchive, restoreArchive } from '../archive/archive-restore.js';
import { S3ObjectStore } from '../archive/object-store.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import { DataDirInUseError } from '../embedded/data-dir-lock.js';
import { createLogger } from '../logger.js';
import type { ReadingKind } from '../telemetry/reading.js';
import { DAY_MS } from '../time.js';
import { openDatabase } from './database.js';

const USAGE = `Usage: npm run archive -- <command> [options]

Commands (docs/archive.md):
  run                                    archive every chunk older than the hot period now
  restore --from T --to T [--stream S] [--hold-days N]
                                         put the archived chunks overlapping [from, to) back
                                         (whole chunks, no duplicates); kept N days (default 7)
  query --from T --to T --stream S [--device ID] [--format ndjson|csv]
                                         print archived readings without restoring them

T: an ISO 8601 instant. S: meter or vehicle (restore: both by default).
The database is DATABASE_URL; unset, the embedded one in DATA_DIR, which serves one process:
stop the service first (while it runs, the command refuses, naming it). The bucket is
ARCHIVE_BUCKET with the AWS_* variables.

Exit codes: 0 done; 1 the command failed; 2 usage; run only: 3 some chunks failed (the others
were archived), 4 chunks failed and none was archived. The report is printed either way.`;

class UsageError extends Error {}

function instant(value: string | undefined, name: string): Date {
  const date = value === undefined ? undefined : new Date(value);
  if (!date || Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 instant`);
  return date;
}

function stream(value: string | undefined): ReadingKind | undefined {
  if (value === undefined) return undefined;
  if (!STREAMS.includes(value as ReadingKind)) throw new UsageError('--stream must be meter or vehicle');
  return value as ReadingKind;
}

async function withDatabase<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  // Failures reach the user as the command's error; the retries while waiting are not news.
  const database = await openDatabase(config, createLogger('silent'), {
    embedded: { dataDir: config.database.dataDir, port: 0 },
    // The embedded database gets one connection whatever this says. A server gets a second, so
    // the archive job's heartbeat renews its claim while a long statement (a chunk's summary) runs.
    pool: { max: 2, statementTimeoutMs: 60 * 60_000 },
    checkCatalog: true,
  });
  try {
    return await work(database.primary.maintenanceDb);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      stream: { type: 'string' },
      device: { type: 'string' },
      format: { type: 'string', default: 'ndjson' },
      'hold-days': { type: 'string', default: '7' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  if (!config.archive) throw new UsageError('ARCHIVE_BUCKET is not set');
  const store = new S3ObjectStore(config.archive);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    switch (command) {
      case 'run': {
        const report = await withDatabase(config, (db) =>
          new ArchiveJob(db, store, createLogger(config.logLevel), { prefix: config.archive!.prefix }).run(),
        );
        out(JSON.stringify(report));
        process.exitCode = runExitCode(report);
        return;
      }
      case 'restore': {
        const from = instant(values.from, 'from');
        const to = instant(values.to, 'to');
        const holdDays = Number(values['hold-days']);
        if (!(holdDays >= 0)) throw new UsageError('--hold-days must be a number of days');
        const streams = stream(values.stream) ? [stream(values.stream)!] : STREAMS;
        await withDatabase(config, async (db) => {
          for (const s of streams) {
            out(
              JSON.stringify({
                stream: s,
                ...(await restoreArchive(db, store, { stream: s, from, to }, holdDays * DAY_MS)),
              }),
            );
          }
        });
        return;
      }
      case 'query': {
        const s = stream(values.stream);
        if (!s) throw new UsageError('--stream is required');
        const range = {
          stream: s,
          from: instant(values.from, 'from'),
          to: instant(values.to, 'to'),
          device: values.device,
        };
        const csv = values.format === 'csv';
        if (!csv && values.format !== 'ndjson') throw new UsageError('--format must be ndjson or csv');
        await withDatabase(config, async (db) => {
          const format = STREAM_FORMATS[s];
          if (csv) out(csvHeader(format));
          for await (const rows of queryArchive(db, store, range)) {
            for (const row of rows) out(csv ? csvLine(row) : ndjsonLine(format, row));
          }
        });
        return;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    store.destroy();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(EXIT_CODES.usage);
  }
  if (error instanceof DataDirInUseError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CODES.error);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT_CODES.error);
});
