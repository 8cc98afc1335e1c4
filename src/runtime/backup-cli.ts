import { ConfigError, loadConfig } from '../config/config.js';
import { BackupError, backupDataDir, restoreDataDir } from '../embedded/data-dir-backup.js';
import { DataDirInUseError } from '../embedded/data-dir-lock.js';

const USAGE = `Usage: npm run backup -- <command> <folder>

Commands (docs/embedded.md):
  create <folder>    copy the embedded database in DATA_DIR to <folder> (a new folder)
  restore <folder>   copy the backup in <folder> into DATA_DIR (missing or empty)

DATA_DIR is ./data unless set. The embedded database must be stopped: while the service (or
another command) has the folder, both refuse, naming that process, and copy nothing.
With DATABASE_URL (a TimescaleDB server) back up with the server's tools (pg_dump) instead.

Exit codes: 0 done; 1 refused or failed (nothing was changed); 2 usage.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, folder, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (folder === undefined || rest.length > 0) throw new UsageError(`${command} takes one folder`);
  const config = loadConfig();
  if (config.database.url) {
    throw new UsageError('DATABASE_URL is set: this backs up the embedded database only; use pg_dump for a server');
  }
  const dataDir = config.database.dataDir;
  let report;
  if (command === 'create') report = await backupDataDir(dataDir, folder);
  else if (command === 'restore') report = await restoreDataDir(folder, dataDir);
  else throw new UsageError(`unknown command ${command}`);
  process.stdout.write(`${JSON.stringify({ command, ...report })}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof DataDirInUseError || error instanceof BackupError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
