import { createHash, randomBytes } from 'node:crypto';

import test, { type ImplementationFn } from 'ava';
import postgres from 'postgres';

import { listMigrationNames, migrate } from '../../src/db/migrate.js';
import { startEmbeddedDb } from '../../src/embedded/embedded-db.js';

/**
 * Where the tests' databases live. Unset (CI, these machines): each service starts its own
 * embedded TimescaleDB, in memory. `TEST_DATABASE_URL=postgres://user:pass@host:5432/db npm test`:
 * every test file gets its own database on that server, created from a migrated template and
 * dropped when the file is done (the role needs CREATEDB; the official image's user is a
 * superuser). The server's background workers run its policies there, as in production; the
 * service's own job scheduler stays off. See docs/production.md, "The suite against a server".
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const serverUnderTest = TEST_DATABASE_URL !== undefined;

/**
 * A test that only makes sense on the embedded database (it kills or freezes the database
 * process, or needs the embedded server's single session): against a server it is skipped,
 * with the reason in its title.
 */
export function embeddedOnly(reason: string, { serial = false } = {}) {
  return (title: string, implementation: ImplementationFn<[]>) => {
    if (serverUnderTest) test.skip(`${title} [embedded only: ${reason}]`, implementation);
    else if (serial) test.serial(title, implementation);
    else test(title, implementation);
  };
}

const urlOf = (database: string) => {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${database}`;
  return url.toString();
};

/** One connection to the database TEST_DATABASE_URL names, for CREATE / DROP DATABASE. */
const admin = () => postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => undefined });

/** Serializes template builds and copies across the test files running in parallel. */
const TEMPLATE_LOCK = 1_764_201_614;

/**
 * The migrated template, named after the migrations it holds: a new migration builds a new
 * one, and concurrent test files wait for the first to build it. Built under another name and
 * renamed when complete, so a run cut short never leaves a half-migrated template. It accepts
 * no connections: CREATE DATABASE ... TEMPLATE needs none on it, and TimescaleDB's launcher
 * starts no scheduler in a database that does not allow connections.
 */
async function ensureTemplate(sql: postgres.Sql): Promise<string> {
  const names = await listMigrationNames();
  const template = `ev_test_template_${createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 12)}`;
  const exists = await sql`SELECT 1 FROM pg_database WHERE datname = ${template}`;
  if (exists.length > 0) return template;
  const building = `${template}_building`;
  await sql.unsafe(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
  await sql.unsafe(`CREATE DATABASE ${building}`);
  await migrate({ databaseUrl: urlOf(building) });
  await sql.unsafe(`ALTER DATABASE ${building} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`);
  // A scheduler the launcher started while migrations ran still holds a session there.
  await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${building}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await sql.unsafe(`ALTER DATABASE ${building} RENAME TO ${template}`);
      return template;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((done) => setTimeout(done, 250));
    }
  }
}

/** Databases this file created from the template on the server, dropped when the file is done. */
const created: string[] = [];

async function databaseFromTemplate(): Promise<string> {
  const sql = admin();
  try {
    await sql`SELECT pg_advisory_lock(${TEMPLATE_LOCK})`;
    const template = await ensureTemplate(sql);
    const name = `ev_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await sql.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    created.push(name);
    return urlOf(name);
  } finally {
    await sql.end();
  }
}

let fileDatabase: Promise<string> | undefined;

/** This test file's database on the server (created on first use, from the template). */
export function fileDatabaseUrl(): Promise<string> {
  fileDatabase ??= databaseFromTemplate();
  return fileDatabase;
}

/**
 * Another migrated database on the server, for a test whose data would collide with the file's
 * other tests (the same device ids); dropped with the file's. Embedded: undefined (each service
 * has its own database in memory anyway).
 */
export async function separateDatabaseEnv(): Promise<Record<string, string>> {
  return serverUnderTest ? { DATABASE_URL: await databaseFromTemplate() } : {};
}

/**
 * Where a spawned service (tools/harness/service-process.ts) keeps its data: this file's database
 * on the server, or an embedded database in `dataDir`.
 */
export async function databaseEnv(dataDir: string): Promise<Record<string, string>> {
  return serverUnderTest ? { DATABASE_URL: await fileDatabaseUrl() } : { DATA_DIR: dataDir };
}

/** An empty database (no migrations), for the migration tests; `drop` removes it. */
export async function emptyDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!serverUnderTest) {
    const embedded = await startEmbeddedDb({ dataDir: undefined, host: '127.0.0.1', port: 0 });
    return { url: embedded.url, drop: () => embedded.stop() };
  }
  const name = `ev_test_${process.pid}_${randomBytes(4).toString('hex')}_empty`;
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  return { url: urlOf(name), drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  const sql = admin();
  try {
    // FORCE: the server's background workers (and any session a test left) hold connections.
    await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

const beforeDrop: (() => Promise<void>)[] = [];

/** Work to finish before this file's database is dropped (test-service.ts stops its services). */
export function onBeforeDrop(work: () => Promise<void>): void {
  beforeDrop.push(work);
}

// Registered on import, so every file that uses a server database drops it when it is done,
// after the services still running on it are stopped (whatever order the file's own hooks run in).
test.after.always('drop the test database on the server', async () => {
  if (created.length === 0) return;
  await Promise.allSettled(beforeDrop.map((work) => work()));
  await Promise.all(created.map((name) => dropDatabase(name)));
});
