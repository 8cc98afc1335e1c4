import type { LockOwner } from './data-dir-lock.js';

/** Messages exchanged over IPC between the service and its embedded database process. */
export interface EmbeddedDbOptions {
  /** A directory for persistent data, or undefined for an in-memory database. */
  dataDir: string | undefined;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/**
 * `lock` comes with the data folder's lock socket as its handle (data-dir-lock.ts): the child
 * opens the folder only once it holds a copy, which keeps the folder locked until it exits.
 */
export type ParentMessage = { type: 'stop' } | { type: 'lock'; owner: LockOwner };

/** `lock-wanted`: the child listens for the lock now (a message sent before would be lost). */
export type ChildMessage =
  { type: 'lock-wanted' } | { type: 'ready'; port: number } | { type: 'failed'; message: string };
