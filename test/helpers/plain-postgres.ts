import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import postgres from 'postgres';

import { freePort } from '../../tools/net/free-port.js';

/**
 * Debian's plain PostgreSQL (no TimescaleDB), started for one test file: a primary and, when
 * asked, a hot standby made with pg_basebackup. What the embedded database cannot show runs
 * here, in CI too: real backends that can be frozen (SIGSTOP) and resumed, sessions that can be
 * terminated, a server that can be stopped and started, streaming replication. Skipped where
 * no PostgreSQL binaries are installed (`pg_config` missing), with that reason.
 */
const binDir = (() => {
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
const asRoot = process.getuid?.() === 0;

export const plainPostgresAvailable = binDir !== undefined && (!asRoot || spawnSync('id', ['postgres']).status === 0);
export const plainPostgresSkipReason = plainPostgresAvailable
  ? ''
  : ' [skipped: no PostgreSQL binaries (pg_config) on this machine]';

const run = (command: string, args: string[]) =>
  asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(binDir!, command), ...args], { stdio: 'pipe' })
    : execFileSync(join(binDir!, command), args, { stdio: 'pipe' });

export interface PlainNode {
  port: number;
  url: string;
  /** pg_ctl start (waits until it accepts connections). */
  start(): void;
  /** pg_ctl stop in the given mode (immediate: a crash, as far as clients can tell). */
  stop(mode?: 'fast' | 'immediate'): void;
  /** SIGSTOP or SIGCONT to every process of the node whose session matches `application` (all backends if omitted). */
  signalBackends(signal: 'SIGSTOP' | 'SIGCONT', application?: string): Promise<number[]>;
  /** SIGSTOP / SIGCONT to the postmaster and every child process: the whole server hangs. */
  signalServer(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** pg_terminate_backend for every session of `application`. */
  terminate(application: string): Promise<number>;
}

export interface PlainCluster {
  primary: PlainNode;
  standby: PlainNode | undefined;
  /** Stops both nodes and removes their directory. */
  destroy(): void;
}

export async function startPlainCluster({ standby = false } = {}): Promise<PlainCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ev-plain-pg-'));
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const primaryPort = await freePort();
  const primaryDir = join(dir, 'primary');
  run('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  appendFileSync(
    join(primaryDir, 'postgresql.conf'),
    `port = ${primaryPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\n`,
  );
  const primary = node(dir, 'primary', primaryPort);
  primary.start();
  let replica: PlainNode | undefined;
  if (standby) {
    const replicaPort = await freePort();
    const replicaDir = join(dir, 'replica');
    run('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
      '--checkpoint=fast',
    ]);
    // Replay waits for no query: a conflicting read is cancelled at once.
    appendFileSync(join(replicaDir, 'postgresql.conf'), `port = ${replicaPort}\nmax_standby_streaming_delay = 0\n`);
    replica = node(dir, 'replica', replicaPort);
    replica.start();
  }
  return {
    primary,
    standby: replica,
    destroy() {
      for (const n of [replica, primary]) {
        try {
          n?.signalServer('SIGCONT');
          n?.stop('immediate');
        } catch {
          // not running
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function node(dir: string, name: string, port: number): PlainNode {
  const dataDir = join(dir, name);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = () => postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const postmasterPid = () =>
    Number(
      execFileSync('head', ['-1', join(dataDir, 'postmaster.pid')])
        .toString()
        .trim(),
    );
  return {
    port,
    url,
    start: () => run('pg_ctl', ['-D', dataDir, '-l', join(dir, `${name}.log`), '-w', 'start']),
    stop: (mode = 'fast') => run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']),
    async signalBackends(signal, application) {
      const sql = admin();
      try {
        const rows = await sql<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
             AND (${application ?? null}::text IS NULL OR application_name = ${application ?? null})`;
        for (const { pid } of rows) process.kill(pid, signal);
        return rows.map((row) => row.pid);
      } finally {
        await sql.end();
      }
    },
    signalServer(signal) {
      const parent = postmasterPid();
      const children = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((line) => line.trim() !== '')
        .map(Number);
      // Stop the parent first (no new children), resume it last.
      const order = signal === 'SIGSTOP' ? [parent, ...children] : [...children, parent];
      for (const pid of order) {
        try {
          process.kill(pid, signal);
        } catch {
          // exited meanwhile
        }
      }
    },
    async terminate(application) {
      const sql = admin();
      try {
        const rows = await sql<{ n: number }[]>`
          SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE application_name = ${application} AND pid <> pg_backend_pid()`;
        return rows[0]?.n ?? 0;
      } finally {
        await sql.end();
      }
    },
  };
}
