import { existsSync } from 'node:fs';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import { LOCK_NAME, lockDataDir } from './data-dir-lock.js';

/**
 * Backup and restore of an embedded data folder (docs/embedded.md): a copy of the whole folder,
 * taken while no process has it open. PGlite is PostgreSQL working directly on these files
 * with no server to ask for a consistent snapshot (pg_dump needs a session, and the running
 * service holds the only one; a copy of files being written is not a database), so both
 * take the folder's lock first: while the service runs they refuse, naming it, and nothing is
 * copied. A folder whose process stopped, cleanly or not, is what PostgreSQL itself would
 * start on, so its copy is too.
 */
export class BackupError extends Error {}

export interface BackupReport {
  from: string;
  to: string;
  files: number;
  bytes: number;
}

/** The lock socket and its takeover guard belong to the folder's running process, never to a copy. */
const isLockFile = (path: string) => {
  const name = basename(path);
  return name === LOCK_NAME || name === `${LOCK_NAME}.takeover`;
};

const isDatabase = (dir: string) => existsSync(join(dir, 'PG_VERSION'));

/** Copies the embedded database in `dataDir` to the new folder `target` (which must not exist). */
export async function backupDataDir(dataDir: string, target: string): Promise<BackupReport> {
  if (!isDatabase(dataDir)) throw new BackupError(`${dataDir} holds no embedded database (no PG_VERSION)`);
  if (existsSync(target)) throw new BackupError(`${target} already exists: a backup goes to a new folder`);
  const lock = await lockDataDir(dataDir);
  try {
    if (resolve(target).startsWith(`${lock.owner.dataDir}/`)) {
      throw new BackupError(`${target} is inside the data folder: choose a folder outside it`);
    }
    await cp(lock.owner.dataDir, target, {
      recursive: true,
      errorOnExist: true,
      force: false,
      preserveTimestamps: true,
      filter: (source) => !isLockFile(source),
    });
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw error;
  } finally {
    await lock.release();
  }
  return { from: dataDir, to: target, ...(await sizeOf(target)) };
}

/**
 * Puts the backup in `backup` into `dataDir`, which must be missing or empty: a restore never
 * replaces a database (move the old folder aside first). A copy that fails half-way is removed.
 */
export async function restoreDataDir(backup: string, dataDir: string): Promise<BackupReport> {
  if (!isDatabase(backup)) throw new BackupError(`${backup} is not a backup of an embedded database (no PG_VERSION)`);
  const lock = await lockDataDir(dataDir);
  const dir = lock.owner.dataDir;
  try {
    const present = (await readdir(dir)).filter((name) => !isLockFile(name));
    if (present.length > 0) {
      throw new BackupError(
        `${dataDir} is not empty (${present.slice(0, 3).join(', ')}, ...): restore into a new folder`,
      );
    }
    try {
      await cp(backup, dir, {
        recursive: true,
        force: false,
        errorOnExist: true,
        preserveTimestamps: true,
        filter: (source) => !isLockFile(source),
      });
    } catch (error) {
      for (const name of await readdir(dir)) {
        if (!isLockFile(name)) await rm(join(dir, name), { recursive: true, force: true });
      }
      throw error;
    }
  } finally {
    await lock.release();
  }
  return { from: backup, to: dataDir, ...(await sizeOf(dataDir)) };
}

async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || isLockFile(entry.name)) continue;
    files += 1;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}
