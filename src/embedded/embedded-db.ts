import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, EmbeddedDbOptions, ParentMessage } from './embedded-db.protocol.js';

export interface EmbeddedDb {
  url: string;
  process: ChildProcess;
  /** Asks the database to close its files and waits for the process to exit. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

// The child runs from the same tree as this file: .ts under tsx, .js once compiled.
const childEntry = fileURLToPath(new URL(`./embedded-db.process${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Starts the embedded TimescaleDB in a child process and resolves once it accepts connections. */
export function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const child = fork(childEntry, [], {
    env: { ...process.env, EMBEDDED_DB_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const message: ParentMessage = { type: 'stop' };
    if (child.connected) child.send(message);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

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
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        const url = `postgres://postgres@${options.host}:${message.port}/postgres`;
        resolve({ url, process: child, stop });
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        child.off('exit', onExit);
        reject(new Error(`embedded database failed to start: ${message.message}`));
      }
    });
  });
}
