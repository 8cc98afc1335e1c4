import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Logger } from '../logger.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { ChildMessage, EmbeddedDbOptions, ParentMessage } from './embedded-db.protocol.js';

export interface EmbeddedDb {
  /** Stable across restarts: a restarted database listens on the same port. */
  url: string;
  /** The current database process. */
  readonly process: ChildProcess;
  /**
   * Calls `listener` each time a new database process is up after the previous one died (its
   * clients' old connections are gone: see ReplaceablePool).
   */
  onRestarted(listener: () => void): void;
  /** Asks the database to close its files and waits for the process to exit. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;

// The child runs from the same tree as this file: .ts under tsx, .js once compiled.
const childEntry = fileURLToPath(
  new URL(`./embedded-db.process${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

function launch(
  options: EmbeddedDbOptions,
  lock: DataDirLock | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(childEntry, [], {
    env: { ...process.env, EMBEDDED_DB_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`embedded database did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`embedded database exited during start-up (code ${code}, signal ${signal})`));
    };
    child.once('exit', onExit);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'lock-wanted') {
        if (lock) child.send({ type: 'lock', owner: lock.owner } satisfies ParentMessage, lock.server);
        return;
      }
      clearTimeout(timer);
      child.off('exit', onExit);
      if (message.type === 'ready') resolve({ child, port: message.port });
      else reject(new Error(`embedded database failed to start: ${message.message}`));
    });
  });
}

/**
 * Starts the embedded TimescaleDB in a child process and resolves once it accepts
 * connections. With a data directory, the folder is locked first (DataDirInUseError when
 * another process has it, before anything in it is touched) and the database is supervised:
 * if its process dies, it is started again on the same port (with growing delays), and
 * clients reconnect.
 */
export async function startEmbeddedDb(options: EmbeddedDbOptions, logger?: Logger): Promise<EmbeddedDb> {
  const lock = options.dataDir === undefined ? undefined : await lockDataDir(options.dataDir);
  let launched;
  try {
    launched = await launch(options, lock);
  } catch (error) {
    await lock?.release();
    throw error;
  }
  let child = launched.child;
  const port = launched.port;
  const fixed: EmbeddedDbOptions = { ...options, port };
  let stopping = false;
  const restartListeners: (() => void)[] = [];

  const supervise = (current: ChildProcess) => {
    current.once('exit', (code, signal) => {
      if (stopping || options.dataDir === undefined) return;
      logger?.error('embedded database exited; restarting it', { code, signal });
      void restart(1000);
    });
  };
  // A restart under way when stop() is called: stop waits for it, so that no database process
  // outlives the lock.
  let relaunching: ReturnType<typeof launch> | undefined;
  const restart = async (delay: number): Promise<void> => {
    await new Promise((done) => setTimeout(done, delay));
    if (stopping) return;
    try {
      relaunching = launch(fixed, lock);
      ({ child } = await relaunching);
      supervise(child);
      logger?.info('embedded database restarted', { pid: child.pid });
      for (const listener of restartListeners) listener();
    } catch (error) {
      logger?.error('embedded database restart failed', { err: error });
      await restart(Math.min(delay * 2, MAX_RESTART_DELAY_MS));
    }
  };
  supervise(child);

  return {
    url: `postgres://postgres@${options.host}:${port}/postgres`,
    get process() {
      return child;
    },
    onRestarted: (listener) => {
      restartListeners.push(listener);
    },
    stop: async () => {
      stopping = true;
      await relaunching?.catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        const message: ParentMessage = { type: 'stop' };
        if (child.connected) child.send(message);
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      // Only now that the files are closed may another process have the folder.
      await lock?.release();
    },
  };
}
